"""Issue 17 item 5: the grant form offers only permissions that open something, each with a
human name; a helper whose permissions open no page is told what they hold."""

from app.services.access import GRANTABLE_PERMISSIONS, PERMISSION_LABELS, PERMISSIONS
from tests.integration.admin.conftest import TOTP_SECRET, make_helper, sign_in


def test_every_permission_has_a_human_name():
    assert set(PERMISSION_LABELS) == set(PERMISSIONS)
    assert PERMISSION_LABELS["payments.view"] == "See payments"
    assert PERMISSION_LABELS["payments.refund"] == "Refund payments"


def test_the_grant_form_offers_only_what_works_today_by_name(web, admin):
    helper = make_helper("payments.view")
    page = web.get(f"/admin/users/{helper.id}").get_data(as_text=True)
    # Every permission opens something now (reports.view: /admin/reports and the API).
    assert set(GRANTABLE_PERMISSIONS) == set(PERMISSIONS)
    assert 'value="reports.view"' in page
    assert "See payments" in page and "Refund payments" in page
    # bookings.* open the admin appointment pages (and the API's appointments).
    assert 'value="bookings.view"' in page and "See appointments (admin pages and the API)" in page


def test_an_unknown_permission_cannot_be_granted_from_the_form(web, admin):
    helper = make_helper()
    response = web.post(
        f"/admin/users/{helper.id}/permissions", data={"permissions": ["reports.edit"]}
    )
    assert response.status_code == 422


def test_a_helper_with_only_api_permissions_sees_what_they_hold(web):
    helper = make_helper("conversations.audit", totp_secret=TOTP_SECRET)
    sign_in(web, helper)
    page = web.get("/admin/").get_data(as_text=True)
    assert "No admin sections have been granted" in page
    assert "Open patient-doctor conversations" in page
