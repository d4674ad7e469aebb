"""HTTP caching of the public reads: an ETag on each answer (a repeated GET with
If-None-Match gets 304 Not Modified, no body) and a Cache-Control saying how long it may be
reused without asking.

A view opts in with @cacheable(max_age): only GET/HEAD answers 200 to someone anonymous are
marked (a signed-in user's page, a bearer token's answer or one that sets the session cookie
stays `no-store`, app/security.py). max_age 0 is `no-cache`: stored, but checked every time
(free slots change by the second; the check is cheap with the ETag). Fingerprinted static
files are cached for a year instead (app/templating.py, static_url).
"""

from __future__ import annotations

from flask import Flask, Response, request

from app.security import is_personal


def cacheable(max_age: int = 0):
    """Mark a public view's GET answers as cacheable for `max_age` seconds (0: revalidate)."""

    def mark(view):
        view.cache_max_age = max_age
        return view

    return mark


def install_http_cache(app: Flask) -> None:
    @app.after_request
    def _etag(response: Response) -> Response:
        view = app.view_functions.get(request.endpoint or "")
        max_age = getattr(view, "cache_max_age", None)
        if (
            max_age is None
            or request.method not in ("GET", "HEAD")
            or response.status_code != 200
            or response.direct_passthrough
            or is_personal()
        ):
            return response
        response.add_etag()
        response.headers["Cache-Control"] = (
            f"public, max-age={max_age}" if max_age > 0 else "public, no-cache"
        )
        response.vary.add("Accept-Encoding")
        return response.make_conditional(request)
