"""Marshmallow fields the API shares: ids, times with offsets, "lat,lng", weekdays."""

from __future__ import annotations

from datetime import date, datetime, time

import marshmallow as ma

from app.services.errors import InvalidInput
from app.services.localtime import parse_aware

# Ids and page numbers are PostgreSQL integers: a bigger number is a 422, not a database error.
MAX_INT = 2**31 - 1
# Days far from today are mistakes; past year 9998 the date arithmetic would overflow.
MIN_DAY, MAX_DAY = date(1900, 1, 1), date(9998, 12, 31)
_DAY_RANGE = f"Dates run from {MIN_DAY} to {MAX_DAY}."
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
FULL_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

# Field factories (named like the field classes they stand for).


def Id(*, strict: bool = True, **kwargs) -> ma.fields.Integer:
    """A row id. JSON bodies give numbers (strict); query strings give text."""
    return ma.fields.Integer(strict=strict, validate=ma.validate.Range(1, MAX_INT), **kwargs)


def PageNumber(default: int, maximum: int = MAX_INT, **kwargs) -> ma.fields.Integer:
    """A page number or size from 1 to `maximum` (the service's own limit, so that the
    document states it; the service still checks)."""
    return ma.fields.Integer(load_default=default, validate=ma.validate.Range(1, maximum), **kwargs)


def Day(**kwargs) -> ma.fields.Date:
    """A calendar date (YYYY-MM-DD) within MIN_DAY..MAX_DAY."""
    return ma.fields.Date(validate=ma.validate.Range(MIN_DAY, MAX_DAY, error=_DAY_RANGE), **kwargs)


def _aware(text: str, name: str) -> datetime:
    try:
        moment = parse_aware(text, name)
    except InvalidInput as exc:
        raise ma.ValidationError(exc.message) from exc
    except OverflowError as exc:  # e.g. 0001-01-01T00:00+01:00 has no UTC equivalent
        raise ma.ValidationError(_DAY_RANGE) from exc
    if not MIN_DAY <= moment.date() <= MAX_DAY:
        raise ma.ValidationError(_DAY_RANGE)
    return moment


class Text(ma.fields.String):
    """Input text. PostgreSQL cannot store NUL characters: refuse them here, as a 422."""

    def _deserialize(self, value, attr, data, **kwargs) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        if "\x00" in text:
            raise ma.ValidationError("Text cannot contain NUL characters.")
        return text


class Flag(ma.fields.Boolean):
    """A JSON true or false, nothing else: 1, "yes" or "on" are a 422, as the document's
    `boolean` says (marshmallow's own Boolean takes them, and 1 == True in a set)."""

    def _deserialize(self, value, attr, data, **kwargs) -> bool:
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value


class OffsetDateTime(ma.fields.String):
    """An ISO 8601 date-time that states its UTC offset; loaded as a UTC datetime."""

    def __init__(self, **kwargs):
        kwargs.setdefault("metadata", {}).setdefault("format", "date-time")
        super().__init__(**kwargs)

    def _deserialize(self, value, attr, data, **kwargs) -> datetime:
        text = super()._deserialize(value, attr, data, **kwargs)
        return _aware(text, self.data_key or attr or "value")


class DateOrOffsetDateTime(ma.fields.String):
    """A plain date (YYYY-MM-DD) or a date-time with an offset: a date or a UTC datetime."""

    def _deserialize(self, value, attr, data, **kwargs) -> date | datetime:
        text = super()._deserialize(value, attr, data, **kwargs)
        if len(text) != 10:
            return _aware(text, self.data_key or attr or "value")
        try:
            day = date.fromisoformat(text)
        except ValueError as exc:
            raise ma.ValidationError("Not a valid date (YYYY-MM-DD).") from exc
        if not MIN_DAY <= day <= MAX_DAY:
            raise ma.ValidationError(_DAY_RANGE)
        return day


class LocalTime(ma.fields.Time):
    """A clinic-local wall time (HH:MM); an offset makes no sense there and is refused."""

    def _deserialize(self, value, attr, data, **kwargs) -> time:
        at = super()._deserialize(value, attr, data, **kwargs)
        if at.tzinfo is not None:
            raise ma.ValidationError("A wall time is HH:MM, without an offset.")
        return at


class IsoString(ma.fields.String):
    """A date or a datetime written out in ISO 8601 as it is (local times keep their offset)."""

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else value.isoformat()


class LatLng(ma.fields.String):
    """ "LAT,LNG" in decimal degrees; loaded as a (latitude, longitude) pair."""

    def _deserialize(self, value, attr, data, **kwargs) -> tuple[float, float]:
        text = super()._deserialize(value, attr, data, **kwargs)
        parts = text.split(",")
        try:
            if len(parts) != 2:
                raise ValueError
            lat, lng = (float(part) for part in parts)
        except ValueError as exc:
            raise ma.ValidationError("Use LAT,LNG in decimal degrees, e.g. 40.71,-74.0.") from exc
        if not all(map(_finite, (lat, lng))):
            raise ma.ValidationError("Use LAT,LNG in decimal degrees, e.g. 40.71,-74.0.")
        return lat, lng


def _finite(number: float) -> bool:
    return number - number == 0  # false for inf and nan


class Weekday(ma.fields.Field):
    """0 (Monday) to 6, or a name: "mon", "Monday"... Loaded as 0..6."""

    def __init__(self, **kwargs):
        kwargs.setdefault("metadata", {}).update(
            oneOf=[
                {"type": "integer", "minimum": 0, "maximum": 6},
                {"type": "string", "enum": list(WEEKDAYS)},
            ]
        )
        super().__init__(**kwargs)

    def _deserialize(self, value, attr, data, **kwargs) -> int:
        if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 6:
            return value
        if isinstance(value, str):
            name = value.strip().lower()
            if name in WEEKDAYS:
                return WEEKDAYS.index(name)
            if name in FULL_WEEKDAYS:
                return FULL_WEEKDAYS.index(name)
        raise ma.ValidationError('A weekday is 0 (Monday) to 6, or a name such as "mon".')


class Flattened(ma.fields.Nested):
    """A nested object read from the parent's own attributes (fee_amount, fee_currency → fee)."""

    _CHECK_ATTRIBUTE = False

    def _serialize(self, value, attr, obj, **kwargs):
        return super()._serialize(obj, attr, obj, **kwargs)
