"""What a doctor sees, in a real browser: the week grid's blocks are readable, a pending
request's buttons sit side by side, a booked slot's form is read-only, and an appointment
opens on its own page."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from app.extensions import db
from app.models import Appointment, AppointmentStatus, Role
from tests.e2e.conftest import sign_in
from tests.factories import (
    make_appointment,
    make_clinic,
    make_doctor,
    make_slot,
    make_user,
)

pytestmark = pytest.mark.e2e

DESKTOP = {"width": 1280, "height": 900}
NEW_YORK = ZoneInfo("America/New_York")


def _next_monday() -> date:
    today = datetime.now(NEW_YORK).date()
    return today + timedelta(days=7 - today.weekday())


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=NEW_YORK)


def _box(locator) -> dict:
    box = locator.bounding_box()
    assert box is not None
    return box


def _inside(inner: dict, outer: dict) -> bool:
    return (
        inner["x"] >= outer["x"] - 0.5
        and inner["y"] >= outer["y"] - 0.5
        and inner["x"] + inner["width"] <= outer["x"] + outer["width"] + 0.5
        and inner["y"] + inner["height"] <= outer["y"] + outer["height"] + 0.5
    )


def _overlap(a: dict, b: dict) -> bool:
    return not (
        a["x"] + a["width"] <= b["x"] + 0.5
        or b["x"] + b["width"] <= a["x"] + 0.5
        or a["y"] + a["height"] <= b["y"] + 0.5
        or b["y"] + b["height"] <= a["y"] + 0.5
    )


def test_week_view_blocks_of_30_minutes_show_name_and_status_readably(ctx, page):
    doctor = make_doctor(clinic=make_clinic(timezone="America/New_York"), requires_approval=True)
    monday = _next_monday()
    names = ["Chloé Martin", "Benedict Okafor", "Dev Sharma", "Eva Novak"]
    for i, name in enumerate(names):  # back-to-back 30-minute visits
        status = AppointmentStatus.PENDING_APPROVAL if i % 2 else AppointmentStatus.CONFIRMED
        slot = make_slot(doctor, start=_at(monday, 9) + timedelta(minutes=30 * i), minutes=30)
        make_appointment(slot, make_user(Role.PATIENT, name=name), status=status)
    page.set_viewport_size(DESKTOP)
    sign_in(page, doctor.user.email)

    page.goto(f"/doctor/?view=week&date={monday.isoformat()}")
    blocks = page.get_by_test_id("week-grid").get_by_test_id("appointment")
    expect(blocks).to_have_count(4)
    page.screenshot(path="/tmp/carebook-doctor-week-30min.png", full_page=True)

    boxes = []
    for i, name in enumerate(names):
        block = blocks.nth(i)
        block_box = _box(block)
        name_el, status_el = block.get_by_test_id("wg-name"), block.get_by_test_id("wg-status")
        expect(name_el).to_have_text(name)
        expect(status_el).to_contain_text("Confirmed" if i % 2 == 0 else "approval")
        name_box, status_box = _box(name_el), _box(status_el)
        # Both lines lie wholly inside their block, one under the other.
        assert _inside(name_box, block_box) and _inside(status_box, block_box), name
        assert not _overlap(name_box, status_box), name
        # Nothing of the name or status is cut off.
        for element in (name_el, status_el):
            assert element.evaluate("e => e.scrollWidth <= e.clientWidth"), name
        boxes.append(block_box)
    for first, second in zip(boxes, boxes[1:], strict=False):
        assert not _overlap(first, second)

    blocks.first.click()  # a block opens the appointment
    expect(page.get_by_test_id("patient-name")).to_have_text("Chloé Martin")


def test_pending_request_buttons_sit_side_by_side_and_only_reject_asks_a_reason(ctx, page):
    doctor = make_doctor(clinic=make_clinic(timezone="America/New_York"), requires_approval=True)
    monday = _next_monday()
    slot = make_slot(doctor, start=_at(monday, 10), minutes=30)
    patient = make_user(Role.PATIENT, name="Waiting Wendy")
    appointment = make_appointment(slot, patient, status=AppointmentStatus.PENDING_APPROVAL)
    page.set_viewport_size(DESKTOP)
    sign_in(page, doctor.user.email)

    page.goto(f"/doctor/?view=day&date={monday.isoformat()}")
    pending = page.get_by_test_id("pending")
    approve = pending.get_by_role("button", name="Approve")
    reject = pending.get_by_text("Reject…")
    cancel = pending.get_by_role("button", name="Cancel", exact=True)
    boxes = [_box(approve), _box(reject), _box(cancel)]
    page.screenshot(path="/tmp/carebook-doctor-pending.png", full_page=True)
    assert all(abs(box["y"] - boxes[0]["y"]) < 4 for box in boxes)  # one row
    assert boxes[0]["x"] < boxes[1]["x"] < boxes[2]["x"]
    assert not _overlap(boxes[0], boxes[1]) and not _overlap(boxes[1], boxes[2])
    # Reject and cancel look unlike approve.
    assert approve.evaluate("e => getComputedStyle(e).backgroundColor") != reject.evaluate(
        "e => getComputedStyle(e).backgroundColor"
    )
    reason = pending.get_by_label("Reason for rejecting (optional)")
    expect(reason).to_be_hidden()
    reject.click()
    expect(reason).to_be_visible()

    page.once("dialog", lambda dialog: dialog.dismiss())  # cancelling asks first
    cancel.click()
    expect(pending).to_contain_text("Waiting Wendy")  # dismissed: still pending
    db.session.expire_all()
    assert db.session.get(Appointment, appointment.id).status is AppointmentStatus.PENDING_APPROVAL


def test_a_booked_slot_edit_page_is_read_only_and_says_why(ctx, page):
    doctor = make_doctor(clinic=make_clinic(timezone="America/New_York"))
    monday = _next_monday()
    booked = make_slot(doctor, start=_at(monday, 11), minutes=30)
    make_appointment(booked, make_user(Role.PATIENT))
    open_slot = make_slot(doctor, start=_at(monday, 12), minutes=30)
    page.set_viewport_size(DESKTOP)
    sign_in(page, doctor.user.email)

    page.goto(f"/doctor/slots/{booked.id}/edit")
    expect(page.get_by_test_id("booked-note")).to_contain_text("booked this slot")
    expect(page.get_by_test_id("slot-readonly")).to_contain_text("11:00")
    expect(page.get_by_label("Start time")).to_have_count(0)
    expect(page.get_by_role("button", name="Save slot")).to_have_count(0)

    page.goto(f"/doctor/slots/{open_slot.id}/edit")
    expect(page.get_by_label("Start time")).to_be_editable()
    expect(page.get_by_test_id("booked-note")).to_have_count(0)
