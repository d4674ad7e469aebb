"""Who sees which reports, over the API and on the pages; filters, group_by and CSV."""

from __future__ import annotations

import csv
import io

import pytest

from app.models import Role
from app.services.reports.csvsafe import csv_safe
from tests.factories import PASSWORD, make_doctor, make_user
from tests.integration.admin.conftest import TOTP_SECRET, make_admin, make_helper, sign_in
from tests.integration.api.helpers import assert_error
from tests.integration.reports.builders import at, june, visit

URL = "/api/v1/reports/bookings"
JUNE = "from=2031-05-31&to=2031-06-30"


@pytest.fixture
def bearer_for():
    from datetime import UTC, datetime

    from app.services.accounts.tokens import issue_token
    from tests.conftest import TEST_SECRET_KEY

    def headers(user) -> dict:
        token = issue_token(
            user, secret_key=TEST_SECRET_KEY, ttl_seconds=3600, now=datetime.now(UTC)
        )
        return {"Authorization": f"Bearer {token}"}

    return headers


def _by_period(response) -> dict:
    assert response.status_code == 200, response.get_data(as_text=True)
    return {item["period"]: item for item in response.get_json()["items"]}


def test_a_doctor_gets_their_own_bookings_only(client, bearer_for):
    month = june()
    items = _by_period(client.get(f"{URL}?{JUNE}", headers=bearer_for(month.doctor.user)))
    assert len(items) == 31
    tenth = items["2031-06-10"]
    assert {k: tenth[k] for k in ("booked", "completed", "cancelled", "no_show")} == {
        "booked": 3, "completed": 1, "cancelled": 1, "no_show": 1,
    }  # fmt: skip
    # The other doctor's two visits on 10 June (London) are not there.
    assert sum(i["booked"] for i in items.values()) == 6
    # Naming themself is fine; naming another doctor is refused.
    own = client.get(
        f"{URL}?{JUNE}&doctor_id={month.doctor.id}", headers=bearer_for(month.doctor.user)
    )
    assert own.status_code == 200
    other = client.get(
        f"{URL}?{JUNE}&doctor_id={month.other.id}", headers=bearer_for(month.doctor.user)
    )
    assert_error(other, 403, "forbidden")


def test_patients_and_helpers_without_reports_view_are_refused(client, bearer_for):
    june()
    patient = make_user(Role.PATIENT)
    assert_error(client.get(f"{URL}?{JUNE}", headers=bearer_for(patient)), 403)
    helper = make_helper("payments.view", totp_secret=TOTP_SECRET)
    assert_error(client.get(f"{URL}?{JUNE}", headers=bearer_for(helper)), 403)
    assert_error(client.get(f"{URL}?{JUNE}"), 401)


def test_staff_with_reports_view_filter_by_clinic_and_doctor(client, bearer_for):
    month = june()
    helper = make_helper("reports.view", totp_secret=TOTP_SECRET)
    everyone = _by_period(client.get(f"{URL}?{JUNE}", headers=bearer_for(helper)))
    assert sum(i["booked"] for i in everyone.values()) == 8
    clinic = _by_period(
        client.get(f"{URL}?{JUNE}&clinic_id={month.other.clinic_id}", headers=bearer_for(helper))
    )
    assert sum(i["booked"] for i in clinic.values()) == 2
    doctor = _by_period(
        client.get(f"{URL}?{JUNE}&doctor_id={month.doctor.id}", headers=bearer_for(helper))
    )
    assert sum(i["booked"] for i in doctor.values()) == 6
    admin = make_admin()
    weekly = _by_period(client.get(f"{URL}?{JUNE}&group_by=week", headers=bearer_for(admin)))
    assert list(weekly) == [
        "2031-05-26",
        "2031-06-02",
        "2031-06-09",
        "2031-06-16",
        "2031-06-23",
        "2031-06-30",
    ]
    assert weekly["2031-06-09"]["booked"] == 7
    missing = client.get(f"{URL}?{JUNE}&clinic_id=999999", headers=bearer_for(admin))
    assert_error(missing, 404, "clinic_not_found")


@pytest.mark.parametrize(
    "query",
    [
        "from=2031-02-30",
        "from=2031-06-10&to=2031-06-01",
        "from=2029-01-01&to=2031-01-01",
        "group_by=hour",
        "clinic_id=abc",
        "format=xml",
    ],
)
def test_bad_parameters_are_a_json_422(client, bearer_for, query):
    admin = make_admin()
    error = assert_error(client.get(f"{URL}?{query}", headers=bearer_for(admin)), 422)
    assert error["code"] == "invalid_input"


def test_the_same_as_csv(client, bearer_for):
    month = june()
    response = client.get(
        f"{URL}?{JUNE}&format=csv", headers=bearer_for(month.doctor.user), buffered=True
    )
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0][:5] == ["Period", "Booked", "Awaiting approval", "Confirmed", "Completed"]
    tenth = next(r for r in rows if r[0] == "2031-06-10")
    assert tenth[1] == "3"
    assert len(rows) == 32


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"),
        ("+1", "'+1"),
        ("-2", "'-2"),
        ("@x", "'@x"),
        ("\tTab", "'\tTab"),
        ("\rReturn", "'\rReturn"),
        ("Dr. Plain", "Dr. Plain"),
        ("a=b", "a=b"),
        (-2, "-2"),
        (0.25, "0.25"),
        (None, ""),
    ],
)
def test_csv_safe_escapes_formula_cells(value, written):
    assert csv_safe(value) == written


def test_csv_downloads_escape_formula_cells(web, admin):
    month = june("=cmd")
    for name, n in (("+1", 1), ("-2", 2), ("@x", 3)):
        visit(make_doctor(clinic=month.doctor.clinic, name=name), at(20, 14 + n))
    response = web.get(f"/admin/reports/doctors.csv?{JUNE}", buffered=True)
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0][:4] == ["Doctor id", "Doctor", "Clinic", "Booked"]
    names = {row[1] for row in rows[1:]}
    assert {"'=cmd", "'+1", "'-2", "'@x", "Dr. Other"} <= names
    detail = web.get(f"/admin/reports/appointments.csv?{JUNE}", buffered=True)
    lines = list(csv.reader(io.StringIO(detail.get_data(as_text=True))))
    assert lines[0][0] == "Appointment"
    assert {row[4] for row in lines[1:]} >= {"'=cmd", "'+1", "'-2", "'@x"}
    assert "=cmd" not in {row[4] for row in lines[1:]}


def test_the_doctor_page_shows_their_charts_and_tables(client, auth):
    month = june()
    auth.login(month.doctor.user.email, PASSWORD)
    page = client.get(f"/doctor/reports?{JUNE}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'data-testid="chart-bookings"' in html and "<svg" in html
    assert 'data-testid="table-utilisation"' in html
    assert 'href="/doctor/reports"' in html  # in the doctor's menu
    assert "Revenue" not in html and 'data-testid="table-doctors"' not in html
    csv_response = client.get(f"/doctor/reports/ratings.csv?{JUNE}", buffered=True)
    assert csv_response.status_code == 200 and csv_response.mimetype == "text/csv"
    assert client.get(f"/doctor/reports/revenue.csv?{JUNE}").status_code == 404
    other = client.get(f"/doctor/reports?{JUNE}&doctor_id={month.other.id}")
    assert other.status_code == 403
    bad = client.get("/doctor/reports?from=2031-06-10&to=2031-06-01")
    assert bad.status_code == 422
    assert "&#39;from&#39; is after &#39;to&#39;" in bad.get_data(as_text=True)


def test_admin_reports_need_reports_view(web):
    june()
    patient = make_user(Role.PATIENT)
    sign_in(web, patient)
    assert web.get("/admin/reports").status_code == 403
    web.post("/logout")
    without = make_helper("payments.view", totp_secret=TOTP_SECRET)
    sign_in(web, without)
    assert web.get("/admin/reports").status_code == 403
    assert web.get(f"/admin/reports/bookings.csv?{JUNE}").status_code == 403
    web.post("/logout")
    helper = make_helper("reports.view", totp_secret=TOTP_SECRET)
    sign_in(web, helper)
    page = web.get(f"/admin/reports?{JUNE}&group_by=week")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for name in ("bookings", "revenue", "payment_methods", "busiest_hours", "doctors"):
        assert f'data-testid="chart-{name}"' in html or f'data-testid="table-{name}"' in html
    assert '<rect class="bar"' in html
    assert web.get(f"/admin/reports/revenue.csv?{JUNE}", buffered=True).status_code == 200


def test_reports_view_can_be_granted(web, admin):
    helper = make_helper()
    response = web.post(
        f"/admin/users/{helper.id}/permissions", data={"permissions": ["reports.view"]}
    )
    assert response.status_code in (302, 303)
    from app.extensions import db
    from app.models import User

    db.session.expire_all()
    assert "reports.view" in db.session.get(User, helper.id).permission_names
