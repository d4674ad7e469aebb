"""Backing up and restoring the whole database: `flask backup <file>`, `flask restore <file>`.

PostgreSQL goes through pg_dump / pg_restore in their custom format (compressed, restorable
table by table, and the format pg_restore checks); pg_dump must be at least the server's
major version, or it refuses to dump. SQLite uses the sqlite3 module's online backup API,
which copies a consistent snapshot while the app keeps running.

A restore goes only into an empty database, unless `force` is given: restoring over live
data is a decision, not an accident.
"""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

PG_MAGIC = b"PGDMP"
SQLITE_MAGIC = b"SQLite format 3\x00"


class BackupError(RuntimeError):
    """A backup or restore refused or failed; the message says why (for the CLI)."""


@dataclass(frozen=True)
class _Target:
    kind: str  # "postgresql" or "sqlite"
    libpq_url: str | None = None  # without the password (that goes in PGPASSWORD)
    password: str | None = None
    sqlite_path: str | None = None


def _target(database_url: str) -> _Target:
    url = make_url(database_url)
    backend = url.get_backend_name()
    if backend == "postgresql":
        plain = url.set(drivername="postgresql", password=None)
        return _Target(
            "postgresql",
            libpq_url=plain.render_as_string(hide_password=False),
            password=url.password,
        )
    if backend == "sqlite":
        if not url.database or url.database == ":memory:":
            raise BackupError("An in-memory SQLite database cannot be backed up.")
        return _Target("sqlite", sqlite_path=url.database)
    raise BackupError(f"Backups support PostgreSQL and SQLite, not {backend}.")


def _env(target: _Target) -> dict[str, str]:
    env = dict(os.environ)
    if target.password:
        env["PGPASSWORD"] = target.password
    return env


def _major(version_text: str) -> int:
    match = re.search(r"(\d+)(?:\.\d+)?", version_text)
    if match is None:
        raise BackupError(f"Cannot read a version from {version_text!r}.")
    return int(match.group(1))


def _run(args: list[str], target: _Target) -> None:
    try:
        done = subprocess.run(args, env=_env(target), capture_output=True, text=True, check=False)
    except FileNotFoundError as exc:
        raise BackupError(f"{args[0]} is not installed (PostgreSQL client tools).") from exc
    if done.returncode != 0:
        raise BackupError(f"{args[0]} failed: {done.stderr.strip() or done.returncode}")


def _check_pg_dump_version(database_url: str) -> None:
    try:
        client = subprocess.run(
            ["pg_dump", "--version"], capture_output=True, text=True, check=True
        ).stdout
    except (FileNotFoundError, subprocess.CalledProcessError) as exc:
        raise BackupError("pg_dump is not installed (PostgreSQL client tools).") from exc
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            server = conn.execute(text("SHOW server_version")).scalar_one()
    finally:
        engine.dispose()
    if _major(client.split("(PostgreSQL)")[-1]) < _major(server):
        raise BackupError(
            f"pg_dump {client.strip()} is older than the server ({server}): install the "
            "client tools of the server's major version."
        )


def backup(database_url: str, path: str | Path) -> Path:
    """Write a full backup of the database to `path`. Raises BackupError."""
    target, path = _target(database_url), Path(path)
    if target.kind == "postgresql":
        _check_pg_dump_version(database_url)
        _run(
            ["pg_dump", "--format=custom", "--no-owner", "--file", str(path), target.libpq_url],
            target,
        )
    else:
        source = sqlite3.connect(target.sqlite_path)
        copy = sqlite3.connect(path)
        try:
            source.backup(copy)
        finally:
            copy.close()
            source.close()
    return path


def is_empty(database_url: str) -> bool:
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            return not inspect(conn).get_table_names()
    finally:
        engine.dispose()


def _check_file(path: Path, target: _Target) -> None:
    if not path.is_file():
        raise BackupError(f"No backup file at {path}.")
    with path.open("rb") as handle:
        head = handle.read(len(SQLITE_MAGIC))
    expected = PG_MAGIC if target.kind == "postgresql" else SQLITE_MAGIC
    if not head.startswith(expected):
        raise BackupError(f"{path} is not a {target.kind} backup made by `flask backup`.")


def restore(database_url: str, path: str | Path, *, force: bool = False) -> None:
    """Restore the backup at `path` into the database. Raises BackupError (among others when
    the database already has tables and `force` is not given)."""
    target, path = _target(database_url), Path(path)
    _check_file(path, target)
    if not force and not is_empty(database_url):
        raise BackupError(
            "The database is not empty: restore into a fresh database, or pass --force to "
            "replace everything in it."
        )
    if target.kind == "postgresql":
        args = ["pg_restore", "--no-owner", "--exit-on-error", "--single-transaction"]
        if force:
            args += ["--clean", "--if-exists"]
        _run([*args, "--dbname", target.libpq_url, str(path)], target)
    else:
        source = sqlite3.connect(path)
        destination = sqlite3.connect(target.sqlite_path)
        try:
            source.backup(destination)  # replaces the destination's whole content
        finally:
            destination.close()
            source.close()
