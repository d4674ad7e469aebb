"""Admin pages for people: staff accounts, search, roles, permissions, deactivation."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlsplit

from sqlalchemy import select

from app.extensions import db
from app.models import AuditLog, Doctor, Role, User
from app.services.accounts.tokens import issue_token
from tests.conftest import TEST_SECRET_KEY
from tests.factories import PASSWORD, make_clinic, make_user
from tests.integration.admin.conftest import make_helper, sign_in


def _audit(action: str) -> list[AuditLog]:
    return list(db.session.scalars(select(AuditLog).where(AuditLog.action == action)))


def _user(email: str) -> User:
    return db.session.scalar(select(User).where(User.email == email))


def test_admin_creates_a_doctor_without_password_and_a_set_password_link_is_emailed(
    web, admin, inbox, admin_app
):
    clinic = make_clinic(name="Harbour Clinic", currency="GBP", timezone="Europe/London")
    assert "Harbour Clinic" in web.get("/admin/users/new").get_data(as_text=True)

    response = web.post(
        "/admin/users/new",
        data={
            "role": "doctor",
            "name": "Dr Grace Hopper",
            "email": "Grace@Example.com",
            "phone": "+442071838750",
            "clinic_id": str(clinic.id),
        },
    )

    doctor_user = _user("grace@example.com")
    assert response.status_code == 302
    assert doctor_user.role is Role.DOCTOR
    assert doctor_user.password_hash is None and doctor_user.must_change_password
    profile = db.session.scalar(select(Doctor).where(Doctor.user_id == doctor_user.id))
    # Creating a doctor continues to their profile (issue 17 item 15).
    assert response.headers["Location"] == f"/admin/doctors/{profile.id}/edit"
    assert (profile.clinic_id, profile.fee_currency) == (clinic.id, "GBP")
    [entry] = _audit("admin.user_created")
    assert (entry.actor_id, entry.target_id, entry.ip) == (
        admin.id,
        str(doctor_user.id),
        "127.0.0.1",
    )
    page = web.get(response.headers["Location"]).get_data(as_text=True)
    assert "A link to set a password was emailed to grace@example.com" in page

    link = inbox.last_link("grace@example.com")
    parts = urlsplit(link)
    owner = admin_app.test_client()
    assert owner.get(f"{parts.path}?{parts.query}").status_code == 200


def test_duplicate_or_malformed_email_is_a_form_error(web, admin):
    make_user(Role.PATIENT, email="taken@example.com")
    taken = web.post(
        "/admin/users/new", data={"role": "helper", "name": "X", "email": "taken@example.com"}
    )
    assert taken.status_code == 409
    assert "already exists" in taken.get_data(as_text=True)
    bad = web.post("/admin/users/new", data={"role": "helper", "name": "X", "email": "nope@"})
    assert bad.status_code == 422
    not_staff = web.post(
        "/admin/users/new", data={"role": "admin", "name": "X", "email": "x@example.com"}
    )
    assert not_staff.status_code == 422
    assert _user("x@example.com") is None


def test_users_are_searched_by_name_email_and_role(web, admin):
    make_user(Role.PATIENT, email="zoe@example.com", name="Zoë Quinn")
    make_user(Role.DOCTOR, email="house@example.com", name="Gregory House")
    make_user(Role.PATIENT, email="100%_sure@example.com", name="Percent")

    def names(**query) -> str:
        return web.get("/admin/users", query_string=query).get_data(as_text=True)

    assert "Zoë Quinn" in names(q="quinn") and "Gregory House" not in names(q="quinn")
    assert "Gregory House" in names(q="HOUSE@") and "Zoë Quinn" not in names(q="house@")
    by_role = names(role="doctor")
    assert "Gregory House" in by_role and "Zoë Quinn" not in by_role
    assert "Percent" in names(q="100%_") and "Zoë Quinn" not in names(q="%")
    assert web.get("/admin/users?page=abc").status_code == 422
    assert web.get("/admin/users?role=wizard").status_code == 422


def test_deactivation_ends_sessions_and_api_tokens_and_reactivation_restores_sign_in(
    web, admin, admin_app
):
    patient = make_user(Role.PATIENT, email="pat@example.com", name="Pat")
    browser = admin_app.test_client()
    sign_in(browser, patient)
    assert "Sign out" in browser.get("/").get_data(as_text=True)
    token = issue_token(patient, secret_key=TEST_SECRET_KEY, ttl_seconds=600, now=datetime.now(UTC))
    bearer = {"Authorization": f"Bearer {token}"}
    assert browser.get("/api/v1/me", headers=bearer).status_code == 200

    response = web.post(f"/admin/users/{patient.id}/deactivate")

    assert response.status_code == 302
    assert "Sign out" not in browser.get("/").get_data(as_text=True)
    assert browser.get("/api/v1/me", headers=bearer).status_code == 401
    assert not _user("pat@example.com").is_active
    [entry] = _audit("account.deactivated")
    assert (entry.actor_id, entry.ip) == (admin.id, "127.0.0.1")

    assert web.post(f"/admin/users/{patient.id}/reactivate").status_code == 302
    assert _user("pat@example.com").is_active
    sign_in(browser, patient)
    assert "Sign out" in browser.get("/").get_data(as_text=True)


def test_an_account_its_owner_deleted_cannot_be_reactivated(web, admin, admin_app):
    patient = make_user(Role.PATIENT, email="pat@example.com", name="Pat")
    owner = admin_app.test_client()
    token = owner.post(
        "/api/v1/auth/token", json={"email": "pat@example.com", "password": PASSWORD}
    ).get_json()["access_token"]
    deleted = owner.post(
        "/api/v1/me/delete",
        json={"password": PASSWORD},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert deleted.status_code == 200

    response = web.post(f"/admin/users/{patient.id}/reactivate")

    assert response.status_code == 302
    page = web.get(response.headers["Location"]).get_data(as_text=True)
    assert "deleted by its owner" in page
    db.session.expire_all()
    assert not db.session.get(User, patient.id).is_active
    assert _audit("account.activated") == []


def test_an_admin_cannot_deactivate_or_demote_themself(web, admin):
    assert web.post(f"/admin/users/{admin.id}/deactivate").status_code == 403
    assert web.post(f"/admin/users/{admin.id}/role", data={"role": "patient"}).status_code == 403
    assert _user("ada@example.com").is_active and _user("ada@example.com").role is Role.ADMIN


def test_changing_a_role_creates_the_profile_it_needs_and_drops_helper_permissions(web, admin):
    helper = make_helper("bookings.view", email="hal@example.com")

    response = web.post(f"/admin/users/{helper.id}/role", data={"role": "doctor"})

    assert response.status_code == 302
    user = _user("hal@example.com")
    assert user.role is Role.DOCTOR and user.permission_names == set()
    assert db.session.scalar(select(Doctor).where(Doctor.user_id == user.id)) is not None
    [entry] = _audit("admin.user_role_changed")
    assert entry.data == {"from": "helper", "to": "doctor"} and entry.actor_id == admin.id


def test_admin_sets_a_helpers_permissions_from_the_known_list(web, admin):
    helper = make_helper("bookings.view", email="hal@example.com")

    response = web.post(
        f"/admin/users/{helper.id}/permissions",
        data={"permissions": ["doctors.manage", "payments.view"]},
    )

    assert response.status_code == 302
    assert _user("hal@example.com").permission_names == {"doctors.manage", "payments.view"}
    [entry] = _audit("admin.user_permissions_changed")
    assert entry.data == {
        "granted": ["doctors.manage", "payments.view"],
        "revoked": ["bookings.view"],
    }
    unknown = web.post(f"/admin/users/{helper.id}/permissions", data={"permissions": ["root"]})
    assert unknown.status_code == 422
    patient = make_user(Role.PATIENT)
    not_helper = web.post(
        f"/admin/users/{patient.id}/permissions", data={"permissions": ["bookings.view"]}
    )
    assert not_helper.status_code == 422


def test_a_helper_with_users_manage_cannot_escalate(web, admin_app):
    manager = make_helper("users.manage", email="manager@example.com")
    other = make_helper("bookings.view", email="other@example.com")
    boss = make_user(Role.ADMIN, email="boss@example.com")
    sign_in(web, manager)

    assert web.post(f"/admin/users/{other.id}/role", data={"role": "admin"}).status_code == 403
    refund = web.post(
        f"/admin/users/{other.id}/permissions", data={"permissions": ["payments.refund"]}
    )
    assert refund.status_code == 403
    assert web.post(f"/admin/users/{boss.id}/deactivate").status_code == 403
    assert web.post(f"/admin/users/{manager.id}/permissions", data={}).status_code == 403
    assert _user("other@example.com").permission_names == {"bookings.view"}
    assert _user("boss@example.com").is_active

    granted = web.post(
        f"/admin/users/{other.id}/permissions",
        data={"permissions": ["bookings.view", "users.manage"]},
    )
    assert granted.status_code == 302


def test_admin_pages_are_closed_to_helpers_without_the_permission(web):
    helper = make_helper("conversations.audit")
    sign_in(web, helper)
    assert web.get("/admin/users").status_code == 403
    assert web.get("/admin/").status_code == 200
    assert "No admin sections" in web.get("/admin/").get_data(as_text=True)
    assert "Admin" not in web.get("/").get_data(as_text=True).split("<main")[0]


def test_navigation_shows_admin_to_admins_and_permitted_helpers(web, admin_app):
    admin_nav = web.get("/")
    assert ">Admin<" not in admin_nav.get_data(as_text=True)
    admin = make_user(Role.ADMIN, totp_secret="RCIAOKCLVDTRMDPLQUUOEMZFIU4M36SO")
    sign_in(web, admin)
    assert ">Admin<" in web.get("/").get_data(as_text=True)
    helper_browser = admin_app.test_client()
    sign_in(helper_browser, make_helper("reviews.moderate"))
    page = helper_browser.get("/").get_data(as_text=True)
    assert ">Admin<" in page
    # A helper with one section lands straight on it.
    assert helper_browser.get("/admin/").headers["Location"] == "/admin/reviews"
