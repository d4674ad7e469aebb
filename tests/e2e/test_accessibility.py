"""axe-core in Chromium on every HTML page of the site (issue 16): no serious or critical
violation anywhere.

One test per role (anonymous, patient, doctor, admin) signs in once and walks that role's
pages in one browser context, in the states that matter (a flash message, field errors, a
pager, badges, a cancellation, a consult waiting, 2FA turned on); each page's violations are
collected and the test fails at the end listing page, rule and element. axe-core comes from
npm (tests/e2e/package.json; `make test` runs `npm ci` here) and is injected into every
document by an init script, so these contexts bypass the site's Content Security Policy. The
server pays through localstripe, so the booking and checkout pages show their card parts.

Not swept: /api/v1/docs (Swagger UI's own markup, a page for developers) and the CSV, ICS,
JSON and media routes (not HTML).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pyotp
import pytest
from playwright.sync_api import expect

from app.extensions import db
from app.models import (
    AppointmentStatus,
    NotificationChannel,
    NotificationStatus,
    PaymentMethod,
    Refund,
    Role,
    SlotMode,
    SlotStatus,
)
from app.services import content, onboarding
from app.services.accounts import passwords
from app.services.chat import conversations, messages
from app.services.consults import consults
from tests import services
from tests.conftest import TEST_SECRET_KEY
from tests.e2e.conftest import sign_in
from tests.factories import (
    PASSWORD,
    make_appointment,
    make_clinic,
    make_completed_visit,
    make_doctor,
    make_notification,
    make_outbox_row,
    make_payment,
    make_review,
    make_slot,
    make_specialty,
    make_user,
)
from tests.integration.payments import localstripe

pytestmark = pytest.mark.e2e

AXE = Path(__file__).parent / "node_modules" / "axe-core" / "axe.min.js"
TOTP_SECRET = "RCIAOKCLVDTRMDPLQUUOEMZFIU4M36SO"
PHONE = {"width": 375, "height": 740}
BLOCKING = ("serious", "critical")
# axe with only the rules that can find a serious or critical violation (a rule's impact is the
# most its checks report): the others (region, heading-order, landmark-unique…) cost time
# for findings that would not fail the sweep.
RUN_AXE = """() => {
  const ids = axe._audit.rules
    .filter(rule => rule.enabled !== false && ["serious", "critical"].includes(rule.impact))
    .map(rule => rule.id);
  return axe.run(document, {runOnly: {type: "rule", values: ids}, resultTypes: ["violations"]});
}"""


@pytest.fixture(scope="module")
def live_server(app, database_url):
    """The app paying through localstripe (replaces the plain live server in this module)."""
    process, base = localstripe.start_localstripe()
    server, url = localstripe.start_server(database_url, base, TEST_SECRET_KEY)
    yield url
    localstripe.stop(server)
    localstripe.stop(process)


class Sweep:
    """One browser context walking pages; `check` runs axe on the page as it stands."""

    def __init__(self, browser, base_url: str):
        if not AXE.exists():
            services.unavailable("axe-core (npm ci --prefix tests/e2e)")
        self.context = browser.new_context(base_url=base_url, bypass_csp=True)
        self.context.set_default_timeout(10_000)
        self.context.add_init_script(path=str(AXE))  # axe in every document, before its scripts
        # No live socket: what a push would change is checked where it is rendered, and each
        # page's connection would only cost the server time (the sweep opens ~90 pages).
        self.context.route("**/socket.io/**", lambda route: route.abort())
        self.page = self.context.new_page()
        self.page.on("dialog", lambda dialog: dialog.accept())
        self.checked: list[str] = []
        self.problems: list[str] = []

    def visit(self, path: str, *, status: int = 200, name: str | None = None) -> None:
        """Open `path` (it must answer `status` itself, not redirect) and check it."""
        where = name or path
        response = self.page.goto(path)
        landed = urlsplit(self.page.url).path
        if response is None or response.status != status or landed != urlsplit(path).path:
            got = response.status if response else None
            self.problems.append(f"{where}: HTTP {got} at {landed}, not {status} at {path}")
            return
        self.check(where)

    def check(self, where: str) -> None:
        self.page.wait_for_load_state("load")
        result = self.page.evaluate(RUN_AXE)
        self.checked.append(where)
        for violation in result["violations"]:
            if violation["impact"] not in BLOCKING:
                continue
            for node in violation["nodes"][:5]:
                summary = (node.get("failureSummary") or "").strip().splitlines()
                self.problems.append(
                    f"{where}: {violation['id']} ({violation['impact']}) at "
                    f"{' '.join(node['target'])}: {violation['help']}"
                    + (f" [{summary[-1].strip()}]" if summary else "")
                )

    def sign_in(self, email: str) -> None:
        sign_in(self.page, email)

    def assert_clean(self) -> None:
        assert not self.problems, (
            f"{len(self.problems)} problem(s) on the {len(self.checked)} page(s) checked:\n  "
            + "\n  ".join(self.problems)
        )


@pytest.fixture
def sweep(browser, live_server, ctx):
    made = Sweep(browser, live_server)
    yield made
    made.context.close()


def _days_ahead(days: int) -> datetime:
    start = datetime.now(UTC) + timedelta(days=days)
    return start.replace(minute=0, second=0, microsecond=0)


def _in_two_minutes() -> datetime:
    """A video visit's start: its room is open now."""
    return (datetime.now(UTC) + timedelta(minutes=2)).replace(second=0, microsecond=0)


def _doctor_with_a_practice():
    """A listed doctor with free times (one by video) and a review."""
    clinic = make_clinic(name="Harbor Health", city="New York", timezone="America/New_York")
    specialty = make_specialty("Cardiology", "cardiology")
    doctor = make_doctor(clinic=clinic, name="Dr. Ada Lovelace", specialties=[specialty])
    for day in (2, 3):
        make_slot(doctor, start=_days_ahead(day))
    make_slot(doctor, start=_days_ahead(2) + timedelta(hours=3), mode=SlotMode.VIDEO)
    make_review(make_completed_visit(doctor))
    return doctor


def _conversation(patient, doctor, sender_id: int, body: str):
    conversation, _ = conversations.open_conversation(
        actor_id=patient.id, doctor_id=doctor.id, now=datetime.now(UTC)
    )
    messages.send_message(
        conversation_id=conversation.id, sender_id=sender_id, body=body, now=datetime.now(UTC)
    )
    return conversation


def test_every_anonymous_page(sweep):
    doctor = _doctor_with_a_practice()
    for n in range(22):
        make_doctor(name=f"Dr. Pager {n:02d}")
    known = make_user(Role.PATIENT, email="ana@example.com")
    content.ensure_default_pages(now=datetime.now(UTC))
    db.session.commit()
    page = sweep.page

    sweep.visit("/")
    sweep.visit("/doctors?sort=earliest")
    expect(page.locator("nav.pager")).to_be_visible()
    expect(page.get_by_label("Sort by")).to_be_visible()
    sweep.visit(f"/doctors/{doctor.id}")
    sweep.visit("/help")
    sweep.visit("/policies/cancellation-policy")
    sweep.visit("/doctors/apply")
    page.get_by_role("button", name="Send my application").click()
    expect(page.locator(".field-error").first).to_be_visible()
    sweep.check("/doctors/apply (field errors)")
    sweep.visit("/login")
    page.get_by_label("Email").fill("nobody@example.com")
    page.get_by_label("Password").fill("wrong password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_have_text("Email or password is incorrect.")
    sweep.check("/login (refused)")
    sweep.visit("/login/code")
    page.get_by_role("textbox", name="Email").fill(known.email)
    page.get_by_role("button", name="Send me a code").click()
    expect(page).to_have_url(re.compile(r"/login/code/verify"))
    sweep.check("/login/code/verify")
    sweep.visit("/password/forgot")
    link = passwords._make_token(known, passwords._RESET_SALT, datetime.now(UTC))
    sweep.visit(f"/password/reset?token={link}", name="/password/reset (a good link)")
    sweep.visit("/password/reset?token=nonsense", status=400)
    sweep.visit("/notifications/unsubscribe/nonsense", status=404)
    sweep.visit("/no-such-page", status=404)
    expect(page.get_by_role("heading", name="Page not found")).to_be_visible()
    sweep.visit("/register")
    page.get_by_role("button", name="Create my account").click()
    expect(page.locator(".field-error").first).to_be_visible()
    sweep.check("/register (field errors)")
    page.get_by_label("Full name").fill("Nia Newcomer")
    page.get_by_label("Email").fill("nia@example.com")
    page.get_by_label("Password (at least 8 characters)").fill("correct-horse-battery-2")
    page.get_by_label("Repeat the password").fill("correct-horse-battery-2")
    page.get_by_role("button", name="Create my account").click()
    expect(page).to_have_url(re.compile(r"/register/confirm"))
    sweep.check("/register/confirm")
    sweep.assert_clean()


def test_every_patient_page(sweep):
    doctor = _doctor_with_a_practice()
    patient = make_user(
        Role.PATIENT, email="ana@example.com", name="Ana Patient", phone="+447911123456"
    )
    free = make_slot(doctor, start=_days_ahead(4))
    confirmed = make_appointment(make_slot(doctor, start=_days_ahead(5)), patient)
    pending = make_appointment(
        make_slot(make_doctor(requires_approval=True), start=_days_ahead(3)),
        patient,
        status=AppointmentStatus.PENDING_APPROVAL,
    )
    paid = make_appointment(
        make_slot(doctor, start=_days_ahead(7)), patient, payment_method=PaymentMethod.CARD
    )
    payment = make_payment(paid, amount_refunded=2000)
    refund = Refund(payment_id=payment.id, amount=2000, reason="requested_by_customer")
    db.session.add(refund)
    db.session.commit()
    past = make_completed_visit(doctor, patient)
    make_appointment(
        make_slot(doctor, start=_days_ahead(9)), patient, status=AppointmentStatus.CANCELLED
    )
    video = make_appointment(
        make_slot(doctor, start=_in_two_minutes(), mode=SlotMode.VIDEO), patient
    )
    make_notification(patient, "appointment.confirmed", appointment=confirmed)
    make_notification(
        patient, "appointment.approved", appointment=pending, read_at=datetime.now(UTC)
    )
    conversation = _conversation(patient, doctor, doctor.user_id, "See you on Monday.")
    page = sweep.page

    sweep.sign_in("ana@example.com")
    expect(page.get_by_role("status")).to_contain_text("Welcome back")
    sweep.check("/ (signed in, a flash message)")
    sweep.visit(f"/doctors/{doctor.id}")
    sweep.visit(f"/book/{free.id}")
    page.get_by_role("button", name="Confirm booking").click()  # by card: to the checkout
    expect(page.get_by_test_id("countdown")).to_contain_text("left to pay")
    sweep.check("/checkout/<id> (a card hold)")
    sweep.visit(f"/checkout/{paid.id}/done")
    sweep.visit(f"/receipts/payments/{payment.id}")
    sweep.visit(f"/receipts/refunds/{refund.id}")
    sweep.visit("/appointments")
    expect(page.locator(".status-pending_approval").first).to_be_visible()
    sweep.visit(f"/appointments/{confirmed.id}")
    sweep.visit(f"/appointments/{confirmed.id}/reschedule")
    sweep.visit(f"/appointments/{past.id}", name="/appointments/<id> (past: a review form)")
    sweep.visit(f"/appointments/{pending.id}", name="/appointments/<id> (waiting for approval)")
    sweep.visit(f"/visits/{video.id}")
    sweep.visit("/messages")
    sweep.visit(f"/messages/{conversation.id}")
    sweep.visit("/notifications")
    expect(page.get_by_role("link", name="Notifications, 1 unread")).to_be_visible()
    # A count that rises (as a push or the poll sets it) is read out from the live region.
    page.evaluate("window.carebookBell.setUnread(3)")
    expect(page.get_by_test_id("live-announcer")).to_have_text("Notifications, 3 unread")
    sweep.visit("/notifications/settings")
    sweep.visit("/consults/new")
    page.get_by_label("Specialty").select_option("cardiology")
    page.get_by_label("What is it about?").fill("A racing heart since this morning")
    page.get_by_label("Cash", exact=True).check()
    page.get_by_role("button", name="Ask for a doctor now").click()
    expect(page.get_by_test_id("consult-status")).to_be_visible()
    sweep.check("/consults/<id> (waiting)")
    sweep.visit("/account")
    sweep.visit("/account/profile")
    sweep.visit("/account/password")
    sweep.visit("/account/email")
    page.get_by_label("New email").fill("ana.new@example.com")
    page.get_by_role("button", name="Send a code to the new address").click()
    expect(page).to_have_url(re.compile(r"/account/email/confirm"))
    sweep.check("/account/email/confirm")
    sweep.visit("/account/phone")
    sweep.visit("/account/confirm")
    sweep.visit("/account/verify")
    sweep.visit("/account/password/choose")
    sweep.visit("/account/delete")
    sweep.visit("/account/2fa", name="/account/2fa (setting it up)")
    secret = page.get_by_test_id("totp-secret").text_content()
    page.get_by_label("Code").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Turn on").click()
    expect(page.get_by_test_id("recovery-codes")).to_be_visible()
    sweep.check("/account/2fa (recovery codes)")
    sweep.visit("/account/2fa", name="/account/2fa (on)")
    sweep.assert_clean()


def test_every_doctor_page(sweep):
    doctor = _doctor_with_a_practice()
    doctor.requires_approval = True
    db.session.commit()
    patient = make_user(Role.PATIENT, name="Ana Patient")
    tomorrow = make_slot(doctor, start=_days_ahead(1))
    waiting = make_appointment(tomorrow, patient, status=AppointmentStatus.PENDING_APPROVAL)
    make_appointment(
        make_slot(doctor, start=tomorrow.start_at + timedelta(hours=1)),
        patient,
        status=AppointmentStatus.CANCELLED,
    )
    booked = make_appointment(make_slot(doctor, start=_days_ahead(4)), patient)
    free = make_slot(doctor, start=_days_ahead(8))
    make_slot(doctor, start=_days_ahead(8) + timedelta(hours=2), status=SlotStatus.BLOCKED)
    video = make_appointment(
        make_slot(doctor, start=_in_two_minutes(), mode=SlotMode.VIDEO), patient
    )
    conversation = _conversation(patient, doctor, patient.id, "Should I fast?")
    consults.set_on_call(doctor_user_id=doctor.user_id, on_call=True, now=datetime.now(UTC))
    consults.request_consult(
        patient_id=make_user(Role.PATIENT, name="Una Urgent").id,
        specialty="cardiology",
        reason="Chest pain",
        payment_method=PaymentMethod.CASH,
        now=datetime.now(UTC),
    )
    page = sweep.page

    sweep.sign_in(doctor.user.email)
    # A day with a request to approve, a cancellation, the on-call panel with a consult and
    # the video room open now.
    day = tomorrow.start_at.astimezone(ZoneInfo(doctor.clinic.timezone)).date()  # its day there
    sweep.visit(f"/doctor/?date={day.isoformat()}", name="/doctor/ (a day)")
    expect(page.locator(".badge.status-pending_approval").first).to_be_visible()
    expect(page.get_by_test_id("on-call-state")).to_have_text("You are on call.")
    # The pager is named by the words it shows (no aria-label that differs from them).
    expect(page.get_by_role("button", name="‹ Previous day")).to_be_visible()
    expect(page.get_by_role("button", name="Next day ›")).to_be_visible()
    sweep.visit("/doctor/?view=week", name="/doctor/ (the week grid)")
    sweep.visit(f"/doctor/appointments/{waiting.id}")
    sweep.visit(f"/doctor/appointments/{booked.id}")
    sweep.visit("/doctor/slots")
    sweep.visit("/doctor/slots/new")
    sweep.visit(f"/doctor/slots/{free.id}/edit")
    sweep.visit("/doctor/slots/bulk")
    sweep.visit("/doctor/earnings")
    sweep.visit("/doctor/reports")
    sweep.visit("/doctor/reviews")
    sweep.visit("/doctor/profile")
    page.get_by_role("button", name="Upload photo").click()  # no file: a field error
    expect(page.locator(".field-error").first).to_be_visible()
    sweep.check("/doctor/profile (a photo error)")
    sweep.visit(f"/visits/{video.id}")
    sweep.visit(f"/messages/{conversation.id}")  # (the lists and account: as for a patient)
    sweep.assert_clean()


def test_every_admin_page(sweep):
    make_user(Role.ADMIN, email="ada@example.com", name="Ada Admin", totp_secret=TOTP_SECRET)
    doctor = _doctor_with_a_practice()
    make_doctor(name="Dr. Unlisted", verified_at=None)
    patient = make_user(Role.PATIENT, name="Peter Parker", phone="+447911123456")
    appointment = make_appointment(make_slot(doctor, start=_days_ahead(4)), patient)
    payment = make_payment(
        make_appointment(
            make_slot(doctor, start=_days_ahead(5)), patient, payment_method=PaymentMethod.CARD
        )
    )
    conversation = _conversation(patient, doctor, patient.id, "Is there parking?")
    make_outbox_row(patient, status=NotificationStatus.FAILED)
    make_notification(patient, channel=NotificationChannel.SMS, status=NotificationStatus.SENT)
    content.ensure_default_pages(now=datetime.now(UTC))
    db.session.commit()
    application = onboarding.apply(
        onboarding.ApplicationInput(
            name="Dr. New Comer",
            email="new.comer@example.com",
            licence_number="NY-123456",
            clinic_id=doctor.clinic_id,
            specialty_ids=[doctor.specialties[0].id],
            message="I would like to join.",
        ),
        now=datetime.now(UTC),
    )
    page = sweep.page

    page.goto("/login")
    page.get_by_label("Email").fill("ada@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/login/2fa"))
    sweep.check("/login/2fa")
    page.locator("input[name=code]").fill(pyotp.TOTP(TOTP_SECRET).now())
    page.locator("input[name=code]").press("Enter")
    expect(page.get_by_test_id("signed-in-as")).to_be_attached()
    for path in (
        "/admin/",
        "/admin/users",
        "/admin/users/new",
        f"/admin/users/{patient.id}",
        "/admin/doctors",
        f"/admin/doctors/{doctor.id}/edit",
        "/admin/applications",
        f"/admin/applications/{application.id}",
        "/admin/clinics",
        "/admin/clinics/new",
        f"/admin/clinics/{doctor.clinic_id}/edit",
        "/admin/specialties",
        "/admin/appointments",
        f"/admin/appointments/{appointment.id}",
        "/admin/payments",
        f"/admin/payments/{payment.id}",
        "/admin/payments/disputes",
        "/admin/reviews",
        "/admin/notifications",
        "/admin/queues",
        "/admin/reports",
        "/admin/audit",
        "/admin/pages",
        "/admin/pages/new",
        "/doctor/",  # no doctor named: the admin picks one
        f"/doctor/slots?doctor_id={doctor.id}",
        f"/messages/{conversation.id}",  # read as an auditor
    ):
        sweep.visit(path)
        if path in ("/admin/doctors", "/admin/clinics", "/admin/users"):
            expect(page.locator("table")).to_be_visible()
        elif path == "/admin/notifications":
            expect(page.get_by_test_id("retry-notification")).to_be_visible()
    page.goto("/admin/pages")
    page.get_by_test_id("content-pages").get_by_role("link").first.click()
    expect(page).to_have_url(re.compile(r"/admin/pages/\d+/edit"))
    sweep.check("/admin/pages/<id>/edit")
    sweep.assert_clean()


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
