"""Dates, times and numbers as the reader's language writes them (Babel's CLDR data).

Templates and the notification catalogue name a format the strftime way ('%a %d %b %Y,
%H:%M'); English keeps exactly what strftime writes, other languages get the same fields in
their own order and words ('lun 7 sept 2026, 09:00'). Outside a request or a forced locale
(app/i18n.py) everything is English.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal

from babel.dates import format_datetime as babel_format_datetime
from babel.numbers import format_decimal as babel_format_decimal
from flask_babel import get_locale

# strftime directive -> CLDR (LDML) pattern field, for English (the same text strftime gives).
_FIELDS = {
    "a": "EEE",
    "A": "EEEE",
    "d": "dd",
    "e": "d",
    "b": "MMM",
    "B": "MMMM",
    "m": "MM",
    "y": "yy",
    "Y": "yyyy",
    "H": "HH",
    "I": "hh",
    "M": "mm",
    "S": "ss",
    "p": "a",
    "%": "%",
}
# Spanish writes the day without a leading zero and joins a full month to the day and the year
# with "de" ("lunes 7 de septiembre de 2026"); these are the formats the pages use.
_SPANISH = {
    "%d %B %Y": "d 'de' MMMM 'de' yyyy",
    "%A %d %B %Y": "EEEE d 'de' MMMM 'de' yyyy",
    "%A %d %B %Y, %H:%M": "EEEE d 'de' MMMM 'de' yyyy, HH:mm",
    "%A %d %B": "EEEE d 'de' MMMM",
    "%B %Y": "LLLL 'de' yyyy",
    "%b %Y": "LLL yyyy",
}
_DIRECTIVE = re.compile(r"%(.)")


def locale_code() -> str:
    locale = get_locale()
    return locale.language if locale is not None else "en"


def _pattern(fmt: str, language: str) -> str:
    if language == "es" and fmt in _SPANISH:
        return _SPANISH[fmt]
    out, last = [], 0
    for match in _DIRECTIVE.finditer(fmt):
        literal = fmt[last : match.start()]
        if literal:
            out.append("'" + literal.replace("'", "''") + "'")
        field = _FIELDS.get(match.group(1))
        if field is None:
            raise ValueError(f"no localised form of %{match.group(1)} in {fmt!r}")
        if language != "en" and field == "dd":
            field = "d"
        out.append(field)
        last = match.end()
    if fmt[last:]:
        out.append("'" + fmt[last:].replace("'", "''") + "'")
    return "".join(out)


def format_dt(value: date | datetime | None, fmt: str) -> str:
    """`value` written with the strftime-style `fmt` in the current language; no zone change
    (an aware datetime is written in its own zone). '%Z' is the zone's abbreviation."""
    if value is None:
        return ""
    language = locale_code()
    if "%Z" in fmt:
        zone_name = value.tzname() if isinstance(value, datetime) else None
        fmt = fmt.replace("%Z", (zone_name or "").replace("%", "%%"))
    if language == "en":
        return value.strftime(fmt)
    if not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day)
    return babel_format_datetime(
        value, _pattern(fmt, language), tzinfo=value.tzinfo, locale=language
    )


def format_number(value: int | float | Decimal | None, fmt: str = "#,##0.##") -> str:
    """A number with the language's separators (English: '1,234.5'; Spanish: '1234,5')."""
    if value is None:
        return ""
    return babel_format_decimal(value, format=fmt, locale=locale_code())
