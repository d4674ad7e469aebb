"""Configuration from environment variables (12-factor).

`load_config(instance_path)` reads the environment at call time, so tests can set variables
before building an app. Nothing secret lives in code: SECRET_KEY comes from the environment,
or for local runs is generated once and kept in instance/secret_key.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path
from urllib.parse import urlsplit


class ConfigError(RuntimeError):
    """The environment does not describe a runnable configuration."""


def normalize_database_url(url: str) -> str:
    """Accept the `postgres://` / `postgresql://` forms hosting platforms hand out.

    SQLAlchemy needs an explicit driver to use psycopg 3, so both are rewritten to
    `postgresql+psycopg://`; any other URL (SQLite, an explicit driver) is kept as given.
    """
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def _engine_options(database_url: str) -> dict:
    """A server database gets a pool sized for a gevent process, where many requests and
    socket events wait on the database at once: DB_POOL_SIZE connections kept open (a
    connection opened per request beyond the pool costs more than the query), DB_MAX_OVERFLOW
    more at a peak, closed when returned. SQLite keeps SQLAlchemy's own pool."""
    options: dict = {"pool_pre_ping": True}
    if not database_url.startswith("sqlite"):
        options["pool_size"] = _int("DB_POOL_SIZE", 10)
        options["max_overflow"] = _int("DB_MAX_OVERFLOW", 20)
        # A database that does not answer is an error, not a wait without end: connecting
        # gives up after DB_CONNECT_TIMEOUT_SECONDS, and PostgreSQL cancels a statement
        # (a lock wait included) running longer than DB_STATEMENT_TIMEOUT_SECONDS, which the
        # request answers as a 503 (app/errors.py). Migrations and the reports' rollup
        # refresh, which may rightly run long, lift it for their own transactions.
        connect_args: dict = {"connect_timeout": _int("DB_CONNECT_TIMEOUT_SECONDS", 5)}
        statement_timeout = _int("DB_STATEMENT_TIMEOUT_SECONDS", 30)
        if statement_timeout > 0:
            connect_args["options"] = f"-c statement_timeout={statement_timeout * 1000}"
        options["connect_args"] = connect_args
    return options


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from exc


def _float(name: str, default: float, *, zero_turns_off: bool = False) -> float:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from exc
    if value < 0 or (value == 0 and not zero_turns_off):
        least = "0 or more" if zero_turns_off else "above 0"
        raise ConfigError(f"{name} must be {least}, got {raw!r}")
    return value


def _ratelimit_storage_options(storage_uri: str | None) -> dict:
    """Redis behind the rate limits answers within 2 s or counts as down (a hung Redis must
    not hang every sign-in); other storages take no options."""
    if storage_uri and storage_uri.startswith(("redis://", "rediss://", "unix://")):
        return {"socket_connect_timeout": 2, "socket_timeout": 2}
    return {}


def _secret_key(instance_path: Path, production: bool) -> str:
    key = os.environ.get("SECRET_KEY")
    if key:
        return key
    if production:
        raise ConfigError("SECRET_KEY must be set when CAREBOOK_ENV=production")
    key_file = instance_path / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    key_file.write_text(key)
    key_file.chmod(0o600)
    return key


def _public_base_url(production: bool, port: int) -> str:
    url = (os.environ.get("PUBLIC_BASE_URL") or "").strip().rstrip("/")
    if not url:
        if production:
            raise ConfigError(
                "PUBLIC_BASE_URL must be set when CAREBOOK_ENV=production (e.g. "
                "https://carebook.example.com): emailed links are built from it"
            )
        return f"http://127.0.0.1:{port}"
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ConfigError(f"PUBLIC_BASE_URL must be an http(s) URL, got {url!r}")
    return url


def _smtp_host(production: bool) -> str | None:
    host = (os.environ.get("SMTP_HOST") or "").strip() or None
    if host is None and production:
        # Without it emails (with reset links and codes) would be written to the log.
        raise ConfigError(
            "SMTP_HOST must be set when CAREBOOK_ENV=production: without it emails, with "
            "their sign-in codes and password-reset links, would be written to the log"
        )
    return host


def _sms_settings(production: bool) -> dict:
    """SMS_PROVIDER and, for "twilio", its account (production refuses an incomplete one:
    every text, sign-in codes among them, would fail)."""
    provider = (os.environ.get("SMS_PROVIDER") or "log").strip().lower()
    settings = {
        "SMS_PROVIDER": provider,
        "TWILIO_ACCOUNT_SID": os.environ.get("TWILIO_ACCOUNT_SID") or None,
        "TWILIO_AUTH_TOKEN": os.environ.get("TWILIO_AUTH_TOKEN") or None,
        "TWILIO_FROM_NUMBER": os.environ.get("TWILIO_FROM_NUMBER") or None,
        "TWILIO_MESSAGING_SERVICE_SID": os.environ.get("TWILIO_MESSAGING_SERVICE_SID") or None,
        "TWILIO_API_BASE": (os.environ.get("TWILIO_API_BASE") or "https://api.twilio.com").rstrip(
            "/"
        ),
        "TWILIO_TIMEOUT_SECONDS": _int("TWILIO_TIMEOUT_SECONDS", 10),
    }
    if production and provider == "twilio":
        missing = [
            name for name in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN") if not settings[name]
        ]
        if not (settings["TWILIO_FROM_NUMBER"] or settings["TWILIO_MESSAGING_SERVICE_SID"]):
            missing.append("TWILIO_FROM_NUMBER or TWILIO_MESSAGING_SERVICE_SID")
        if missing:
            raise ConfigError(
                "SMS_PROVIDER=twilio needs " + ", ".join(missing) + " when CAREBOOK_ENV=production"
            )
    return settings


def _ice_servers() -> list[dict]:
    """ICE_SERVERS: a JSON list as RTCConfiguration.iceServers takes it, e.g.
    '[{"urls": "stun:stun.example.com:3478"}]'. Empty: none (enough on one network)."""
    raw = (os.environ.get("ICE_SERVERS") or "").strip()
    if not raw:
        return []
    try:
        servers = json.loads(raw)
    except ValueError as exc:
        raise ConfigError(f"ICE_SERVERS must be a JSON list: {exc}") from exc
    if not isinstance(servers, list) or not all(
        isinstance(s, dict) and isinstance(s.get("urls"), str | list) for s in servers
    ):
        raise ConfigError('ICE_SERVERS is a JSON list of {"urls": ...} objects')
    return servers


def _turn_settings() -> dict:
    """TURN_SECRET (coturn's static-auth-secret) with TURN_URLS: the app hands out
    time-limited TURN credentials (services/visits/ice.py). One without the other is refused."""
    secret = os.environ.get("TURN_SECRET") or None
    urls = [u.strip() for u in (os.environ.get("TURN_URLS") or "").split(",") if u.strip()]
    if bool(secret) != bool(urls):
        raise ConfigError("Set both TURN_SECRET and TURN_URLS (comma-separated), or neither")
    if any(not u.startswith(("turn:", "turns:")) for u in urls):
        raise ConfigError("TURN_URLS are turn: or turns: URLs, e.g. turn:turn.example.com:3478")
    return {
        "TURN_SECRET": secret,
        "TURN_URLS": urls,
        "TURN_CREDENTIAL_TTL_SECONDS": _int("TURN_CREDENTIAL_TTL_SECONDS", 4 * 3600),
    }


def _trusted_hosts(public_base_url: str, production: bool) -> list[str] | None:
    """Hosts the app answers for (others get 400). Unset: in production only the public
    host; in development any (make run is reached as localhost and 127.0.0.1 alike)."""
    raw = os.environ.get("TRUSTED_HOSTS")
    if raw:
        return [host.strip() for host in raw.split(",") if host.strip()]
    return [urlsplit(public_base_url).hostname] if production else None


def load_config(instance_path: str | Path) -> dict:
    """Build the Flask config mapping from the environment."""
    instance_path = Path(instance_path)
    env = os.environ.get("CAREBOOK_ENV", "development").strip().lower()
    if env not in {"development", "production", "test"}:
        raise ConfigError(f"CAREBOOK_ENV must be development, production or test, got {env!r}")
    production = env == "production"
    default_db = f"sqlite:///{instance_path / 'carebook.db'}"
    database_url = normalize_database_url(os.environ.get("DATABASE_URL") or default_db)
    if database_url.startswith("sqlite:///"):
        Path(database_url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    redis_url = os.environ.get("REDIS_URL") or None
    cookie_secure = _bool("SESSION_COOKIE_SECURE", production)
    port = _int("PORT", 5000)
    public_base_url = _public_base_url(production, port)
    optional = {}
    if os.environ.get("ADMIN_2FA_REQUIRED"):
        # Unset: on, except in apps built with TESTING (see app.auth.init_login).
        optional["ADMIN_2FA_REQUIRED"] = _bool("ADMIN_2FA_REQUIRED", True)
    if os.environ.get("RATELIMIT_ENABLED"):
        # Unset: on, except in apps built with TESTING (see app.extensions.init_limiter).
        optional["RATELIMIT_ENABLED"] = _bool("RATELIMIT_ENABLED", True)
    return {
        **optional,
        "CAREBOOK_ENV": env,
        "SECRET_KEY": _secret_key(instance_path, production),
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SQLALCHEMY_ENGINE_OPTIONS": _engine_options(database_url),
        "REDIS_URL": redis_url,
        "SOCKETIO_MESSAGE_QUEUE": os.environ.get("SOCKETIO_MESSAGE_QUEUE") or None,
        # Without REDIS_URL, the web process runs the periodic jobs (expire holds, reminders,
        # undelivered notifications) on a timer; 0 turns that off (a test server, say).
        "EMBEDDED_SCHEDULE": _bool("EMBEDDED_SCHEDULE", True),
        # The outbox: a pending notification not handed on within this many seconds is handed
        # on again; a worker's claim on one lapses after this many (the worker died).
        "NOTIFICATION_STALE_SECONDS": _int("NOTIFICATION_STALE_SECONDS", 60),
        "NOTIFICATION_CLAIM_LEASE_SECONDS": _int("NOTIFICATION_CLAIM_LEASE_SECONDS", 300),
        # Outgoing webhooks (services/webhooks/): addresses on private networks are refused
        # unless allowed (a local receiver in development); plain http only outside production.
        "WEBHOOKS_ALLOW_PRIVATE": _bool("WEBHOOKS_ALLOW_PRIVATE", False),
        "WEBHOOKS_REQUIRE_HTTPS": _bool("WEBHOOKS_REQUIRE_HTTPS", production),
        "WEBHOOKS_TIMEOUT_SECONDS": _int("WEBHOOKS_TIMEOUT_SECONDS", 5),
        "WEBHOOKS_DISABLE_AFTER": _int("WEBHOOKS_DISABLE_AFTER", 5),
        "PORT": port,
        # Emailed links (password reset, set-password) point here, never at the request's Host.
        "PUBLIC_BASE_URL": public_base_url,
        "TRUSTED_HOSTS": _trusted_hosts(public_base_url, production),
        "TRUSTED_PROXY_COUNT": _int("TRUSTED_PROXY_COUNT", 0),
        # /metrics: with a token, served to `Authorization: Bearer <token>` only; without,
        # to a loopback peer only, and never when a proxy is in front (app/metrics.py).
        "METRICS_TOKEN": os.environ.get("METRICS_TOKEN") or None,
        # The database gauges of /metrics are read at most this often per process.
        "METRICS_DB_CACHE_SECONDS": _int("METRICS_DB_CACHE_SECONDS", 15),
        # Specialties, clinics and the footer's policy links are read at most this often per
        # process (services/catalogue.py; a change is seen at once by the process making it).
        "CATALOGUE_CACHE_SECONDS": _int("CATALOGUE_CACHE_SECONDS", 30),
        # A visitor's public read (the search, a doctor's page and slots) is answered from this
        # process's copy of the same answer made within this many seconds (served up to twice
        # that while it is made anew; app/httpcache.py); 0 turns it off. Signed-in users and
        # bearer tokens always get a fresh answer.
        "PUBLIC_CACHE_SECONDS": _float("PUBLIC_CACHE_SECONDS", 1.0, zero_turns_off=True),
        "PUBLIC_CACHE_ENTRIES": _int("PUBLIC_CACHE_ENTRIES", 1000),
        # Key for secrets sealed in the database (a Fernet key); unset: derived from SECRET_KEY.
        "DATA_ENCRYPTION_KEY": os.environ.get("DATA_ENCRYPTION_KEY") or None,
        "LOG_LEVEL": os.environ.get("LOG_LEVEL", "INFO").upper(),
        "API_TOKEN_TTL_SECONDS": _int("API_TOKEN_TTL_SECONDS", 3600),
        # A refresh token unused for this long expires (each refresh gives a new one).
        "API_REFRESH_TOKEN_TTL_DAYS": _int("API_REFRESH_TOKEN_TTL_DAYS", 30),
        # Request bodies larger than this (bytes) get a 413 before any of it is read.
        "MAX_CONTENT_LENGTH": _int("MAX_CONTENT_LENGTH", 1024 * 1024),
        # Uploaded files (doctors' photos) live here, outside the database; a photo may be
        # this large (its upload alone may exceed MAX_CONTENT_LENGTH).
        "MEDIA_ROOT": os.environ.get("MEDIA_ROOT") or str(instance_path / "uploads"),
        "PHOTO_MAX_BYTES": _int("PHOTO_MAX_BYTES", 5 * 1024 * 1024),
        # A chat attachment (an image or a PDF) may be this large.
        "CHAT_ATTACHMENT_MAX_BYTES": _int("CHAT_ATTACHMENT_MAX_BYTES", 10 * 1024 * 1024),
        # Booking caps: upcoming active appointments (holds count) per patient, in all and with
        # one doctor; and how often one user may try to book (Flask-Limiter syntax).
        "MAX_ACTIVE_BOOKINGS": _int("MAX_ACTIVE_BOOKINGS", 10),
        "MAX_ACTIVE_BOOKINGS_PER_DOCTOR": _int("MAX_ACTIVE_BOOKINGS_PER_DOCTOR", 3),
        "BOOKING_RATE_LIMIT": os.environ.get("BOOKING_RATE_LIMIT") or "20/hour",
        # On-demand consults: a request nobody accepts within this many minutes expires (and
        # its card hold is released); each costs this (minor units, currency) whichever doctor
        # takes it; the video visit it becomes is booked for this many minutes.
        "CONSULT_EXPIRY_MINUTES": _int("CONSULT_EXPIRY_MINUTES", 10),
        "CONSULT_PRICE": _int("CONSULT_PRICE", 5000),
        "CONSULT_CURRENCY": (os.environ.get("CONSULT_CURRENCY") or "USD").strip().upper(),
        "CONSULT_MINUTES": _int("CONSULT_MINUTES", 20),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": cookie_secure,
        # A __Host- cookie is only sent over HTTPS, for this host and path "/": browsers
        # refuse it without Secure, so it is used only when cookies are Secure.
        "SESSION_COOKIE_NAME": "__Host-carebook" if production and cookie_secure else "carebook",
        "REMEMBER_COOKIE_HTTPONLY": True,
        # Sessions: server-side records (user_sessions), ended after this long idle or in all.
        "SESSION_IDLE_MINUTES": _int("SESSION_IDLE_MINUTES", 30),
        "SESSION_ABSOLUTE_HOURS": _int("SESSION_ABSOLUTE_HOURS", 12),
        # Rate limits (Flask-Limiter): shared in Redis when REDIS_URL is set.
        "RATELIMIT_STORAGE_URI": os.environ.get("RATELIMIT_STORAGE_URI")
        or redis_url
        or "memory://",
        "RATELIMIT_HEADERS_ENABLED": True,
        # Redis down: the limits count in this process's memory meanwhile (Flask-Limiter logs
        # "Rate limit storage unreachable - falling back to in-memory storage" and checks
        # Redis again with a backoff), and any other failure of the limiter lets the request
        # through with a logged error instead of a 500 (fail open).
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        "RATELIMIT_SWALLOW_ERRORS": True,
        "RATELIMIT_STORAGE_OPTIONS": _ratelimit_storage_options(
            os.environ.get("RATELIMIT_STORAGE_URI") or redis_url
        ),
        # Lifetimes of emailed links.
        "PASSWORD_RESET_TTL_MINUTES": _int("PASSWORD_RESET_TTL_MINUTES", 60),
        "SET_PASSWORD_TTL_HOURS": _int("SET_PASSWORD_TTL_HOURS", 72),
        "WTF_CSRF_ENABLED": _bool("WTF_CSRF_ENABLED", True),
        # Payments (Stripe). STRIPE_API_BASE points the stripe library at a Stripe-compatible
        # test server (localstripe); STRIPE_JS_URL is where pages load Stripe.js from.
        "STRIPE_SECRET_KEY": os.environ.get("STRIPE_SECRET_KEY") or None,
        "STRIPE_PUBLISHABLE_KEY": os.environ.get("STRIPE_PUBLISHABLE_KEY") or None,
        "STRIPE_WEBHOOK_SECRET": os.environ.get("STRIPE_WEBHOOK_SECRET") or None,
        "STRIPE_API_BASE": os.environ.get("STRIPE_API_BASE") or None,
        "STRIPE_JS_URL": os.environ.get("STRIPE_JS_URL") or "https://js.stripe.com/v3/",
        # How long one Stripe call may wait (connect, then each read): a stalled Stripe is a
        # retryable error ("try again", the hold kept) within this, times the library's
        # network retries (2 against Stripe, none against a test server), not a hung request.
        "STRIPE_TIMEOUT_SECONDS": _float("STRIPE_TIMEOUT_SECONDS", 10.0),
        # Email and SMS. Without SMTP_HOST, emails are written to the log (refused in production).
        "SMTP_HOST": _smtp_host(production),
        "SMTP_PORT": _int("SMTP_PORT", 25),
        "SMTP_USERNAME": os.environ.get("SMTP_USERNAME") or None,
        "SMTP_PASSWORD": os.environ.get("SMTP_PASSWORD") or None,
        "SMTP_STARTTLS": _bool("SMTP_STARTTLS", False),
        # A worker sends a batch of mails over this many SMTP connections at once.
        "SMTP_CONNECTIONS": _int("SMTP_CONNECTIONS", 4),
        "MAIL_FROM": os.environ.get("MAIL_FROM", "Carebook <no-reply@carebook.example.com>"),
        # SMS: "log" (texts written to the log) or "twilio" (TWILIO_*; see _sms_settings).
        **_sms_settings(production),
        # Video visits: ICE servers given to the browsers, and optional TURN credentials.
        "ICE_SERVERS": _ice_servers(),
        **_turn_settings(),
        # Sign in with Google (OpenID Connect).
        "GOOGLE_CLIENT_ID": os.environ.get("GOOGLE_CLIENT_ID") or None,
        "GOOGLE_CLIENT_SECRET": os.environ.get("GOOGLE_CLIENT_SECRET") or None,
        "GOOGLE_DISCOVERY_URL": os.environ.get(
            "GOOGLE_DISCOVERY_URL", "https://accounts.google.com/.well-known/openid-configuration"
        ),
        # flask-smorest / OpenAPI
        "API_TITLE": "Carebook API",
        "API_VERSION": "v1",
        "OPENAPI_VERSION": "3.0.3",
        "OPENAPI_URL_PREFIX": "/api/v1",
        "OPENAPI_JSON_PATH": "openapi.json",
    }
