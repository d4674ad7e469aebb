"""Sign in with Google against a real OpenID provider: accounts created, linked and refused."""

from __future__ import annotations

from sqlalchemy import null, select

from app.extensions import db
from app.models import AuditLog, Role, User
from tests.factories import make_user
from tests.integration.google.conftest import (
    CALLBACK,
    callback_path,
    consent_at_provider,
    query_of,
)


def _start(client) -> str:
    response = client.get("/login/google")
    assert response.status_code == 302
    return response.headers["Location"]


def _sign_in_with_google(client, account: str = "alice"):
    return client.get(callback_path(consent_at_provider(_start(client), account)))


def _signed_in(client) -> bool:
    return "Sign out" in client.get("/").get_data(as_text=True)


def _assert_refused(client, response, reason: str | None = None) -> None:
    if reason is not None:
        [entry] = db.session.scalars(
            select(AuditLog).where(AuditLog.action == "auth.google_refused")
        )
        assert reason in entry.data["reason"], entry.data["reason"]
    assert response.status_code == 302
    assert response.headers["Location"] == "/login"
    page = client.get("/login").get_data(as_text=True)
    assert "Signing in with Google did not work" in page
    assert not _signed_in(client)


def _users() -> list[User]:
    return list(db.session.scalars(select(User)))


def test_authorization_request_uses_state_nonce_and_pkce_s256(google_client, oidc_provider):
    location = _start(google_client)
    assert location.startswith(f"{oidc_provider.issuer}/auth?")
    params = query_of(location)
    assert params["client_id"] == "carebook"
    assert params["redirect_uri"] == CALLBACK
    assert params["response_type"] == "code"
    assert set(params["scope"].split()) == {"openid", "email", "profile"}
    assert params["code_challenge_method"] == "S256"
    assert len(params["code_challenge"]) >= 43
    assert len(params["state"]) >= 20
    assert len(params["nonce"]) >= 20


def test_new_google_user_becomes_a_signed_in_patient(google_client):
    response = _sign_in_with_google(google_client)

    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    page = google_client.get("/").get_data(as_text=True)
    assert "Alice Liddell" in page and "Sign out" in page
    [user] = _users()
    assert (user.email, user.role, user.password_hash) == ("alice@example.org", Role.PATIENT, None)
    assert user.google_sub == "alice"
    assert user.patient_profile is not None


def test_returning_google_user_is_found_by_sub_not_duplicated(google_client):
    _sign_in_with_google(google_client)
    google_client.post("/logout")
    user = db.session.scalar(select(User))
    user.email = "alice.new@example.org"  # the sub, not the email, is the link
    db.session.commit()

    assert _sign_in_with_google(google_client).headers["Location"] == "/"

    assert _signed_in(google_client)
    assert [u.email for u in _users()] == ["alice.new@example.org"]


def test_existing_account_is_linked_only_after_its_password_is_given(google_client):
    make_user(Role.DOCTOR, email="alice@example.org", name="Dr Alice")

    response = _sign_in_with_google(google_client)

    assert response.status_code == 302
    assert response.headers["Location"] == "/login/google/link"
    assert not _signed_in(google_client)
    assert db.session.scalar(select(User)).google_sub is None
    page = google_client.get("/login/google/link").get_data(as_text=True)
    assert "alice@example.org" in page

    wrong = google_client.post("/login/google/link", data={"password": "not-it"})
    assert wrong.status_code == 401
    assert "Email or password is incorrect." in wrong.get_data(as_text=True)
    assert db.session.scalar(select(User)).google_sub is None
    assert not _signed_in(google_client)

    right = google_client.post("/login/google/link", data={"password": "correct-horse-battery"})
    assert right.status_code == 302
    assert right.headers["Location"] == "/doctor/"
    assert "Dr Alice" in google_client.get("/").get_data(as_text=True)
    user = db.session.scalar(select(User))
    assert (user.google_sub, user.role) == ("alice", Role.DOCTOR)
    assert db.session.scalar(select(AuditLog).where(AuditLog.action == "auth.google_linked"))

    google_client.post("/logout")
    assert _sign_in_with_google(google_client).headers["Location"] == "/doctor/"
    assert _signed_in(google_client)
    assert len(_users()) == 1


def test_an_unconfirmed_registration_of_the_address_is_claimed_by_google(google_client):
    """Someone registered alice's address with their own password and never confirmed it:
    Google proves the inbox, so alice gets the account and the stranger's password is gone."""
    make_user(Role.PATIENT, email="alice@example.org", email_verified_at=null())

    response = _sign_in_with_google(google_client)

    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert _signed_in(google_client)
    [user] = _users()
    assert user.google_sub == "alice" and user.password_hash is None
    assert user.email_verified_at is not None


def test_link_page_without_a_pending_link_goes_to_sign_in(google_client):
    response = google_client.post("/login/google/link", data={"password": "whatever"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/login"


def test_unverified_provider_email_neither_creates_nor_links(google_client):
    make_user(Role.PATIENT, email="mallory@example.org")

    response = _sign_in_with_google(google_client, account="mallory")

    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert "has not verified the email" in google_client.get("/login").get_data(as_text=True)
    assert not _signed_in(google_client)
    assert [u.google_sub for u in _users()] == [None]


def test_deactivated_account_cannot_sign_in_with_google(google_client):
    make_user(Role.PATIENT, email="other@example.org", google_sub="alice", is_active=False)

    response = _sign_in_with_google(google_client)

    assert response.headers["Location"] == "/login"
    assert "deactivated" in google_client.get("/login").get_data(as_text=True)
    assert not _signed_in(google_client)


def test_callback_with_a_wrong_state_is_refused(google_client):
    redirect = consent_at_provider(_start(google_client))
    params = query_of(redirect)

    response = google_client.get(
        "/login/google/callback", query_string={**params, "state": params["state"][:-2] + "xx"}
    )

    _assert_refused(google_client, response, "MismatchingStateError")
    assert _users() == []


def test_callback_replayed_in_another_browser_is_refused(google_app, google_client):
    redirect = consent_at_provider(_start(google_client))

    other_browser = google_app.test_client()
    response = other_browser.get(callback_path(redirect))

    _assert_refused(other_browser, response, "MismatchingStateError")
    assert _users() == []


def test_provider_error_is_refused(google_client):
    state = query_of(_start(google_client))["state"]
    response = google_client.get(
        "/login/google/callback", query_string={"state": state, "error": "access_denied"}
    )
    _assert_refused(google_client, response, "access_denied")


def _refused_with_tampered_id_token(google_client, oidc_provider, reason, **claims) -> None:
    redirect = consent_at_provider(_start(google_client))
    oidc_provider.tamper_next_id_token(**claims)

    response = google_client.get(callback_path(redirect))

    _assert_refused(google_client, response, reason)
    assert _users() == []


def test_id_token_with_a_wrong_nonce_is_refused(google_client, oidc_provider):
    _refused_with_tampered_id_token(google_client, oidc_provider, "'nonce'", nonce="not-the-nonce")


def test_id_token_from_another_issuer_is_refused(google_client, oidc_provider):
    _refused_with_tampered_id_token(
        google_client, oidc_provider, "'iss'", iss="https://accounts.example.net"
    )


def test_id_token_for_another_client_is_refused(google_client, oidc_provider):
    _refused_with_tampered_id_token(
        google_client, oidc_provider, "'aud'", aud="other-app", azp="other-app"
    )


def test_id_token_naming_carebook_only_as_authorized_party_is_refused(google_client, oidc_provider):
    """Authlib alone lets this one through (it checks `aud` only via `azp`)."""
    _refused_with_tampered_id_token(
        google_client, oidc_provider, "'aud'", aud="other-app", azp="carebook"
    )


def test_expired_id_token_is_refused(google_client, oidc_provider):
    _refused_with_tampered_id_token(google_client, oidc_provider, "expired", exp=1_000_000_000)


def test_discovery_naming_another_issuer_is_refused(
    make_app, database_url, app, ctx, oidc_provider
):
    """An app whose discovery document says the issuer is someone else: the provider's real
    ID tokens (iss = the local provider) do not match it."""
    import http.server
    import json
    import threading

    import requests

    document = requests.get(oidc_provider.discovery_url, timeout=5).json()
    document["issuer"] = "https://accounts.example.net"
    body = json.dumps(document).encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        liar = make_app(
            database_url,
            GOOGLE_CLIENT_ID="carebook",
            GOOGLE_CLIENT_SECRET="carebook-test-client-secret",
            GOOGLE_DISCOVERY_URL=f"http://127.0.0.1:{server.server_address[1]}/",
        )
        client = liar.test_client()
        redirect = consent_at_provider(_start(client))
        response = client.get(callback_path(redirect))
        _assert_refused(client, response, "'iss'")
        assert _users() == []
    finally:
        server.shutdown()
        server.server_close()


def test_without_client_id_the_button_is_hidden_and_the_routes_are_404(client, google_client):
    assert "Sign in with Google" not in client.get("/login").get_data(as_text=True)
    for path in ("/login/google", "/login/google/callback", "/login/google/link"):
        assert client.get(path).status_code == 404
    assert "Sign in with Google" in google_client.get("/login").get_data(as_text=True)
