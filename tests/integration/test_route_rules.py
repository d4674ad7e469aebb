"""Every route declares who may use it (a decorator from app/rbac.py)."""

# Routes that Flask and flask-smorest add themselves: static files and the OpenAPI document.
FRAMEWORK_ENDPOINTS = {"static", "api-docs.openapi_json"}


def test_every_route_declares_an_access_rule(app):
    undeclared = sorted(
        f"{rule.rule} ({rule.endpoint})"
        for rule in app.url_map.iter_rules()
        if rule.endpoint not in FRAMEWORK_ENDPOINTS
        and not hasattr(app.view_functions[rule.endpoint], "access_rule")
    )
    assert undeclared == []
