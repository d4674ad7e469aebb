"""Issue 17 item 15 (auth parts): every registration error at once, input kept on a 429 page,
"already used" for a replayed 2FA code, the site's own 403/404 pages (JSON under /api/
unchanged), signed in after a set-password link, and "Skip for now" for the phone."""

from datetime import UTC, datetime

import pyotp
from sqlalchemy import select

from app.extensions import db
from app.models import Role, User
from app.services.accounts import accounts, passwords
from tests.factories import PASSWORD, make_user

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def _text(response) -> str:
    return response.get_data(as_text=True)


def test_registration_shows_every_field_error_at_once(web):
    response = web.post(
        "/register",
        data={"name": "", "email": "not-an-address", "phone": "123", "password": "short"},
    )
    assert response.status_code == 422
    page = _text(response)
    assert "This field is required." in page  # name, and the repeated password
    assert "Invalid email address" in page
    assert "international form" in page
    assert page.count('class="field-error"') == 5  # name, email, phone, password, repeat


def test_the_service_reports_every_registration_problem():
    problems = accounts.registration_problems(name=" ", email="x", phone="12", password="abc")
    assert list(problems) == ["name", "email", "phone", "password"]


def test_a_rate_limited_form_keeps_what_was_typed(limited_app):
    client = limited_app.test_client()
    data = {"name": "Ana Lima", "email": "bad", "phone": "+14155550123", "password": "secret-pw"}
    for _ in range(5):
        client.post("/register", data=data)
    response = client.post("/register", data=data)
    assert response.status_code == 429
    page = _text(response)
    assert "Too many attempts" in page
    assert 'name="name" value="Ana Lima"' in page
    assert 'name="phone" value="+14155550123"' in page
    assert "secret-pw" not in page  # secrets are typed again
    assert 'action="/register"' in page


def test_a_reused_2fa_code_is_called_already_used(app, web):
    make_user(Role.PATIENT, email="ana@example.com", totp_secret=SECRET)
    code = pyotp.TOTP(SECRET).now()
    web.post("/login", data={"email": "ana@example.com", "password": PASSWORD})
    assert web.post("/login/2fa", data={"code": code}).status_code == 302
    other = app.test_client()
    other.post("/login", data={"email": "ana@example.com", "password": PASSWORD})
    response = other.post("/login/2fa", data={"code": code})
    assert response.status_code == 401
    assert "already used" in _text(response)
    assert "not valid" not in _text(response)


def test_403_and_404_are_the_sites_own_pages_and_json_under_api(web):
    missing = web.get("/no-such-page")
    assert missing.status_code == 404
    page = _text(missing)
    assert "<h1>Page not found</h1>" in page and 'class="site"' in page
    assert "requested URL was not found on the server" not in page  # Werkzeug's text
    make_user(Role.PATIENT, email="ana@example.com")
    web.post("/login", data={"email": "ana@example.com", "password": PASSWORD})
    forbidden = web.get("/admin/users")
    assert forbidden.status_code == 403
    assert "You do not have access to this page" in _text(forbidden)
    assert "read-protected" not in _text(forbidden)
    api = web.get("/api/v1/no-such-thing")
    assert api.status_code == 404
    assert api.get_json()["error"]["code"] == "not_found"


def test_setting_a_password_from_the_link_signs_the_person_in(mail_app, web, inbox):
    admin = make_user(Role.ADMIN)
    with mail_app.app_context():
        user = accounts.create_user(email="new@example.com", role="doctor", password=None)
        passwords.send_set_password_link(user.id, now=datetime.now(UTC), actor_id=admin.id)
        db.session.remove()
    link = inbox.last_link("new@example.com")
    token = link.split("token=", 1)[1]
    response = web.post(
        "/password/set",
        data={"token": token, "password": "a-new-password", "confirm": "a-new-password"},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/doctor/"
    assert "Sign out" in _text(web.get("/"))


def test_the_phone_step_can_be_skipped_leaving_the_phone_unconfirmed(web):
    make_user(Role.PATIENT, email="ana@example.com", phone="+14155550123")
    web.post("/login", data={"email": "ana@example.com", "password": PASSWORD})
    page = _text(web.get("/account/verify"))
    assert 'data-testid="skip-phone"' in page and "Skip for now" in page
    user = db.session.scalar(select(User).where(User.email == "ana@example.com"))
    assert user.phone_verified_at is None
