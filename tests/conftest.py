"""Fixtures: a migrated PostgreSQL database per test session, the app, a client, sign-in.

Each test that touches the database gets a clean one: every table is truncated afterwards.
"""

from __future__ import annotations

import contextvars
import os
import tempfile
import time

import flask_migrate
import pytest
from flask import has_app_context
from flask.testing import FlaskClient
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, OperationalError

from app import create_app
from app.config import normalize_database_url
from app.extensions import db
from tests import servers, services
from tests.factories import PASSWORD

TEST_SECRET_KEY = "test-secret-key-not-for-production"
os.environ.setdefault("SECRET_KEY", TEST_SECRET_KEY)
# Uploaded photos of a test run go to a folder of their own, never the instance folder (the
# environment carries it to the live servers too).
MEDIA_ROOT = os.environ.setdefault("MEDIA_ROOT", tempfile.mkdtemp(prefix="carebook-media-"))


class IsolatedClient(FlaskClient):
    """Runs each request in its own context, as a server would.

    A test holds an app context for its factories; without this, requests would share that
    context's `g` (Flask-Login caches the user there) and database session. After a request the
    test's session is expired so that it reads what the request committed.
    """

    def open(self, *args, **kwargs):
        response = contextvars.Context().run(super().open, *args, **kwargs)
        if has_app_context():
            db.session.expire_all()
        return response


def build_app(database_url: str, **overrides):
    config = {
        "TESTING": True,
        "SECRET_KEY": TEST_SECRET_KEY,
        "SQLALCHEMY_DATABASE_URI": normalize_database_url(database_url),
        "WTF_CSRF_ENABLED": False,
        "REDIS_URL": None,
        "LOG_LEVEL": "WARNING",
        "MEDIA_ROOT": MEDIA_ROOT,
        # Tests empty the tables with TRUNCATE, behind the catalogue cache's back: no cache
        # (tests/integration/test_catalogue.py turns it on).
        "CATALOGUE_CACHE_SECONDS": 0,
        # Nor a cache of visitors' answers: tests read what they just wrote
        # (tests/integration/test_answer_cache.py turns it on).
        "PUBLIC_CACHE_SECONDS": 0,
    }
    config.update(overrides)
    app = create_app(config)
    app.test_client_class = IsolatedClient
    return app


def dispose(app) -> None:
    """Close an app's pooled connections (left open they end as ResourceWarnings)."""
    with app.app_context():
        for engine in db.engines.values():
            engine.dispose()


@pytest.fixture
def make_app():
    """Build extra apps (other settings) inside a test; their pools are closed afterwards."""
    built = []

    def factory(database_url: str, **overrides):
        app = build_app(database_url, **overrides)
        built.append(app)
        return app

    yield factory
    for app in built:
        dispose(app)


@pytest.fixture(scope="session")
def database_url():
    url = services.create_database()
    yield url
    services.drop_database(url)


@pytest.fixture(scope="session")
def app(database_url):
    app = build_app(database_url)
    with app.app_context():
        flask_migrate.upgrade()
        db.session.remove()
    yield app
    dispose(app)


@pytest.fixture
def ctx(app):
    """An app context for the test body; afterwards every table is emptied."""
    with app.app_context():
        yield
        db.session.remove()
        empty_tables()


def empty_tables(tries: int = 5) -> None:
    """Empty every table and restart every id sequence, as TRUNCATE ... RESTART IDENTITY
    would, but with DELETE (children first): a test leaves a few rows, and deleting them costs
    milliseconds where a TRUNCATE of every table costs a tenth of a second or more (it makes
    each table's files anew). A live server may still be answering a page's last request (a
    socket connecting, a poll) as the test ends; PostgreSQL then may pick this transaction as
    a deadlock's victim, or a row inserted meanwhile may still be referenced: it is simply
    tried again."""
    statement = _emptying_statement()
    for attempt in range(tries):
        try:
            with db.engine.begin() as conn:
                conn.exec_driver_sql(statement)
            return
        except (OperationalError, IntegrityError) as exc:
            retryable = isinstance(exc, IntegrityError) or "deadlock detected" in str(exc)
            if not retryable or attempt == tries - 1:
                raise
            time.sleep(0.2 * (attempt + 1))


_EMPTYING: dict[str, str] = {}


def _emptying_statement() -> str:
    """One script (cached per database): DELETE from each table, children before parents,
    then every sequence of the schema back to 1."""
    key = str(db.engine.url)
    if key not in _EMPTYING:
        deletes = [f'DELETE FROM "{t.name}"' for t in reversed(db.metadata.sorted_tables)]
        with db.engine.connect() as conn:
            sequences = conn.scalars(
                text(
                    "SELECT c.oid::regclass::text FROM pg_class c WHERE c.relkind = 'S'"
                    " AND c.relnamespace = 'public'::regnamespace"
                )
            ).all()
        restarts = ", ".join(f"setval('{name}', 1, false)" for name in sequences)
        _EMPTYING[key] = "; ".join(deletes + ([f"SELECT {restarts}"] if restarts else []))
    return _EMPTYING[key]


@pytest.fixture
def client(app, ctx):
    return app.test_client()


@pytest.fixture
def runner(app, ctx):
    return app.test_cli_runner()


class AuthActions:
    def __init__(self, client):
        self._client = client

    def login(self, email: str, password: str = PASSWORD, **extra):
        return self._client.post("/login", data={"email": email, "password": password, **extra})

    def logout(self):
        return self._client.post("/logout")

    def token(self, email: str, password: str = PASSWORD) -> str:
        response = self._client.post(
            "/api/v1/auth/token", json={"email": email, "password": password}
        )
        assert response.status_code == 200, response.get_json()
        return response.get_json()["access_token"]


@pytest.fixture
def auth(client):
    return AuthActions(client)


@pytest.fixture
def redis_url():
    client = services.redis_client()
    client.flushdb()
    yield services.TEST_REDIS_URL
    client.flushdb()


@pytest.fixture(scope="session")
def sqlite_app(tmp_path_factory):
    """The app on a migrated SQLite file: the embedded default of `make run`."""
    path = tmp_path_factory.mktemp("sqlite") / "carebook.db"
    app = build_app(f"sqlite:///{path}")
    with app.app_context():
        flask_migrate.upgrade()
        db.session.remove()
    yield app
    dispose(app)


@pytest.fixture(params=["postgresql", "sqlite"])
def any_db(request):
    """Run the test once on PostgreSQL and once on SQLite; yields the backend name."""
    if request.param == "postgresql":
        request.getfixturevalue("ctx")
        yield "postgresql"
        return
    app = request.getfixturevalue("sqlite_app")
    with app.app_context():
        yield "sqlite"
        db.session.remove()
        with db.engine.begin() as conn:
            for table in reversed(db.metadata.sorted_tables):
                conn.execute(table.delete())


@pytest.fixture(scope="session")
def live_server(app, database_url):
    """The app served by gunicorn in its own process, on the test database."""
    process, base_url = servers.start_app_server(database_url, TEST_SECRET_KEY)
    yield base_url
    servers.stop(process)


@pytest.fixture(scope="session")
def smtp_server():
    """A real SMTP server (aiosmtpd) on a free port; its handler is the Inbox."""
    from aiosmtpd.controller import Controller

    from tests.mail import Inbox

    controller = Controller(Inbox(), hostname="127.0.0.1", port=servers.free_port())
    controller.start()
    yield controller
    controller.stop()


@pytest.fixture
def inbox(smtp_server):
    smtp_server.handler.clear()
    yield smtp_server.handler
    smtp_server.handler.clear()


@pytest.fixture
def sms(monkeypatch):
    """Texts go to an in-memory outbox (SMS_PROVIDER=test)."""
    from app.services import messaging
    from tests.mail import Outbox

    monkeypatch.setitem(messaging.SMS_PROVIDERS, "test", Outbox)
    Outbox.messages = []
    return Outbox


@pytest.fixture(scope="session")
def twilio_server():
    """A local server of Twilio's Messages API shape (tests/sms_server.py)."""
    from tests.sms_server import TwilioStub

    with TwilioStub() as stub:
        yield stub


@pytest.fixture
def twilio(twilio_server):
    """The Twilio stand-in, accepting and empty; `twilio.config()` points an app at it."""
    twilio_server.reset()
    yield twilio_server
    twilio_server.reset()
