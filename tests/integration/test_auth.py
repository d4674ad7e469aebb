"""Signing in and out with email and password on the pages."""

from sqlalchemy import select

from app.extensions import db
from app.models import AuditLog, Role
from tests.factories import make_doctor, make_user


def test_sign_in_with_good_password_lands_on_home_signed_in(client, auth):
    make_user(Role.PATIENT, email="ana@example.com", name="Ana Lima")
    response = auth.login("ana@example.com")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    page = client.get("/").get_data(as_text=True)
    assert "Ana Lima" in page
    assert "Sign out" in page


def test_each_role_lands_on_its_own_home(client, auth):
    doctor = make_doctor()
    assert auth.login(doctor.user.email).headers["Location"] == "/doctor/"
    assert client.get("/login").headers["Location"] == "/doctor/"  # signed in already
    auth.logout()
    helper = make_user(Role.HELPER, email="helper@example.com")
    assert auth.login(helper.email).headers["Location"] == "/admin/"
    auth.logout()
    # an asked-for page still wins over the home
    response = client.post(
        "/login?next=/appointments",
        data={"email": doctor.user.email, "password": "correct-horse-battery"},
    )
    assert response.headers["Location"] == "/appointments"


def test_email_is_matched_case_insensitively(client, auth):
    make_user(Role.PATIENT, email="ana@example.com")
    assert auth.login("  ANA@Example.com ").status_code == 302


def test_wrong_password_and_unknown_email_get_the_same_form_error(client, auth):
    make_user(Role.PATIENT, email="ana@example.com")
    wrong = auth.login("ana@example.com", "not-the-password")
    unknown = auth.login("nobody@example.com", "not-the-password")
    for response in (wrong, unknown):
        assert response.status_code == 401
        assert "Email or password is incorrect." in response.get_data(as_text=True)
    assert "Sign out" not in client.get("/").get_data(as_text=True)


def test_deactivated_account_cannot_sign_in(client, auth):
    make_user(Role.PATIENT, email="gone@example.com", is_active=False)
    response = auth.login("gone@example.com")
    assert response.status_code == 403
    assert "deactivated" in response.get_data(as_text=True)


def test_empty_form_is_a_form_error_not_a_crash(client):
    response = client.post("/login", data={})
    assert response.status_code == 422
    assert "This field is required." in response.get_data(as_text=True)


def test_sign_out_ends_the_session(client, auth):
    make_user(Role.PATIENT, email="ana@example.com")
    auth.login("ana@example.com")
    response = auth.logout()
    assert response.status_code == 302
    assert "Sign out" not in client.get("/").get_data(as_text=True)


def test_sign_out_is_post_only(client, auth):
    make_user(Role.PATIENT, email="ana@example.com")
    auth.login("ana@example.com")
    assert client.get("/logout").status_code == 405
    assert "Sign out" in client.get("/").get_data(as_text=True)


def test_deactivating_a_signed_in_user_ends_their_session(client, auth):
    user = make_user(Role.PATIENT, email="ana@example.com")
    auth.login("ana@example.com")
    user.is_active = False
    db.session.commit()
    assert "Sign out" not in client.get("/").get_data(as_text=True)


def test_next_parameter_only_follows_local_paths(client, auth):
    make_user(Role.PATIENT, email="ana@example.com")
    response = client.post(
        "/login?next=//evil.example.com/x",
        data={"email": "ana@example.com", "password": "correct-horse-battery"},
    )
    assert response.headers["Location"] == "/"
    auth.logout()
    response = client.post(
        "/login?next=/healthz",
        data={"email": "ana@example.com", "password": "correct-horse-battery"},
    )
    assert response.headers["Location"] == "/healthz"


def test_sign_ins_and_failures_are_audited(client, auth):
    user = make_user(Role.PATIENT, email="ana@example.com")
    auth.login("ana@example.com", "wrong-password")
    auth.login("ana@example.com")
    actions = list(db.session.scalars(select(AuditLog.action).order_by(AuditLog.id)))
    assert actions == ["auth.sign_in_failed", "auth.sign_in"]
    entry = db.session.scalars(select(AuditLog).where(AuditLog.action == "auth.sign_in")).one()
    assert entry.actor_id == user.id
    assert entry.ip == "127.0.0.1"


def test_sign_in_form_without_csrf_token_is_refused(make_app, database_url, ctx):
    app = make_app(database_url, WTF_CSRF_ENABLED=True)
    make_user(Role.PATIENT, email="ana@example.com")
    client = app.test_client()
    response = client.post(
        "/login", data={"email": "ana@example.com", "password": "correct-horse-battery"}
    )
    assert response.status_code == 400
    assert "CSRF" in response.get_data(as_text=True)


def test_role_aware_navigation(client, auth):
    make_user(Role.PATIENT, email="pat@example.com")
    auth.login("pat@example.com")
    page = client.get("/").get_data(as_text=True)
    assert "Find a doctor" in page
    assert "patient" in page
