"""Liveness and readiness."""


def test_healthz_answers_while_the_process_is_up(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_readyz_is_ok_with_database_reachable(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json()["checks"] == {"database": "ok"}


def test_readyz_reports_a_down_database_with_503(make_app):
    # Port 1 on loopback: nothing listens there, the connection is refused at once.
    app = make_app("postgresql://postgres@127.0.0.1:1/nowhere")
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"].startswith("unavailable")


def test_readyz_checks_redis_when_configured(make_app, database_url, redis_url, ctx):
    up = make_app(database_url, REDIS_URL=redis_url).test_client().get("/readyz")
    assert up.status_code == 200
    assert up.get_json()["checks"] == {"database": "ok", "redis": "ok"}
    down = make_app(database_url, REDIS_URL="redis://127.0.0.1:1/0").test_client().get("/readyz")
    assert down.status_code == 503
    assert down.get_json()["checks"]["redis"].startswith("unavailable")


def test_every_response_carries_a_request_id(client):
    assert len(client.get("/healthz").headers["X-Request-ID"]) == 32
    echoed = client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert echoed.headers["X-Request-ID"] == "abc-123"
    junk = client.get("/healthz", headers={"X-Request-ID": "<script>"})
    assert junk.headers["X-Request-ID"] != "<script>"
