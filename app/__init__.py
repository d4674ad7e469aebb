"""The application factory."""

from __future__ import annotations

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from app.background import init_background
from app.cli import register_cli
from app.compression import install_compression
from app.config import load_config
from app.errors import register_error_handlers
from app.extensions import (
    configure_sqlite,
    csrf,
    db,
    init_limiter,
    login_manager,
    migrate,
    oauth,
    release_sessions_safely,
)
from app.httpcache import install_http_cache
from app.i18n import init_i18n
from app.metrics import init_metrics
from app.requestlog import configure_logging
from app.security import install_request_size_limit, install_security_headers
from app.sockets import init_sockets
from app.static_files import install_static_fingerprints
from app.templating import init_templating


def create_app(config: dict | None = None) -> Flask:
    """Build the app: configuration from the environment (then `config` on top), extensions,
    blueprints and CLI commands."""
    app = Flask(
        __name__,
        instance_relative_config=True,
        template_folder="../templates",
        static_folder="../static",
    )
    app.config.from_mapping(load_config(app.instance_path))
    if config:
        app.config.from_mapping(config)

    configure_logging(app)
    if app.config["TRUSTED_PROXY_COUNT"]:
        # Behind N reverse proxies: the client's address (rate limits, audit) and scheme come
        # from their X-Forwarded-* headers. Not the host: links use PUBLIC_BASE_URL.
        hops = app.config["TRUSTED_PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)

    db.init_app(app)
    release_sessions_safely(app)
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            configure_sqlite(db.engine)
    migrate.init_app(app, db, directory=str(app.root_path + "/../migrations"))
    csrf.init_app(app)
    login_manager.init_app(app)
    init_limiter(app)
    oauth.init_app(app)
    init_sockets(app)

    # Blueprints import their route modules, which import the rest of the app: loaded when an
    # app is built (the Flask factory pattern), not when `app` is imported (workers, models).
    from app import (  # noqa: F401, PLC0415
        admin,
        auth,
        chat,
        doctor,
        main,
        models,
        notifications,
        patient,
        payments,
        visits,
    )
    from app.api import init_api  # noqa: PLC0415 — same: the API blueprint and its routes
    from app.services import catalogue  # noqa: F401, PLC0415 — its session hooks forget on commit

    init_i18n(app)
    init_templating(app)
    auth.init_login(app)
    app.register_blueprint(main.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(patient.bp)
    app.register_blueprint(doctor.bp)
    app.register_blueprint(payments.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(notifications.bp)
    app.register_blueprint(chat.bp)
    app.register_blueprint(visits.bp)
    init_api(app)
    register_error_handlers(app)
    install_security_headers(app)
    # Run in the reverse order: static caching, then gzip, then the ETag (of what is sent).
    install_http_cache(app)
    install_compression(app)
    install_static_fingerprints(app)
    install_request_size_limit(app)
    register_cli(app)
    init_metrics(app)
    init_background(app)
    return app
