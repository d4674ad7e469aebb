"""CSV for the reports: rows written one at a time, cells safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from datetime import date, datetime

# A cell a spreadsheet would read as a formula (or, after a tab or carriage return, might):
# OWASP's list for CSV injection.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value) -> str:
    """One cell's text. Text that starts like a formula gets a leading apostrophe, which
    spreadsheets show as text and never evaluate; numbers, dates and None are written as
    they are (a number is not a formula, -2 included)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value) if isinstance(value, float) else str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    text = str(value)
    if text.startswith(FORMULA_STARTS):
        return "'" + text
    return text


def csv_lines(header: list[str], keys: list[str], rows: Iterable[dict]) -> Iterator[str]:
    """The CSV text, a line at a time: the header, then each row (cells through csv_safe)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")

    def take() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate(0)
        return text

    writer.writerow([csv_safe(h) for h in header])
    yield take()
    for row in rows:
        writer.writerow([csv_safe(row.get(key)) for key in keys])
        yield take()
