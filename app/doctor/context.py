"""What every doctor page needs: whose pages these are, in which zone, for which dates."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from functools import wraps
from zoneinfo import ZoneInfo

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext, lazy_gettext
from flask_login import current_user

from app.doctor import bp
from app.models import Doctor, Role, SlotMode
from app.services import access
from app.services.errors import Conflict, InvalidInput
from app.services.localtime import zone
from app.services.scheduling import search
from app.templating import status_label

MODE_LABELS = {SlotMode.IN_PERSON: lazy_gettext("In person"), SlotMode.VIDEO: lazy_gettext("Video")}
# Dates far outside this range overflow when converted between zones.
FIRST_DAY, LAST_DAY = date(2000, 1, 8), date(2100, 12, 24)


def clinic_zone(doctor: Doctor) -> ZoneInfo:
    """The zone the doctor's pages show times in (Doctor.timezone, as a ZoneInfo)."""
    return zone(doctor.timezone)


def _doctor_id_arg() -> int | None:
    raw = request.args.get("doctor_id")
    if raw is None:
        return None
    if not raw.isdigit() or len(raw) > 9:
        abort(400, gettext("doctor_id must be a number."))
    return int(raw)


def scoped_doctor(view):
    """Pass the doctor whose pages these are: the signed-in doctor's own profile, or for an
    admin the one named by ?doctor_id= (without it the admin picks one first). Either way the
    doctor comes from the one management loader, access.managed_doctor."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        doctor_id = _doctor_id_arg()
        if current_user.role is Role.ADMIN:
            if doctor_id is None:
                return choose_doctor()
        else:
            own = access.doctor_of(current_user)
            if own is None:
                abort(404, gettext("This account has no doctor profile."))
            if doctor_id is not None and doctor_id != own.id:
                abort(403)
            doctor_id = own.id
        doctor = access.managed_doctor(current_user.id, doctor_id)
        if current_user.role is Role.ADMIN:
            g.doctor_scope = {"doctor_id": doctor.id}
        return view(*args, doctor=doctor, **kwargs)

    return wrapped


def choose_doctor():
    """An admin opens a doctor page without saying whose: list the doctors to pick from."""
    now = datetime.now(UTC)
    results = search.search_doctors(search.DoctorSearch(per_page=search.MAX_PER_PAGE), now=now)
    return render_template("doctor/choose.html", results=results)


@bp.context_processor
def doctor_page_helpers() -> dict:
    return {
        "scope": g.get("doctor_scope", {}),
        "status_label": lambda status: status_label(status, "doctor"),
        "mode_label": lambda mode: str(MODE_LABELS.get(mode, mode)),
    }


def scope_of(doctor: Doctor) -> dict:
    """Query arguments that keep an admin on the same doctor's pages."""
    return {"doctor_id": doctor.id} if current_user.role is Role.ADMIN else {}


def parse_day(raw: str | None, default: date) -> date:
    """?date=YYYY-MM-DD (or ?week=), 400 when malformed or absurdly far away."""
    if not raw:
        return default
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        abort(400, gettext("Dates are written YYYY-MM-DD."))
    if not FIRST_DAY <= day <= LAST_DAY:
        abort(
            400,
            gettext(
                "Pick a date between %(year)s and %(year2)s.",
                year=FIRST_DAY.year,
                year2=LAST_DAY.year,
            ),
        )
    return day


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def back(endpoint: str, *keys: str, **values):
    """Redirect to a page, keeping the listed query arguments of this request (and the
    admin's doctor_id)."""
    kept = {key: request.args.get(key) for key in (*keys, "doctor_id") if request.args.get(key)}
    return redirect(url_for(endpoint, **{**kept, **values}))


def attempt(action) -> tuple[bool, object]:
    """Run a button's service call: a refusal (conflict, bad input) is flashed and gives
    (False, None); Forbidden and NotFound go on to the error pages."""
    try:
        return True, action()
    except (Conflict, InvalidInput) as exc:
        flash(exc.message, "error")
        return False, None
