"""Flask extensions, created once and bound in create_app()."""

import logging
import sys
import threading

from authlib.integrations.flask_client import OAuth
from flask import Flask, current_app
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_socketio import SocketIO
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData, event
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import DeclarativeBase

# Named constraints keep Alembic migrations reproducible (and SQLite batch mode workable).
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


log = logging.getLogger(__name__)
db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
socketio = SocketIO()
# Limits are declared on the views (app/auth); storage is RATELIMIT_STORAGE_URI (Redis or memory).
limiter = Limiter(key_func=get_remote_address)


@limiter.request_filter
def _limits_off_for_this_app() -> bool:
    # The Limiter is one object for the process, its on/off switch too; several apps (tests)
    # each decide for themselves through their own config instead.
    return not current_app.config.get("RATELIMIT_ENABLED", True)


def release_sessions_safely(app: Flask) -> None:
    """End each request's session without letting a lost database turn a finished answer into
    a bare 500: closing rolls back an open transaction, and on a connection that died
    (PostgreSQL restarted mid-request) that rollback raises from the teardown, past every
    error handler. The dead connection is dropped instead; the pool opens a fresh one.
    Registered after Flask-SQLAlchemy's own teardown, so it runs first."""

    @app.teardown_appcontext
    def _release(_exc: BaseException | None) -> None:
        try:
            db.session.remove()
        except DBAPIError as exc:
            log.warning("database connection lost at the end of a request: %s", type(exc).__name__)
            db.session().invalidate()
            db.session.remove()


def init_limiter(app: Flask) -> None:
    """Rate limits are on unless configured off; apps built for tests (TESTING) default to off
    so that the suite can sign in freely, and the tests of the limits turn them on."""
    app.config.setdefault("RATELIMIT_ENABLED", not app.testing)
    limiter.init_app(app)
    limiter.enabled = True  # per app: see _limits_off_for_this_app


# Authlib's registry; the Google client itself is built per app in app/auth/google.py.
oauth = OAuth()


def configure_sqlite(engine) -> None:
    """Make SQLite (the embedded default) safe for concurrent requests.

    pysqlite starts transactions lazily and lets two readers race to upgrade to writers, which
    ends in "database is locked". Every transaction here starts with BEGIN IMMEDIATE instead,
    so writers queue (up to busy_timeout) and the booking invariants hold as on PostgreSQL.
    Foreign keys are enforced, as they are on PostgreSQL.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        dbapi_connection.execute("PRAGMA foreign_keys = ON")
        dbapi_connection.execute("PRAGMA busy_timeout = 30000")
        dbapi_connection.execute("PRAGMA journal_mode = WAL")
        # lower() as PostgreSQL folds (services/like.py): search finds the same rows on both.
        from app.services.like import SQLITE_FOLD, sqlite_fold

        dbapi_connection.create_function(SQLITE_FOLD, 1, sqlite_fold, deterministic=True)

    if _gevent_patched():
        _serialise_transactions(engine)
        return

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def _gevent_patched() -> bool:
    monkey = sys.modules.get("gevent.monkey")
    return monkey is not None and monkey.is_module_patched("socket")


_WRITE_LOCK = "carebook_sqlite_write_lock"


def _serialise_transactions(engine) -> None:
    """Under gevent (gunicorn -k gevent) every request is a greenlet of one thread, and
    SQLite's busy wait blocks in C without yielding: a second BEGIN IMMEDIATE would stall the
    whole process while the greenlet holding the write lock can never run to release it. So
    transactions of this process take turns on a (monkey-patched, cooperative) lock first;
    busy_timeout still queues them behind other processes."""
    lock = threading.Lock()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        lock.acquire()
        connection.info[_WRITE_LOCK] = True
        try:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            connection.info.pop(_WRITE_LOCK, None)
            lock.release()
            raise

    def _release(connection):
        # Called just before the COMMIT or ROLLBACK itself, which runs without yielding.
        if connection.info.pop(_WRITE_LOCK, False):
            lock.release()

    event.listen(engine, "commit", _release)
    event.listen(engine, "rollback", _release)
