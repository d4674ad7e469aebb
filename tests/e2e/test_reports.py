"""An admin walks /admin/reports in Chromium: the charts are drawn with their data, a filter
narrows them, and a table downloads as CSV with its header row (and a formula-like doctor
name escaped). A screenshot goes to /tmp/carebook-admin-reports.png."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from app.models import AppointmentStatus, PaymentMethod, Role
from tests.e2e.conftest import sign_in
from tests.factories import make_clinic, make_doctor, make_payment, make_user
from tests.integration.reports.builders import visit

pytestmark = pytest.mark.e2e

TOTP_SECRET = "RCIAOKCLVDTRMDPLQUUOEMZFIU4M36SO"
S = AppointmentStatus


def _past_month():
    base = (datetime.now(UTC) - timedelta(days=12)).replace(
        hour=14, minute=0, second=0, microsecond=0
    )
    harbour = make_clinic(name="Harbour Clinic", city="Sydney", timezone="Australia/Sydney")
    north = make_clinic(name="North Clinic", city="London", timezone="Europe/London")
    grace = make_doctor(clinic=harbour, name="Dr Grace")
    sneaky = make_doctor(clinic=north, name="=HYPERLINK(1)")
    for day, status in enumerate([S.COMPLETED, S.COMPLETED, S.NO_SHOW, S.CANCELLED, S.COMPLETED]):
        visit(grace, base + timedelta(days=day), status, booked_hours_ahead=30 + day * 10)
    paid = visit(sneaky, base + timedelta(days=1, hours=2), method=PaymentMethod.CARD)
    make_payment(paid, captured_at=base - timedelta(days=1))


def test_admin_walks_the_reports_and_downloads_a_csv(page):
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    make_user(Role.ADMIN, email="ada@example.com", name="Ada Admin", totp_secret=TOTP_SECRET)
    _past_month()

    sign_in(page, "ada@example.com", totp_secret=TOTP_SECRET)

    page.get_by_role("link", name="Admin").click()
    page.get_by_role("link", name="Reports").first.click()
    expect(page.get_by_role("heading", name="Reports", exact=True)).to_be_visible()
    expect(page.get_by_test_id("total-booked")).to_have_text("6")

    bookings = page.get_by_test_id("chart-bookings")
    expect(bookings.locator("svg[role=img]")).to_be_visible()
    bars = bookings.locator("rect.bar[data-value]")
    expect(bars.first).to_be_visible()
    # One segment per local day and status; together they are the six booked visits.
    values = bars.evaluate_all("els => els.map(e => Number(e.dataset.value))")
    assert sum(values) == 6
    assert {bars.nth(i).get_attribute("data-series") for i in range(len(values))} >= {
        "Completed", "No-show", "Cancelled",
    }  # fmt: skip
    utilisation = page.get_by_test_id("chart-utilisation").locator("circle.point[data-value]")
    expect(utilisation.first).to_be_attached()
    expect(page.get_by_test_id("chart-busiest_hours").locator("rect.bar")).not_to_have_count(0)
    expect(page.get_by_test_id("table-revenue")).to_contain_text("Captured")
    # The table beside each chart carries the same figures.
    expect(page.get_by_test_id("table-doctors")).to_contain_text("Dr Grace")
    page.screenshot(path="/tmp/carebook-admin-reports.png", full_page=True)

    # A filter narrows every chart: one clinic.
    page.get_by_label("Clinic").select_option(label="Harbour Clinic")
    page.get_by_label("Group by").select_option("week")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_test_id("total-booked")).to_have_text("5")
    expect(page.get_by_test_id("table-doctors")).not_to_contain_text("HYPERLINK")

    page.get_by_label("Clinic").select_option(label="All clinics")
    page.get_by_role("button", name="Show").click()
    with page.expect_download() as download_info:
        page.get_by_test_id("csv-doctors").click()
    download = download_info.value
    assert download.suggested_filename.startswith("carebook-doctors-")
    assert download.suggested_filename.endswith(".csv")
    with open(download.path(), encoding="utf-8") as handle:
        rows = list(csv.reader(io.StringIO(handle.read())))
    assert rows[0][:5] == ["Doctor id", "Doctor", "Clinic", "Booked", "Awaiting approval"]
    assert {row[1] for row in rows[1:]} == {"Dr Grace", "'=HYPERLINK(1)"}

    with page.expect_download() as download_info:
        page.get_by_test_id("csv-bookings").click()
    with open(download_info.value.path(), encoding="utf-8") as handle:
        header = next(csv.reader(handle))
    assert header[:6] == [
        "Period",
        "Booked",
        "Awaiting approval",
        "Confirmed",
        "Completed",
        "No-show",
    ]
    assert errors == []
