"""What rarely changes, kept by each process for the public pages: the specialties, the
clinics (and the time zones they are in) and the footer's policy links.

Each is read from the database at most once every CATALOGUE_CACHE_SECONDS (30 by default; 0
reads every time) per process and app, as plain values (never rows tied to a session). A
commit that wrote a specialty, a clinic or a content page drops what it touched at once in
the process that made it, whichever path wrote (admin pages, the CLI, the demo seed): the
session records what each flush wrote, and forgets it on rollback. Other processes see the
change within CATALOGUE_CACHE_SECONDS. Writes that bypass the ORM (raw SQL, a TRUNCATE)
are only seen then too: the test suite, which empties tables that way, runs with 0.
"""

from __future__ import annotations

import time
from itertools import chain
from types import SimpleNamespace

from flask import current_app, has_app_context
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from app.extensions import db
from app.models import Clinic, ContentPage, Specialty

DEFAULT_SECONDS = 30
# Which entries a written row makes stale.
WATCHED = {
    Specialty: ("specialties",),
    Clinic: ("clinics", "zones"),
    ContentPage: ("policies",),
}
_PENDING = "carebook_catalogue_changed"


def _store() -> dict:
    return current_app.extensions.setdefault("carebook_catalogue", {})


def _cached(name: str, load):
    seconds = current_app.config.get("CATALOGUE_CACHE_SECONDS", DEFAULT_SECONDS)
    if seconds <= 0:
        return load()
    store = _store()
    hit = store.get(name)
    now = time.monotonic()
    if hit is not None and now - hit[0] < seconds:
        return hit[1]
    value = load()
    store[name] = (now, value)
    return value


def forget(*names: str) -> None:
    """Drop these entries (all of them without names) in this process and app."""
    store = _store()
    for name in names or list(store):
        store.pop(name, None)


def _snapshot(row) -> SimpleNamespace:
    """A row's columns as a plain object: safe to share between requests and threads."""
    return SimpleNamespace(
        **{attr.key: getattr(row, attr.key) for attr in db.inspect(row).mapper.column_attrs}
    )


def specialties() -> list[SimpleNamespace]:
    """Every specialty (id, name, slug), by name."""
    return _cached(
        "specialties",
        lambda: [
            _snapshot(s) for s in db.session.scalars(select(Specialty).order_by(Specialty.name))
        ],
    )


def clinics() -> list[SimpleNamespace]:
    """Every clinic (its columns), by name."""
    return _cached(
        "clinics",
        lambda: [_snapshot(c) for c in db.session.scalars(select(Clinic).order_by(Clinic.name))],
    )


def clinic_zones() -> list[str]:
    """The time zones the clinics are in, each once, sorted."""
    return _cached(
        "zones",
        lambda: sorted(db.session.scalars(select(Clinic.timezone).distinct())),
    )


def footer_policies() -> list[tuple[str, str]]:
    """(slug, title) of every published policy page, in the footer's order."""
    from app.services import content

    return _cached("policies", content.footer_policies)


@event.listens_for(Session, "after_flush")
def _note_writes(session, _context) -> None:
    touched = {
        name
        for row in chain(session.new, session.dirty, session.deleted)
        for name in WATCHED.get(type(row), ())
    }
    if touched:
        session.info.setdefault(_PENDING, set()).update(touched)


@event.listens_for(Session, "after_commit")
def _forget_written(session) -> None:
    touched = session.info.pop(_PENDING, None)
    if touched and has_app_context():
        forget(*touched)


@event.listens_for(Session, "after_rollback")
def _nothing_written(session) -> None:
    session.info.pop(_PENDING, None)
