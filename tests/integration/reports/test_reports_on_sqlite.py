"""The embedded default (SQLite, `make run`) renders the report pages and their CSV too."""

from __future__ import annotations

import pyotp
import pytest

from app.extensions import db
from tests.factories import PASSWORD
from tests.integration.admin.conftest import TOTP_SECRET, make_admin
from tests.integration.reports.builders import june

JUNE = "from=2031-05-31&to=2031-06-30"


@pytest.fixture
def sqlite_ctx(sqlite_app):
    with sqlite_app.app_context():
        yield sqlite_app
        db.session.remove()
        with db.engine.begin() as conn:
            for table in reversed(db.metadata.sorted_tables):
                conn.execute(table.delete())


@pytest.mark.parametrize("group_by", ["day", "week", "month"])
def test_report_pages_render_on_sqlite(sqlite_ctx, group_by):
    month = june()
    admin, doctor_email = make_admin(), month.doctor.user.email
    admin_email = admin.email
    # End the test's read transaction: SQLite lets no request write while one is open.
    db.session.commit()
    web = sqlite_ctx.test_client()
    response = web.post("/login", data={"email": admin_email, "password": PASSWORD})
    assert response.status_code == 302
    response = web.post("/login/2fa", data={"code": pyotp.TOTP(TOTP_SECRET).now()})
    assert response.status_code == 302
    page = web.get(f"/admin/reports?{JUNE}&group_by={group_by}")
    assert page.status_code == 200, page.get_data(as_text=True)[:500]
    html = page.get_data(as_text=True)
    assert 'data-testid="total-booked">8<' in html
    assert '<rect class="bar"' in html
    for name in ("bookings", "revenue", "appointments", "doctors"):
        csv_response = web.get(f"/admin/reports/{name}.csv?{JUNE}", buffered=True)
        assert csv_response.status_code == 200 and csv_response.mimetype == "text/csv"
    doctor = sqlite_ctx.test_client()
    doctor.post("/login", data={"email": doctor_email, "password": PASSWORD})
    own = doctor.get(f"/doctor/reports?{JUNE}&group_by={group_by}")
    assert own.status_code == 200
    assert 'data-testid="total-booked">6<' in own.get_data(as_text=True)
