"""Security headers on every response: a Content-Security-Policy, no framing, no sniffing;
no caching of anything personal; and the request size limit.

Pages carry no inline scripts and no inline styles, so scripts come only from this origin and
Stripe.js (whose origin follows STRIPE_JS_URL, so localstripe works in tests) and styles only
from this origin.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, Response, abort, request, session
from flask_babel import gettext
from flask_login import current_user

HSTS = "max-age=31536000; includeSubDomains"
# Responses that are the same for everyone and keep their own caching (files, photos).
SHARED_ENDPOINTS = frozenset({"static", "main.doctor_photo"})
# API answers that are tokens.
TOKEN_ENDPOINTS = frozenset({"api.issue_token", "api.refresh_token"})


def _origin(url: str | None) -> str | None:
    if not url:
        return None
    parts = urlsplit(url)
    if not parts.scheme or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}"


def content_security_policy(config) -> str:
    """The policy for this configuration (Stripe origins come from the settings)."""
    stripe_js = _origin(config.get("STRIPE_JS_URL"))
    stripe_api = _origin(config.get("STRIPE_API_BASE")) or "https://api.stripe.com"
    stripe_frames = [o for o in (stripe_js, "https://hooks.stripe.com") if o]
    site = _origin(config.get("PUBLIC_BASE_URL"))
    socket_origin = site.replace("http", "ws", 1) if site else None
    directives = {
        "default-src": ["'self'"],
        "script-src": ["'self'", *([stripe_js] if stripe_js else [])],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        # 'self' covers same-origin WebSockets (Socket.IO) in current browsers; the ws(s)://
        # origin of PUBLIC_BASE_URL is named too, for browsers that predate that rule.
        "connect-src": [
            "'self'",
            *([socket_origin] if socket_origin else []),
            stripe_api,
            *([stripe_js] if stripe_js else []),
        ],
        "frame-src": stripe_frames,
        "frame-ancestors": ["'none'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
    return "; ".join(
        f"{name} {' '.join(dict.fromkeys(values))}" for name, values in directives.items()
    )


def is_personal() -> bool:
    """The response is for someone: a signed-in user, a request with a bearer token (or the
    token endpoint's answer, which is one), or one that sets the session cookie."""
    if request.path.startswith("/api/") and (
        "Authorization" in request.headers or request.endpoint in TOKEN_ENDPOINTS
    ):
        return True
    return session.modified or current_user.is_authenticated


def _size(limit: int) -> str:
    for unit, factor in (("MiB", 1024 * 1024), ("KiB", 1024)):
        if limit >= factor and limit % factor == 0:
            return f"{limit // factor} {unit}"
    return f"{limit} bytes"


# Multipart framing and the form's other fields, on top of an upload's own limit.
UPLOAD_OVERHEAD = 1024 * 1024


def takes_upload(config_key: str, *, page: str):
    """Let a view take a body up to app.config[config_key] plus UPLOAD_OVERHEAD instead of
    MAX_CONTENT_LENGTH (a photo upload); a larger one sends the browser back to `page` (an
    endpoint, given this request's query arguments) with a message, not to an error page
    (app/errors.py). Put it right under the route decorator."""

    def mark(view):
        view.upload_limit_key = config_key
        view.upload_page = page
        return view

    return mark


def upload_view(app: Flask):
    """The matched view when it takes an upload (takes_upload), else None."""
    view = app.view_functions.get(request.endpoint or "")
    return view if getattr(view, "upload_limit_key", None) else None


def body_limit(app: Flask) -> int | None:
    """The largest body the matched view takes."""
    view = upload_view(app)
    if view is None:
        return app.config.get("MAX_CONTENT_LENGTH")
    return app.config[view.upload_limit_key] + UPLOAD_OVERHEAD


def install_request_size_limit(app: Flask) -> None:
    """A declared body over MAX_CONTENT_LENGTH (or an upload view's own limit) is refused
    (413) before anything reads it: first thing, ahead of CSRF checks, rate-limit keys and
    views. (A chunked body without a length is cut off by werkzeug at the same limit while it
    is read.)"""

    def _refuse_large_bodies():
        limit = body_limit(app)
        request.max_content_length = limit
        if limit and request.content_length is not None and request.content_length > limit:
            abort(
                413,
                gettext("The request body is larger than the %(size)s allowed.", size=_size(limit)),
            )

    app.before_request_funcs.setdefault(None, []).insert(0, _refuse_large_bodies)


def install_security_headers(app: Flask) -> None:
    policy = content_security_policy(app.config)
    production = app.config.get("CAREBOOK_ENV") == "production"

    @app.after_request
    def _security_headers(response: Response) -> Response:
        headers = response.headers
        headers.setdefault("Content-Security-Policy", policy)
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        if production:
            headers.setdefault("Strict-Transport-Security", HSTS)
        # Nothing of a signed-in user, a token or a session stays in a browser's or proxy's
        # cache (the back button after signing out, a shared computer). Static files keep
        # their caching, and so do photos: they are the same for everyone.
        # A response that says no-store already (a 503 while the database is out of reach,
        # when asking who is signed in would fail again) needs no look at the user.
        if (
            headers.get("Cache-Control") != "no-store"
            and request.endpoint not in SHARED_ENDPOINTS
            and is_personal()
        ):
            headers["Cache-Control"] = "no-store"
        return response
