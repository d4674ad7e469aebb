"""What a report covers: local days, a grouping, and the doctors in scope; who may see it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, timedelta

from flask_babel import gettext
from sqlalchemy import select

from app.extensions import db
from app.models import Clinic, Doctor, Role, Specialty, User
from app.services.access import doctor_of, has_permission, load_actor
from app.services.errors import ClinicNotFound, Forbidden, InvalidInput, SpecialtyNotFound

GROUPINGS = ("day", "week", "month")
MAX_DAYS = 366  # a report covers at most this many days (a year, leap or not)
DEFAULT_DAYS = 30
PERMISSION = "reports.view"
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2100, 12, 31)


@dataclass(frozen=True)
class ReportScope:
    """Local calendar days start..end (inclusive, each clinic's own zone), a grouping, and
    which doctors: one, a clinic's, a specialty's, or all. `staff` adds the money reports."""

    start: date
    end: date
    group_by: str = "day"
    doctor_id: int | None = None
    clinic_id: int | None = None
    specialty_id: int | None = None
    staff: bool = False

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def as_args(self) -> dict[str, str]:
        """The query arguments that give this scope again (links, CSV downloads)."""
        args = {"from": self.start.isoformat(), "to": self.end.isoformat()}
        args["group_by"] = self.group_by
        for key in ("doctor_id", "clinic_id", "specialty_id"):
            if getattr(self, key) is not None:
                args[key] = str(getattr(self, key))
        return args


def _day(args: Mapping[str, str], key: str) -> date | None:
    raw = (args.get(key) or "").strip()
    if not raw:
        return None
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        raise InvalidInput(
            gettext("'%(key)s' must be a date written YYYY-MM-DD.", key=key), field=key
        ) from None
    if not FIRST_DAY <= day <= LAST_DAY:
        raise InvalidInput(
            gettext(
                "'%(key)s' must lie between %(year)s and %(year2)s.",
                key=key,
                year=FIRST_DAY.year,
                year2=LAST_DAY.year,
            ),
            field=key,
        )
    return day


def _id(args: Mapping[str, str], key: str) -> int | None:
    raw = (args.get(key) or "").strip()
    if not raw:
        return None
    if not raw.isdigit() or len(raw) > 9 or int(raw) == 0:
        raise InvalidInput(
            gettext("'%(key)s' must be a positive whole number.", key=key), field=key
        )
    return int(raw)


def parse_scope(args: Mapping[str, str], *, today: date) -> ReportScope:
    """A scope from query arguments (from, to, group_by, doctor_id, clinic_id,
    specialty_id). Defaults: the 30 days up to today, by day. Raises InvalidInput."""
    end = _day(args, "to")
    start = _day(args, "from")
    if end is None:
        end = max(today, start) if start else today
    if start is None:
        start = end - timedelta(days=DEFAULT_DAYS - 1)
    if start > end:
        raise InvalidInput(gettext("'from' is after 'to'."), field="from")
    if (end - start).days + 1 > MAX_DAYS:
        raise InvalidInput(
            gettext("A report covers at most %(MAX_DAYS)s days.", MAX_DAYS=MAX_DAYS), field="to"
        )
    group_by = (args.get("group_by") or "day").strip()
    if group_by not in GROUPINGS:
        raise InvalidInput(gettext("'group_by' must be day, week or month."), field="group_by")
    return ReportScope(
        start=start,
        end=end,
        group_by=group_by,
        doctor_id=_id(args, "doctor_id"),
        clinic_id=_id(args, "clinic_id"),
        specialty_id=_id(args, "specialty_id"),
    )


def authorize(actor_id: int, scope: ReportScope) -> ReportScope:
    """The scope the actor may see. A doctor sees their own reports only: naming another
    doctor is Forbidden, and the scope is pinned to their own id. Staff with reports.view
    (admins) see any scope, with the money reports. Everyone else: Forbidden. A clinic or
    specialty that does not exist is a 404, a doctor that does not exist an empty report."""
    actor = load_actor(actor_id)
    if actor.role is Role.DOCTOR:
        own = doctor_of(actor)
        if own is None:
            raise Forbidden(gettext("This account has no doctor profile."))
        if scope.doctor_id is not None and scope.doctor_id != own.id:
            raise Forbidden(gettext("Doctors see their own reports only."))
        return replace(scope, doctor_id=own.id, staff=False)
    if not has_permission(actor, PERMISSION):
        raise Forbidden(gettext("Reports need the reports.view permission."))
    if scope.clinic_id is not None and db.session.get(Clinic, scope.clinic_id) is None:
        raise ClinicNotFound()
    if scope.specialty_id is not None and db.session.get(Specialty, scope.specialty_id) is None:
        raise SpecialtyNotFound()
    return replace(scope, staff=True)


def scope_doctor(scope: ReportScope) -> Doctor | None:
    return db.session.get(Doctor, scope.doctor_id) if scope.doctor_id is not None else None


@dataclass(frozen=True)
class Option:
    id: int
    name: str


@dataclass(frozen=True)
class FilterOptions:
    clinics: list[Option]
    specialties: list[Option]
    doctors: list[Option]


def filter_options() -> FilterOptions:
    """What the staff's filters offer: every clinic, specialty and doctor, by name."""

    def options(stmt) -> list[Option]:
        return [Option(row[0], row[1]) for row in db.session.execute(stmt)]

    return FilterOptions(
        clinics=options(select(Clinic.id, Clinic.name).order_by(Clinic.name)),
        specialties=options(select(Specialty.id, Specialty.name).order_by(Specialty.name)),
        doctors=options(
            select(Doctor.id, User.name)
            .join(User, User.id == Doctor.user_id)
            .order_by(User.name, Doctor.id)
        ),
    )
