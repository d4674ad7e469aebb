"""The OpenAPI document of API v1 (tests/integration/test_route_rules.py audits access rules)."""

import re

import pytest

EXPECTED = {
    ("/api/v1/specialties", "get"),
    ("/api/v1/clinics", "get"),
    ("/api/v1/doctors", "get"),
    ("/api/v1/doctors/{doctor_id}", "get"),
    ("/api/v1/doctors/{doctor_id}/slots", "get"),
    ("/api/v1/doctors/{doctor_id}/slots", "post"),
    ("/api/v1/doctors/{doctor_id}/slots/bulk", "post"),
    ("/api/v1/doctors/{doctor_id}/waitlist", "post"),
    ("/api/v1/slots/{slot_id}", "patch"),
    ("/api/v1/slots/{slot_id}", "delete"),
    ("/api/v1/slots/{slot_id}/block", "post"),
    ("/api/v1/slots/{slot_id}/unblock", "post"),
    ("/api/v1/appointments", "get"),
    ("/api/v1/appointments", "post"),
    ("/api/v1/appointments/{appointment_id}", "get"),
    ("/api/v1/appointments/{appointment_id}/cancel", "post"),
    ("/api/v1/appointments/{appointment_id}/reschedule", "post"),
    ("/api/v1/appointments/{appointment_id}/approve", "post"),
    ("/api/v1/appointments/{appointment_id}/reject", "post"),
    ("/api/v1/appointments/{appointment_id}/complete", "post"),
    ("/api/v1/appointments/{appointment_id}/no-show", "post"),
    ("/api/v1/notifications", "get"),
    ("/api/v1/notifications/{notification_id}/read", "post"),
    ("/api/v1/notifications/read-all", "post"),
}


@pytest.fixture
def spec(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.get_json()


def test_openapi_document_lists_the_v1_endpoints(spec):
    listed = {(path, method) for path, ops in spec["paths"].items() for method in ops}
    assert EXPECTED - listed == set()


def test_openapi_marks_token_endpoints_and_leaves_public_ones_open(spec):
    paths = spec["paths"]
    assert paths["/api/v1/appointments"]["post"]["security"] == [{"bearerAuth": []}]
    assert paths["/api/v1/slots/{slot_id}"]["delete"]["security"] == [{"bearerAuth": []}]
    assert "security" not in paths["/api/v1/doctors"]["get"]


def test_openapi_describes_request_and_response_bodies(spec):
    schemas = spec["components"]["schemas"]
    assert {"slot_id", "payment_method", "notes"} <= set(schemas["Booking"]["properties"])
    assert {"id", "status", "actions", "fee", "clinic"} <= set(schemas["Appointment"]["properties"])
    assert schemas["SlotCreate"]["required"] == ["end", "start"]


def test_openapi_describes_doctor_languages_photo_and_sort(spec):
    doctor = spec["components"]["schemas"]["Doctor"]["properties"]
    assert doctor["languages"]["type"] == "array"
    assert doctor["photo_url"]["type"] == "string"
    assert doctor["photo_url"]["format"] == "uri"
    params = {p["name"]: p for p in spec["paths"]["/api/v1/doctors"]["get"]["parameters"]}
    assert params["sort"]["schema"]["enum"] == [
        "relevance",
        "price",
        "price_desc",
        "earliest",
        "rating",
    ]
    assert "es" in params["language"]["schema"]["enum"]


def test_every_operation_behind_a_token_declares_bearer_security(app, spec):
    """What Swagger UI's "Authorize" relies on: it sends the token only where `security`
    says so."""
    methods = {"get", "post", "put", "patch", "delete"}
    rules = {}
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/"):
            continue
        path = re.sub(r"<(?:[^:<>]+:)?(\w+)>", r"{\1}", rule.rule)
        rule_of = getattr(app.view_functions[rule.endpoint], "access_rule", None)
        for method in rule.methods & {m.upper() for m in methods}:
            rules[(path, method.lower())] = rule_of
    unmarked = [
        (path, method)
        for path, ops in spec["paths"].items()
        for method, op in ops.items()
        if method in methods and rules.get((path, method)) != "public" and "security" not in op
    ]
    assert unmarked == []
    assert spec["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
    }


def test_docs_page_is_served_with_the_strict_policy(client):
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'data-spec-url="/api/v1/openapi.json"' in page
    assert "<script>" not in page  # the setup is static/js/api-docs.js
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    for asset in (
        "/static/vendor/swagger-ui/swagger-ui-bundle.js",
        "/static/vendor/swagger-ui/swagger-ui.css",
        "/static/js/api-docs.js",
    ):
        assert asset in page
        asset_response = client.get(asset)
        assert asset_response.status_code == 200
        asset_response.close()


def _operations(spec):
    methods = {"get", "post", "put", "patch", "delete"}
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            if method in methods:
                yield path, method, op


def test_errors_are_documented_status_by_status_with_the_error_shape(spec):
    """No catch-all `default`: a client (and the fuzzer) can tell a documented 409 from a
    surprise, and every error answer is the API's `{"error": {...}}`."""
    for path, method, op in _operations(spec):
        responses = op["responses"]
        assert "default" not in responses, (path, method)
        if "security" in op:
            assert {"401", "403"} <= set(responses), (path, method)
        if "{" in path:
            assert "404" in responses, (path, method)
        if method in ("post", "patch"):
            assert "415" in responses, (path, method)
        for status, response in responses.items():
            if status >= "400" and "$ref" not in response:
                schema = response["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/Error"}, (path, method, status)


def test_path_ids_are_documented_as_positive_integers(spec):
    params = spec["paths"]["/api/v1/slots/{slot_id}"]["parameters"]
    assert params[0]["schema"] == {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}


def test_an_out_of_range_id_is_a_404_for_every_method_of_the_path(client):
    """Werkzeug's own range check answered 405 for the second method of a shared path."""
    big = 2**31
    for method, path in (
        ("get", f"/api/v1/doctors/{big}/slots"),
        ("post", f"/api/v1/doctors/{big}/slots"),
        ("patch", f"/api/v1/slots/{big}"),
        ("delete", f"/api/v1/slots/{big}"),
        ("delete", "/api/v1/slots/0"),
    ):
        response = getattr(client, method)(path)
        assert response.status_code == 404, (method, path)
        assert response.get_json()["error"]["code"] == "not_found"


def test_answers_naming_a_resource_link_to_the_operations_on_it(spec):
    links = spec["paths"]["/api/v1/appointments"]["get"]["responses"]["200"]["links"]
    cancel = links["POST_appointments_cancel"]
    assert (
        cancel["operationRef"] == "#/paths/~1api~1v1~1appointments~1{appointment_id}~1cancel/post"
    )
    assert cancel["parameters"] == {"appointment_id": "$response.body#/items/0/id"}
    slots = spec["paths"]["/api/v1/doctors/{doctor_id}/slots"]["get"]["responses"]["200"]["links"]
    assert slots["POST_appointments"]["requestBody"]["slot_id"] == "$response.body#/items/0/id"
    # Every link names an operation that exists, and each of its path parameters.
    refs = {f"#/paths/{p.replace('/', '~1')}/{m}": p for p, m, _ in _operations(spec)}
    for _, _, op in _operations(spec):
        for response in op["responses"].values():
            for link in response.get("links", {}).values():
                target = refs[link["operationRef"]]
                assert set(re.findall(r"{(\w+)}", target)) <= set(link.get("parameters", {}))


def test_a_token_is_asked_for_before_the_body_is_read(client):
    response = client.post("/api/v1/doctors/1/slots/bulk", json={"weekdays": "nonsense"})
    assert response.status_code == 401
