"""The doctor's availability: a week of slots, adding one, editing, blocking and deleting."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user

from app.doctor import bp
from app.doctor.calendar import slot_days
from app.doctor.context import (
    attempt,
    back,
    clinic_zone,
    monday_of,
    parse_day,
    scope_of,
    scoped_doctor,
)
from app.doctor.forms import SlotForm, add_domain_error
from app.models import Role
from app.rbac import roles_required
from app.services.errors import Conflict, InvalidInput
from app.services.localtime import day_bounds
from app.services.scheduling import availability, occupancy
from app.templating import local_format

# Ids are PostgreSQL integers: a larger one is a 404, not an overflow.
SLOT = "/slots/<int(max=2147483647):slot_id>"


@bp.route("/slots")
@roles_required(Role.DOCTOR)
@scoped_doctor
def slots(doctor):
    now = datetime.now(UTC)
    tz = clinic_zone(doctor)
    today = now.astimezone(tz).date()
    monday = monday_of(parse_day(request.args.get("week"), today))
    views = availability.doctor_slots(
        doctor_id=doctor.id,
        start=day_bounds(monday, tz)[0],
        end=day_bounds(monday + timedelta(days=7), tz)[0],
        actor_id=current_user.id,
        now=now,
    )
    days = slot_days(views, monday, tz, now)
    counts: dict[str, int] = {}
    for _, rows in days:
        for row in rows:
            counts[row.state] = counts.get(row.state, 0) + 1
    return render_template(
        "doctor/slots.html",
        doctor=doctor,
        tz=tz,
        today=today,
        monday=monday,
        days=days,
        counts=counts,
        prev_week=monday - timedelta(days=7),
        next_week=monday + timedelta(days=7),
    )


def _saved(slot, tz) -> str:
    return f"Slot saved: {local_format(slot.start_at, tz.key, '%a %d %b %Y, %H:%M')}."


def _week_of(slot, tz) -> str:
    return monday_of(slot.start_at.astimezone(tz).date()).isoformat()


def _slot_form_page(form, doctor, tz, slot, save, booked=False):
    """Show the slot form, or save it with `save(start, end, mode)` (a service call) and go
    back to that slot's week. Shared by adding and editing a slot."""
    status = 200
    if form.validate_on_submit():
        status = 422
        times = form.utc_times(tz)
        if times is not None:
            try:
                saved = save(times[0], times[1], form.mode.data)
            except (Conflict, InvalidInput) as exc:
                add_domain_error(form, exc)
                status = exc.status_code
            else:
                flash(_saved(saved, tz), "success")
                scope = scope_of(doctor)
                return redirect(url_for("doctor.slots", week=_week_of(saved, tz), **scope))
    elif form.errors:
        status = 422
    return render_template(
        "doctor/slot_form.html", form=form, doctor=doctor, tz=tz, slot=slot, booked=booked
    ), status


@bp.route("/slots/new", methods=["GET", "POST"])
@roles_required(Role.DOCTOR)
@scoped_doctor
def new_slot(doctor):
    now = datetime.now(UTC)
    tz = clinic_zone(doctor)
    form = SlotForm()
    if request.method == "GET":
        form.date.data = parse_day(request.args.get("date"), now.astimezone(tz).date())

    def save(start, end, mode):
        return availability.create_slot(
            doctor_id=doctor.id, start=start, end=end, mode=mode, actor_id=current_user.id,
            now=now,
        )  # fmt: skip

    return _slot_form_page(form, doctor, tz, None, save)


@bp.route(f"{SLOT}/edit", methods=["GET", "POST"])
@roles_required(Role.DOCTOR)
def edit_slot(slot_id: int):
    now = datetime.now(UTC)
    slot = availability.managed_slot(slot_id=slot_id, actor_id=current_user.id)
    doctor = slot.doctor
    g.doctor_scope = scope_of(doctor)
    tz = clinic_zone(doctor)
    start, end = slot.start_at.astimezone(tz), slot.end_at.astimezone(tz)
    form = SlotForm(
        data={"date": start.date(), "start": start.time(), "end": end.time(), "mode": slot.mode}
    )

    def save(start, end, mode):
        return availability.update_slot(
            slot_id=slot.id, start=start, end=end, mode=mode, actor_id=current_user.id, now=now
        )

    # A booked slot's times and mode are the patient's: the form shows them read-only (the
    # service refuses a change all the same).
    booked = occupancy.slot_taken(slot.id, now)
    return _slot_form_page(form, doctor, tz, slot, save, booked=booked)


@bp.route(f"{SLOT}/block", methods=["POST"], defaults={"blocked": True})
@bp.route(f"{SLOT}/unblock", methods=["POST"], defaults={"blocked": False})
@roles_required(Role.DOCTOR)
def block_slot(slot_id: int, blocked: bool):
    done, _ = attempt(
        lambda: availability.set_blocked(slot_id=slot_id, blocked=blocked, actor_id=current_user.id)
    )
    if done:
        flash(
            gettext("Slot blocked: no new bookings.") if blocked else gettext("Slot open again."),
            "success",
        )
    return back("doctor.slots", "week")


@bp.route(f"{SLOT}/delete", methods=["POST"])
@roles_required(Role.DOCTOR)
def delete_slot(slot_id: int):
    done, _ = attempt(
        lambda: availability.delete_slot(
            slot_id=slot_id, actor_id=current_user.id, now=datetime.now(UTC)
        )
    )
    if done:
        flash(gettext("Slot deleted."), "success")
    return back("doctor.slots", "week")
