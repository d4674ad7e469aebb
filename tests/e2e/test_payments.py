"""Paying by card in Chromium against localstripe (its Stripe.js stand-in included)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from app.models import PaymentMethod, Role
from app.services.scheduling import booking
from tests.conftest import TEST_SECRET_KEY
from tests.e2e.conftest import sign_in
from tests.factories import make_clinic, make_doctor, make_slot, make_user
from tests.integration.payments import localstripe

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def stripe_base():
    process, base = localstripe.start_localstripe()
    yield base
    localstripe.stop(process)


@pytest.fixture(scope="module")
def live_server(app, database_url, stripe_base):
    """The app under gunicorn, paying through localstripe (replaces the plain live server)."""
    process, url = localstripe.start_server(database_url, stripe_base, TEST_SECRET_KEY)
    yield url
    localstripe.stop(process)


@pytest.fixture
def held(ctx):
    """A patient's card hold on a slot two days ahead."""
    doctor = make_doctor(clinic=make_clinic(), fee_amount=12000)
    slot = make_slot(doctor, start=datetime.now(UTC).replace(microsecond=0) + timedelta(days=2))
    patient = make_user(Role.PATIENT)
    appointment = booking.book_slot(
        patient_id=patient.id,
        slot_id=slot.id,
        payment_method=PaymentMethod.CARD,
        notes=None,
        now=datetime.now(UTC),
    )
    return patient, appointment


def enter_card(page, number):
    element = page.get_by_test_id("card-element")
    element.get_by_placeholder("number").fill(number)
    element.get_by_placeholder("exp_month").fill("12")
    element.get_by_placeholder("exp_year").fill("34")
    element.get_by_placeholder("cvc").fill("123")
    element.get_by_placeholder("postal_code").fill("10001")
    page.get_by_role("button", name="Pay USD 120.00").click()


def test_pay_by_card_then_cancel_and_see_the_refund(page, held):
    patient, appointment = held
    sign_in(page, patient.email)
    page.goto(f"/checkout/{appointment.id}")
    expect(page.get_by_test_id("fee")).to_have_text("USD 120.00")
    expect(page.get_by_test_id("countdown")).to_contain_text("left to pay")
    enter_card(page, "4242424242424242")
    expect(page.get_by_test_id("confirmation")).to_have_text("Your appointment is confirmed")
    expect(page.get_by_test_id("paid")).to_contain_text("USD 120.00")

    page.get_by_role("link", name="Manage this appointment").click()
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Cancel appointment").click()
    page.goto(f"/checkout/{appointment.id}/done")
    expect(page.get_by_test_id("refund")).to_contain_text("USD 120.00")

    # A receipt for the payment and one for the refund, printable without the site's chrome.
    page.get_by_test_id("paid").get_by_role("link", name="Receipt").click()
    expect(page.get_by_role("heading", name="Receipt")).to_contain_text("CB-P-")
    expect(page.get_by_test_id("receipt-amount")).to_have_text("USD 120.00")
    expect(page.get_by_role("button", name="Print or save as PDF")).to_be_visible()
    page.emulate_media(media="print")
    expect(page.locator("body > header")).to_be_hidden()
    expect(page.get_by_role("button", name="Print or save as PDF")).to_be_hidden()
    page.emulate_media(media="screen")
    page.go_back()
    page.get_by_test_id("refund").get_by_role("link", name="Receipt").click()
    expect(page.get_by_role("heading", name="Refund receipt")).to_contain_text("CB-R-")
    expect(page.get_by_test_id("receipt")).to_contain_text("Refund to the card paid with")


def test_declined_card_shows_the_error_and_keeps_the_hold(page, held):
    patient, appointment = held
    sign_in(page, patient.email)
    page.goto(f"/checkout/{appointment.id}")
    enter_card(page, "4000000000000341")
    # An error is flashed as an alert (base.html), not as a polite status message.
    declined = page.get_by_role("alert").filter(has_text="Your card was declined.")
    expect(declined.first).to_be_visible()
    expect(page.get_by_test_id("countdown")).to_contain_text("left to pay")


def test_3d_secure_card_is_checked_then_confirmed(page, held):
    patient, appointment = held
    sign_in(page, patient.email)
    page.goto(f"/checkout/{appointment.id}")
    enter_card(page, "4000002500003155")
    page.get_by_role("button", name="Complete authentication").click()
    expect(page.get_by_test_id("confirmation")).to_have_text("Your appointment is confirmed")
