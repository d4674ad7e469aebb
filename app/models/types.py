"""Column types shared by the models."""

from __future__ import annotations

import enum
from datetime import UTC, datetime

from sqlalchemy import DateTime, Enum, String, Text
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator):
    """A timezone-aware UTC timestamp on every backend.

    PostgreSQL stores `timestamptz`; SQLite has no zone, so values are stored as naive UTC and
    given back as aware UTC. Naive datetimes are refused: they are always a bug here.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class SealedText(TypeDecorator):
    """Free text sealed at rest (services/sealing.py): the database holds "v1:" ciphertext,
    the model gives and takes plain text. A value written before sealing reads as it is.

    For free-text health information (patients' booking notes). Such a column cannot be
    searched or compared in SQL; nothing here does.
    """

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect):
        from app.services import sealing  # noqa: PLC0415 — the one key lives with the service

        return None if value is None else sealing.seal(value)

    def process_result_value(self, value: str | None, dialect):
        from app.services import sealing  # noqa: PLC0415

        return None if value is None else sealing.unseal(value)


def enum_column(enum_cls: type[enum.Enum], name: str) -> Enum:
    """A VARCHAR enum with a CHECK constraint, storing the members' values."""
    return Enum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=max(len(m.value) for m in enum_cls),
        values_callable=lambda cls: [m.value for m in cls],
        validate_strings=True,
    )


def currency_column() -> String:
    return String(3)


def utcnow() -> datetime:
    return datetime.now(UTC)
