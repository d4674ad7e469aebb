"""axe-core in Chromium on the pages of issue 17 item 14: no serious or critical violation.

axe-core comes from npm (tests/e2e/package.json; `make test` runs `npm ci` here). It is
injected as a script, so these contexts bypass the site's Content Security Policy.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect

from app.models import AppointmentStatus, Role
from tests import services
from tests.e2e.conftest import sign_in as signed_in
from tests.factories import (
    make_appointment,
    make_doctor,
    make_notification,
    make_slot,
    make_user,
)

pytestmark = pytest.mark.e2e

AXE = Path(__file__).parent / "node_modules" / "axe-core" / "axe.min.js"
TOTP_SECRET = "RCIAOKCLVDTRMDPLQUUOEMZFIU4M36SO"
PHONE = {"width": 375, "height": 740}


@pytest.fixture
def a11y_page(browser, live_server, ctx):
    if not AXE.exists():
        services.unavailable("axe-core (npm ci --prefix tests/e2e)")
    context = browser.new_context(base_url=live_server, bypass_csp=True)
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


def serious_violations(page) -> list[str]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at "
        + ", ".join(node["target"][0] for node in v["nodes"][:5])
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def sign_in(page, email: str, *, totp: bool = False) -> None:
    signed_in(page, email, totp_secret=TOTP_SECRET if totp else None)


def test_home_with_a_flash_message(a11y_page):
    make_user(Role.PATIENT, email="ana@example.com", name="Ana Patient")
    sign_in(a11y_page, "ana@example.com")
    expect(a11y_page.get_by_role("status")).to_contain_text("Welcome back")
    assert serious_violations(a11y_page) == []


def test_search_results_with_a_pager(a11y_page):
    for n in range(22):
        make_doctor(name=f"Dr. Pager {n:02d}")
    a11y_page.goto("/doctors")
    expect(a11y_page.locator("nav.pager")).to_be_visible()
    assert serious_violations(a11y_page) == []


@pytest.mark.parametrize("path", ["/admin/doctors", "/admin/clinics", "/admin/users"])
def test_admin_tables(a11y_page, path):
    make_user(Role.ADMIN, email="ada@example.com", name="Ada Admin", totp_secret=TOTP_SECRET)
    make_doctor(name="Dr. Listed")
    make_doctor(name="Dr. Unlisted", verified_at=None)
    sign_in(a11y_page, "ada@example.com", totp=True)
    a11y_page.goto(path)
    expect(a11y_page.locator("table")).to_be_visible()
    assert serious_violations(a11y_page) == []


def test_the_notification_log_with_a_failed_row(a11y_page):
    from app.models import NotificationChannel, NotificationStatus

    make_user(Role.ADMIN, email="ada@example.com", name="Ada Admin", totp_secret=TOTP_SECRET)
    patient = make_user(Role.PATIENT, phone="+447911123456")
    make_notification(patient, status=NotificationStatus.FAILED)
    make_notification(patient, channel=NotificationChannel.SMS, status=NotificationStatus.SENT)
    sign_in(a11y_page, "ada@example.com", totp=True)
    a11y_page.goto("/admin/notifications")
    expect(a11y_page.get_by_test_id("retry-notification")).to_be_visible()
    assert serious_violations(a11y_page) == []


def test_a_patients_pending_approval_badge(a11y_page):
    patient = make_user(Role.PATIENT, email="ana@example.com", name="Ana Patient")
    slot = make_slot(make_doctor(requires_approval=True), start=_days_ahead(3))
    make_appointment(slot, patient, status=AppointmentStatus.PENDING_APPROVAL)
    sign_in(a11y_page, "ana@example.com")
    a11y_page.goto("/appointments")
    expect(a11y_page.locator(".status-pending_approval").first).to_be_visible()
    assert serious_violations(a11y_page) == []


def test_the_doctors_dashboard_badge_and_pager(a11y_page):
    doctor = make_doctor(requires_approval=True)
    patient = make_user(Role.PATIENT, name="Ana Patient")
    slot = make_slot(doctor, start=_days_ahead(1))
    make_appointment(slot, patient, status=AppointmentStatus.PENDING_APPROVAL)
    sign_in(a11y_page, doctor.user.email)
    a11y_page.goto("/doctor/")
    expect(a11y_page.locator(".badge.status-pending_approval").first).to_be_visible()
    # The pager is named by the words it shows (no aria-label that differs from them).
    expect(a11y_page.get_by_role("button", name="‹ Previous day")).to_be_visible()
    expect(a11y_page.get_by_role("button", name="Next day ›")).to_be_visible()
    assert serious_violations(a11y_page) == []


def test_the_doctors_profile_page_and_search_with_photos(a11y_page):
    doctor = make_doctor(name="Dr. Maya Chen")
    make_doctor(name="Dr. Aaron Placeholder")
    sign_in(a11y_page, doctor.user.email)
    a11y_page.goto("/doctor/profile")
    a11y_page.get_by_role("button", name="Upload photo").click()  # no file: a field error
    expect(a11y_page.locator(".field-error").first).to_be_visible()
    assert serious_violations(a11y_page) == []
    a11y_page.goto("/doctors?sort=earliest")
    expect(a11y_page.get_by_label("Sort by")).to_be_visible()
    assert serious_violations(a11y_page) == []


@pytest.mark.parametrize("path", ["/notifications", "/notifications/settings"])
def test_the_notification_pages_and_the_bell(a11y_page, path):
    patient = make_user(Role.PATIENT, email="ana@example.com", name="Ana Patient")
    appointment = make_appointment(make_slot(start=_days_ahead(3)), patient)
    make_notification(patient, "appointment.confirmed", appointment=appointment)
    make_notification(
        patient, "appointment.approved", appointment=appointment, read_at=datetime.now(UTC)
    )
    sign_in(a11y_page, "ana@example.com")
    a11y_page.goto(path)
    expect(a11y_page.get_by_role("link", name="Notifications, 1 unread")).to_be_visible()
    assert serious_violations(a11y_page) == []


def test_error_pages_and_registration_errors(a11y_page):
    a11y_page.goto("/no-such-page")
    expect(a11y_page.get_by_role("heading", name="Page not found")).to_be_visible()
    assert serious_violations(a11y_page) == []
    a11y_page.goto("/register")
    a11y_page.get_by_role("button", name="Create my account").click()
    expect(a11y_page.locator(".field-error").first).to_be_visible()
    assert serious_violations(a11y_page) == []


@pytest.mark.parametrize("signed_in", [False, True])
def test_the_header_is_compact_on_a_phone(browser, live_server, ctx, signed_in):
    context = browser.new_context(base_url=live_server, viewport=PHONE)
    page = context.new_page()
    if signed_in:
        make_user(Role.PATIENT, email="ana@example.com", name="Ana Patient-Longname")
        sign_in(page, "ana@example.com")
    page.goto("/")
    header = page.locator("body > header").bounding_box()
    boxes = page.locator("nav.site li").evaluate_all(
        "items => items.filter(li => li.offsetWidth > 1)"
        ".map(li => [Math.round(li.getBoundingClientRect().top), li.getBoundingClientRect().right])"
    )
    page.screenshot(path=f"/tmp/carebook-header-375-{signed_in}.png")
    context.close()
    assert max(right for _, right in boxes) <= PHONE["width"], boxes  # nothing cut off
    # Two rows of items at most (it was four, 294 px tall signed in).
    rows = []
    for top in sorted(top for top, _ in boxes):
        if not rows or top > rows[-1] + 15:
            rows.append(top)
    assert len(rows) <= 2, boxes
    assert header["height"] <= 130, header


def _days_ahead(days: int) -> datetime:
    return (datetime.now(UTC) + timedelta(days=days)).replace(minute=0, second=0, microsecond=0)
