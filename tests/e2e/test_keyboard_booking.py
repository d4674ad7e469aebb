"""A patient books an appointment with the keyboard alone (issue 16): Tab, Shift+Tab, Enter,
Space and the arrow keys, never a click or a fill; every stop of the Tab key shows a visible
focus ring, and "Skip to content" is the first stop of each page."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.extensions import db
from app.models import Appointment, AppointmentStatus, Role
from tests.factories import (
    PASSWORD,
    make_clinic,
    make_doctor,
    make_slot,
    make_specialty,
    make_user,
)

pytestmark = pytest.mark.e2e

# What has focus, and whether it shows it: an outline of 2px at least in a colour that is not
# transparent, as the browser computes it (Pico's own ring, a faint box shadow, is not enough:
# static/css/carebook.css draws the outline).
FOCUSED = r"""() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const style = getComputedStyle(el);
  const color = style.outlineColor;
  const transparent = color === "transparent" || /rgba\(.*,\s*0\)$/.test(color);
  const outline =
    style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2 && !transparent;
  const label =
    el.labels && el.labels.length ? el.labels[0].innerText : el.getAttribute("aria-label");
  return {
    tag: el.tagName.toLowerCase(),
    id: el.id,
    name: el.getAttribute("name"),
    type: el.getAttribute("type"),
    testid: el.getAttribute("data-testid"),
    text: (el.innerText || el.value || "").trim(),
    label: (label || "").trim(),
    visible: outline,
    outline: `${style.outlineStyle} ${style.outlineWidth} ${style.outlineColor}`,
  };
}"""


class Keyboard:
    """page.keyboard only; each stop is checked for a visible focus."""

    def __init__(self, page):
        self.page = page
        self.unseen: list[dict] = []  # stops without a visible focus

    def press(self, key: str) -> dict | None:
        self.page.keyboard.press(key)
        focused = self.page.evaluate(FOCUSED)
        if focused and not focused["visible"]:
            self.unseen.append({**focused, "url": self.page.url})
        return focused

    def follow(self, key: str = "Enter") -> None:
        """A key that loads another page (a link followed, a form sent)."""
        with self.page.expect_navigation():
            self.page.keyboard.press(key)

    def tab_to(self, wanted, *, backwards: bool = False, limit: int = 90) -> dict:
        """Tab (Shift+Tab backwards) until the focused element is `wanted(focused)`."""
        went = []
        for _ in range(limit):
            focused = self.press("Shift+Tab" if backwards else "Tab")
            if focused and wanted(focused):
                return focused
            went.append(focused and (focused["text"] or focused["label"] or focused["id"]))
        raise AssertionError(f"Tab never reached it on {self.page.url}; it went through {went}")

    def type(self, text: str) -> None:
        self.page.keyboard.type(text)


def test_a_patient_books_with_the_keyboard_alone(ctx, page):
    clinic = make_clinic(name="Harbor Health", city="New York", timezone="America/New_York")
    doctor = make_doctor(
        clinic=clinic, name="Dr. Ada Lovelace", specialties=[make_specialty("Cardiology")]
    )
    make_doctor(name="Dr. Other Person")
    tz = ZoneInfo(clinic.timezone)
    day = datetime.now(tz).date() + timedelta(days=2)
    slot = make_slot(doctor, start=datetime.combine(day, time(10), tzinfo=tz).astimezone(UTC))
    patient = make_user(Role.PATIENT, name="Ana Lima", email="ana@example.com")
    keys = Keyboard(page)

    page.goto("/login")  # the address bar: the one step that is not on the page
    skip = keys.press("Tab")
    assert skip["text"] == "Skip to content", skip
    keys.press("Enter")  # to the main content: the next Tab is inside it
    keys.tab_to(lambda f: f["id"] == "email")
    keys.type(patient.email)
    keys.press("Tab")
    keys.type(PASSWORD)
    keys.follow("Enter")
    expect(page.get_by_role("status")).to_contain_text("Welcome back")

    # Home: a specialty chosen with the arrow keys, a name typed, Enter searches.
    keys.tab_to(lambda f: f["id"] == "home-specialty")
    keys.press("ArrowDown")
    expect(page.locator("#home-specialty")).to_have_value(doctor.specialties[0].slug)
    keys.tab_to(lambda f: f["id"] == "home-q")
    keys.type("Lovelace")
    keys.follow("Enter")
    expect(page.get_by_test_id("doctor-result")).to_have_count(1)

    keys.tab_to(lambda f: f["tag"] == "a" and f["text"] == "Dr. Ada Lovelace")
    keys.follow("Enter")
    expect(page.get_by_role("heading", name="Dr. Ada Lovelace")).to_be_visible()

    # The doctor's page: past the header with the skip link, then to the 10:00 time.
    assert keys.press("Tab")["text"] == "Skip to content"
    keys.press("Enter")
    keys.tab_to(lambda f: f["testid"] == f"slot-{slot.id}")
    keys.follow("Enter")
    expect(page.get_by_role("heading", name="Confirm your booking")).to_be_visible()

    # The booking form: cash (Space on its radio), a note, then back up with Shift+Tab to
    # check the radio kept its choice, and on to the button.
    keys.tab_to(lambda f: f["label"] == "Pay at the clinic (cash)")
    keys.press("Space")
    expect(page.get_by_label("Pay at the clinic (cash)")).to_be_checked()
    keys.tab_to(lambda f: f["name"] == "notes")
    keys.type("First visit, booked by keyboard")
    keys.tab_to(lambda f: f["name"] == "payment_method", backwards=True)
    keys.tab_to(lambda f: f["type"] == "submit" and f["text"] == "Confirm booking")
    keys.follow("Enter")

    expect(page.get_by_role("status")).to_contain_text("Booked: Dr. Ada Lovelace")
    expect(page.get_by_test_id("appointment-time")).to_contain_text("10:00")
    booked = db.session.scalars(select(Appointment)).one()
    assert (booked.slot_id, booked.status) == (slot.id, AppointmentStatus.CONFIRMED)
    assert keys.unseen == [], f"focus not visible at: {keys.unseen}"
