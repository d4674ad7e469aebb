"""Clinic-local time: every time is stored in UTC and entered and shown in the clinic's zone."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask_babel import gettext

from app.services.errors import InvalidInput


def zone(name: str) -> ZoneInfo:
    try:
        return _zone(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidInput(
            gettext("Unknown time zone %(zone)r.", zone=name), field="timezone"
        ) from exc


@lru_cache(maxsize=1024)
def _zone(name: str) -> ZoneInfo:
    # ZoneInfo keeps only the 8 zones used last: more clinics' zones than that would have
    # their files read again and again.
    return ZoneInfo(name)


def local_to_utc(day: date, at: time, tz: ZoneInfo) -> datetime | None:
    """The UTC instant of a wall-clock time in `tz`, or None when that time does not exist
    (skipped by a daylight-saving change). An ambiguous time takes its first occurrence."""
    local = datetime.combine(day, at, tzinfo=tz)
    as_utc = local.astimezone(UTC)
    if as_utc.astimezone(tz).replace(tzinfo=None) != local.replace(tzinfo=None):
        return None
    return as_utc


MIN_DAY = date(1970, 1, 1)
MAX_DAY = date(9000, 1, 1)


def check_day(day: date, field: str) -> date:
    """Refuse calendar days far outside anything Carebook schedules (and date overflow)."""
    if not MIN_DAY <= day <= MAX_DAY:
        raise InvalidInput(gettext("%(field)s is out of range.", field=field), field=field)
    return day


def day_bounds(day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """UTC start (inclusive) and end (exclusive) of a local calendar day."""
    start = datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz).astimezone(UTC)
    return start, end


def parse_aware(value: str, field: str) -> datetime:
    """An ISO 8601 timestamp that states its offset, as UTC. Raises InvalidInput."""
    try:
        parsed = datetime.fromisoformat(value)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(
            gettext("%(field)s must be an ISO 8601 date-time.", field=field), field=field
        ) from exc
    if parsed.tzinfo is None:
        raise InvalidInput(
            gettext(
                "%(field)s must include a UTC offset, e.g. 2030-01-31T09:00:00+01:00.", field=field
            ),
            field=field,
        )
    try:
        return parsed.astimezone(UTC)
    except OverflowError as exc:  # e.g. 0001-01-01T00:00+01:00 has no UTC instant
        raise InvalidInput(gettext("%(field)s is out of range.", field=field), field=field) from exc
