"""Substring search with LIKE/ILIKE where the user's text is text: `%`, `_` and the escape
character match themselves, never act as wildcards."""

from __future__ import annotations

from sqlalchemy import ColumnElement, String
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import GenericFunction

ESCAPE = "\\"
# SQLite's own lower() folds ASCII only; the app gives its connections this one instead
# (extensions.configure_sqlite), so that a search finds the same rows there as on PostgreSQL.
SQLITE_FOLD = "carebook_fold"


def fold(text: str) -> str:
    """Lower-case `text` as PostgreSQL's lower() does: code point by code point, each to one
    (Python's str.lower() maps 'İ' to two and lowers a final 'Σ' to 'ς')."""
    return "".join(c.lower()[0] if c.lower() else c for c in text)


def sqlite_fold(value):
    return fold(value) if isinstance(value, str) else value


class folded(GenericFunction):
    """SQL: lower(`column`) as `fold` does it, on PostgreSQL and SQLite alike."""

    type = String()
    inherit_cache = True


@compiles(folded)
def _folded(element, compiler, **kw):
    return f"lower({compiler.process(element.clauses, **kw)})"


@compiles(folded, "sqlite")
def _folded_sqlite(element, compiler, **kw):
    return f"{SQLITE_FOLD}({compiler.process(element.clauses, **kw)})"


def escape(text: str) -> str:
    """`text` with LIKE's wildcards and the escape character made literal."""
    return text.replace(ESCAPE, ESCAPE * 2).replace("%", ESCAPE + "%").replace("_", ESCAPE + "_")


def contains_pattern(text: str) -> str:
    """A LIKE pattern for "contains `text`" (trimmed and lower-cased as `fold` does)."""
    return f"%{escape(fold(text.strip()))}%"


def contains(column, text: str, *, ignore_case: bool = True) -> ColumnElement[bool]:
    """SQL: `column` contains `text` literally. With ignore_case=False the pattern is still
    lower-cased: for columns stored lower-case (emails) or wrapped in folded()/lower()."""
    pattern = contains_pattern(text)
    if ignore_case:
        return column.ilike(pattern, escape=ESCAPE)
    return column.like(pattern, escape=ESCAPE)
