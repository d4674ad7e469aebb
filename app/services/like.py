"""Substring search with LIKE/ILIKE where the user's text is text: `%`, `_` and the escape
character match themselves, never act as wildcards."""

from __future__ import annotations

from sqlalchemy import ColumnElement

ESCAPE = "\\"


def escape(text: str) -> str:
    """`text` with LIKE's wildcards and the escape character made literal."""
    return text.replace(ESCAPE, ESCAPE * 2).replace("%", ESCAPE + "%").replace("_", ESCAPE + "_")


def contains_pattern(text: str) -> str:
    """A LIKE pattern for "contains `text`" (trimmed and lower-cased)."""
    return f"%{escape(text.strip().lower())}%"


def contains(column, text: str, *, ignore_case: bool = True) -> ColumnElement[bool]:
    """SQL: `column` contains `text` literally. With ignore_case=False the pattern is still
    lower-cased: for columns stored lower-case (emails) or wrapped in lower()."""
    pattern = contains_pattern(text)
    if ignore_case:
        return column.ilike(pattern, escape=ESCAPE)
    return column.like(pattern, escape=ESCAPE)
