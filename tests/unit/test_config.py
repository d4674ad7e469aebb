import pytest

from app import create_app
from app.config import ConfigError, load_config, normalize_database_url

CONFIG_VARS = (
    "DATABASE_URL",
    "REDIS_URL",
    "SECRET_KEY",
    "PORT",
    "CAREBOOK_ENV",
    "LOG_LEVEL",
    "PUBLIC_BASE_URL",
    "TRUSTED_HOSTS",
    "MAX_CONTENT_LENGTH",
    "SMTP_HOST",
    "SMS_PROVIDER",
    "TWILIO_ACCOUNT_SID",
    "TWILIO_AUTH_TOKEN",
    "TWILIO_FROM_NUMBER",
    "TWILIO_MESSAGING_SERVICE_SID",
    "TWILIO_API_BASE",
    "ICE_SERVERS",
    "TURN_SECRET",
    "TURN_URLS",
    "TURN_CREDENTIAL_TTL_SECONDS",
)


@pytest.fixture
def clean_env(monkeypatch):
    for name in CONFIG_VARS:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgres://u:p@db:5432/care", "postgresql+psycopg://u:p@db:5432/care"),
        ("postgresql://u@db/care", "postgresql+psycopg://u@db/care"),
        ("postgresql+psycopg://u@db/care", "postgresql+psycopg://u@db/care"),
        ("sqlite:////tmp/x.db", "sqlite:////tmp/x.db"),
    ],
)
def test_database_url_forms_from_hosting_platforms_use_psycopg3(given, expected):
    assert normalize_database_url(given) == expected


def test_defaults_are_sqlite_in_instance_folder_and_inline_jobs(clean_env, tmp_path):
    config = load_config(tmp_path)
    assert config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'carebook.db'}"
    assert config["REDIS_URL"] is None
    assert config["PORT"] == 5000


def test_environment_overrides_database_redis_and_port(clean_env, tmp_path):
    clean_env.setenv("DATABASE_URL", "postgres://app@db.internal:5432/carebook")
    clean_env.setenv("REDIS_URL", "redis://cache:6379/0")
    clean_env.setenv("PORT", "8080")
    config = load_config(tmp_path)
    assert config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://app@db.internal:5432/carebook"
    assert config["REDIS_URL"] == "redis://cache:6379/0"
    assert config["PORT"] == 8080


def test_local_secret_key_is_generated_once_and_kept_in_instance(clean_env, tmp_path):
    first = load_config(tmp_path)["SECRET_KEY"]
    second = load_config(tmp_path)["SECRET_KEY"]
    assert len(first) >= 32
    assert first == second
    assert (tmp_path / "secret_key").read_text() == first
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_secret_key_from_environment_wins(clean_env, tmp_path):
    clean_env.setenv("SECRET_KEY", "from-env")
    assert load_config(tmp_path)["SECRET_KEY"] == "from-env"
    assert not (tmp_path / "secret_key").exists()


def test_production_refuses_to_start_without_secret_key(clean_env, tmp_path):
    clean_env.setenv("CAREBOOK_ENV", "production")
    clean_env.setenv("SMTP_HOST", "smtp.example.com")
    clean_env.setenv("PUBLIC_BASE_URL", "https://carebook.example.com")
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        load_config(tmp_path)


def test_production_refuses_to_start_without_a_public_base_url(clean_env, tmp_path):
    clean_env.setenv("CAREBOOK_ENV", "production")
    clean_env.setenv("SMTP_HOST", "smtp.example.com")
    clean_env.setenv("SECRET_KEY", "s3cret")
    with pytest.raises(ConfigError, match="PUBLIC_BASE_URL"):
        load_config(tmp_path)


def test_production_refuses_to_start_without_an_smtp_host(clean_env, tmp_path):
    clean_env.setenv("CAREBOOK_ENV", "production")
    clean_env.setenv("SECRET_KEY", "s3cret")
    clean_env.setenv("PUBLIC_BASE_URL", "https://carebook.example.com")
    with pytest.raises(ConfigError, match="SMTP_HOST"):
        load_config(tmp_path)
    clean_env.setenv("SMTP_HOST", "smtp.example.com")
    assert load_config(tmp_path)["SMTP_HOST"] == "smtp.example.com"


def test_production_refuses_twilio_without_its_account_and_sender(clean_env, tmp_path):
    clean_env.setenv("CAREBOOK_ENV", "production")
    clean_env.setenv("SECRET_KEY", "s3cret")
    clean_env.setenv("PUBLIC_BASE_URL", "https://carebook.example.com")
    clean_env.setenv("SMTP_HOST", "smtp.example.com")
    clean_env.setenv("SMS_PROVIDER", "twilio")
    with pytest.raises(ConfigError, match="TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_FROM"):
        load_config(tmp_path)
    clean_env.setenv("TWILIO_ACCOUNT_SID", "AC123")
    clean_env.setenv("TWILIO_AUTH_TOKEN", "token")
    with pytest.raises(ConfigError, match="TWILIO_FROM_NUMBER or TWILIO_MESSAGING_SERVICE_SID"):
        load_config(tmp_path)
    clean_env.setenv("TWILIO_MESSAGING_SERVICE_SID", "MG123")
    config = load_config(tmp_path)
    assert config["SMS_PROVIDER"] == "twilio"
    assert config["TWILIO_API_BASE"] == "https://api.twilio.com"


def test_development_sends_texts_to_the_log_by_default(clean_env, tmp_path):
    assert load_config(tmp_path)["SMS_PROVIDER"] == "log"


def test_development_without_smtp_host_logs_emails(clean_env, tmp_path):
    assert load_config(tmp_path)["SMTP_HOST"] is None


def test_production_answers_only_for_the_public_host(clean_env, tmp_path):
    clean_env.setenv("CAREBOOK_ENV", "production")
    clean_env.setenv("SMTP_HOST", "smtp.example.com")
    clean_env.setenv("SECRET_KEY", "s3cret")
    clean_env.setenv("PUBLIC_BASE_URL", "https://carebook.example.com/")
    config = load_config(tmp_path)
    assert config["PUBLIC_BASE_URL"] == "https://carebook.example.com"
    assert config["TRUSTED_HOSTS"] == ["carebook.example.com"]
    clean_env.setenv("TRUSTED_HOSTS", "carebook.example.com, www.carebook.example.com")
    assert load_config(tmp_path)["TRUSTED_HOSTS"] == [
        "carebook.example.com",
        "www.carebook.example.com",
    ]


def test_public_base_url_must_be_http(clean_env, tmp_path):
    clean_env.setenv("PUBLIC_BASE_URL", "javascript:alert(1)")
    with pytest.raises(ConfigError, match="PUBLIC_BASE_URL"):
        load_config(tmp_path)


def test_production_cookies_are_secure(clean_env, tmp_path):
    clean_env.setenv("CAREBOOK_ENV", "production")
    clean_env.setenv("SMTP_HOST", "smtp.example.com")
    clean_env.setenv("SECRET_KEY", "s3cret")
    clean_env.setenv("PUBLIC_BASE_URL", "https://carebook.example.com")
    config = load_config(tmp_path)
    assert config["SESSION_COOKIE_SECURE"] is True
    assert config["SESSION_COOKIE_HTTPONLY"] is True
    assert config["SESSION_COOKIE_SAMESITE"] == "Lax"


@pytest.mark.parametrize(("name", "value"), [("PORT", "eighty"), ("CAREBOOK_ENV", "staging")])
def test_bad_values_are_reported_by_name(clean_env, tmp_path, name, value):
    clean_env.setenv(name, value)
    with pytest.raises(ConfigError, match=name):
        load_config(tmp_path)


def test_create_app_reads_environment_and_accepts_overrides(clean_env, tmp_path):
    clean_env.setenv("SECRET_KEY", "k")
    clean_env.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'a.db'}")
    app = create_app({"PORT": 6001})
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'a.db'}"
    assert app.config["PORT"] == 6001


def test_behind_a_proxy_the_client_address_comes_from_forwarded_headers(clean_env, tmp_path):
    from flask import request

    clean_env.setenv("SECRET_KEY", "k")
    clean_env.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'a.db'}")
    clean_env.setenv("TRUSTED_PROXY_COUNT", "1")
    app = create_app()

    @app.get("/_ip")
    def _ip():
        return request.remote_addr

    _ip.access_rule = "public"
    response = app.test_client().get(
        "/_ip", environ_base={"REMOTE_ADDR": "10.0.0.1"}, headers={"X-Forwarded-For": "203.0.113.7"}
    )
    assert response.get_data(as_text=True) == "203.0.113.7"


def test_request_bodies_are_limited_to_1_mib_unless_configured(clean_env, tmp_path):
    assert load_config(tmp_path)["MAX_CONTENT_LENGTH"] == 1024 * 1024
    clean_env.setenv("MAX_CONTENT_LENGTH", "65536")
    assert load_config(tmp_path)["MAX_CONTENT_LENGTH"] == 65536
    clean_env.setenv("MAX_CONTENT_LENGTH", "big")
    with pytest.raises(ConfigError, match="MAX_CONTENT_LENGTH"):
        load_config(tmp_path)


def test_video_visits_have_no_ice_servers_by_default(clean_env, tmp_path):
    config = load_config(tmp_path)
    assert (config["ICE_SERVERS"], config["TURN_SECRET"], config["TURN_URLS"]) == ([], None, [])


def test_ice_servers_and_turn_come_from_the_environment(clean_env, tmp_path):
    clean_env.setenv("ICE_SERVERS", '[{"urls": ["stun:stun.example.com:3478"]}]')
    clean_env.setenv("TURN_SECRET", "shared-secret")
    clean_env.setenv("TURN_URLS", "turn:turn.example.com:3478, turns:turn.example.com:5349")
    clean_env.setenv("TURN_CREDENTIAL_TTL_SECONDS", "600")
    config = load_config(tmp_path)
    assert config["ICE_SERVERS"] == [{"urls": ["stun:stun.example.com:3478"]}]
    assert config["TURN_URLS"] == ["turn:turn.example.com:3478", "turns:turn.example.com:5349"]
    assert (config["TURN_SECRET"], config["TURN_CREDENTIAL_TTL_SECONDS"]) == ("shared-secret", 600)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"ICE_SERVERS": "stun:stun.example.com"}, "JSON list"),
        ({"ICE_SERVERS": '{"urls": "stun:x"}'}, "JSON list of"),
        ({"ICE_SERVERS": '[{"url": "stun:x"}]'}, "JSON list of"),
        ({"TURN_SECRET": "s"}, "both TURN_SECRET and TURN_URLS"),
        ({"TURN_URLS": "turn:x:3478"}, "both TURN_SECRET and TURN_URLS"),
        ({"TURN_SECRET": "s", "TURN_URLS": "stun:x:3478"}, "turn: or turns:"),
    ],
)
def test_bad_ice_and_turn_settings_are_refused(clean_env, tmp_path, settings, message):
    for name, value in settings.items():
        clean_env.setenv(name, value)
    with pytest.raises(ConfigError, match=message):
        load_config(tmp_path)


def test_stripe_timeout_is_read_and_must_be_a_positive_number(clean_env, tmp_path):
    clean_env.setenv("SECRET_KEY", "x")
    clean_env.delenv("STRIPE_TIMEOUT_SECONDS", raising=False)
    assert load_config(tmp_path)["STRIPE_TIMEOUT_SECONDS"] == 10.0
    clean_env.setenv("STRIPE_TIMEOUT_SECONDS", "2.5")
    assert load_config(tmp_path)["STRIPE_TIMEOUT_SECONDS"] == 2.5
    for bad in ("soon", "0"):
        clean_env.setenv("STRIPE_TIMEOUT_SECONDS", bad)
        with pytest.raises(ConfigError, match="STRIPE_TIMEOUT_SECONDS"):
            load_config(tmp_path)


def test_the_answer_cache_is_a_second_by_default_and_zero_turns_it_off(clean_env, tmp_path):
    clean_env.setenv("SECRET_KEY", "x")
    clean_env.delenv("PUBLIC_CACHE_SECONDS", raising=False)
    assert load_config(tmp_path)["PUBLIC_CACHE_SECONDS"] == 1.0
    clean_env.setenv("PUBLIC_CACHE_SECONDS", "0")
    assert load_config(tmp_path)["PUBLIC_CACHE_SECONDS"] == 0
    for bad in ("soon", "-1"):
        clean_env.setenv("PUBLIC_CACHE_SECONDS", bad)
        with pytest.raises(ConfigError, match="PUBLIC_CACHE_SECONDS must be"):
            load_config(tmp_path)


def test_database_timeouts_are_passed_to_postgresql_only(clean_env, tmp_path):
    clean_env.setenv("SECRET_KEY", "x")
    clean_env.setenv("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/x")
    options = load_config(tmp_path)["SQLALCHEMY_ENGINE_OPTIONS"]
    assert options["connect_args"] == {
        "connect_timeout": 5,
        "options": "-c statement_timeout=30000",
    }
    clean_env.setenv("DB_STATEMENT_TIMEOUT_SECONDS", "0")
    assert load_config(tmp_path)["SQLALCHEMY_ENGINE_OPTIONS"]["connect_args"] == {
        "connect_timeout": 5
    }
    clean_env.setenv("DATABASE_URL", "sqlite:///x.db")
    assert "connect_args" not in load_config(tmp_path)["SQLALCHEMY_ENGINE_OPTIONS"]


def test_rate_limits_on_redis_fail_open_and_time_out(clean_env, tmp_path):
    clean_env.setenv("SECRET_KEY", "x")
    clean_env.delenv("RATELIMIT_STORAGE_URI", raising=False)
    config = load_config(tmp_path)
    assert config["RATELIMIT_STORAGE_OPTIONS"] == {}  # memory://
    assert config["RATELIMIT_IN_MEMORY_FALLBACK_ENABLED"] and config["RATELIMIT_SWALLOW_ERRORS"]
    clean_env.setenv("REDIS_URL", "redis://127.0.0.1:6379/0")
    options = load_config(tmp_path)["RATELIMIT_STORAGE_OPTIONS"]
    assert options == {"socket_connect_timeout": 2, "socket_timeout": 2}
