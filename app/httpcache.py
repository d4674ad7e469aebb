"""HTTP caching of the public reads: an ETag on each answer (a repeated GET with
If-None-Match gets 304 Not Modified, no body) and a Cache-Control saying how long it may be
reused without asking; and a short-lived cache of those answers in each server process.

A view opts in with @cacheable(max_age): only GET/HEAD answers 200 to someone anonymous are
marked (a signed-in user's page, a bearer token's answer or one that sets the session cookie
stays `no-store`, app/security.py). max_age 0 is `no-cache`: stored, but checked every time
(free slots change by the second; the check is cheap with the ETag). Fingerprinted static
files are cached for a year instead (app/templating.py, static_url).

The answer cache (PUBLIC_CACHE_SECONDS, 0 turns it off): a visitor's request to such a view
that carries nothing personal (no Authorization header, no session or remember-me cookie) is
answered from the last answer to the same URL, language and encoding made in this process
within PUBLIC_CACHE_SECONDS, without running the view. An answer older than that but younger
than twice that is still served while one request makes it anew (stale-while-revalidate), so
a popular page expiring sends one request to the database, not every waiting one. A visitor
may thus see free slots up to about 2 x PUBLIC_CACHE_SECONDS old; a signed-in user (anyone who
can book) always gets them fresh, and booking checks the slot itself (409 when it went).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

from flask import Flask, Response, g, request

from app.i18n import current_locale
from app.security import is_personal

LARGEST_ANSWER = 256 * 1024  # bytes: a larger answer is never kept
ANSWER_BYTES = 32 * 1024 * 1024  # bytes: what all kept answers of a process may hold


def cacheable(max_age: int = 0):
    """Mark a public view's GET answers as cacheable for `max_age` seconds (0: revalidate)."""

    def mark(view):
        view.cache_max_age = max_age
        return view

    return mark


@dataclass
class _Answer:
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    made_at: float
    refreshing: bool = False


class AnswerCache:
    """The last answers to public GETs, by key, kept `seconds` and served stale up to twice
    that while one request refreshes them; at most `entries` of them and `max_bytes` of
    bodies (least recently used go first). Thread- and greenlet-safe: one lock around a
    dict."""

    def __init__(
        self, seconds: float, entries: int, *, max_bytes: int = ANSWER_BYTES, clock=time.monotonic
    ) -> None:
        self.seconds = seconds
        self.entries = entries
        self.max_bytes = max_bytes
        self.clock = clock
        self._answers: OrderedDict[tuple, _Answer] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def lookup(self, key: tuple) -> _Answer | None:
        """The answer to serve for `key`, or None: make it (and store it)."""
        now = self.clock()
        with self._lock:
            answer = self._answers.get(key)
            if answer is None:
                return None
            age = now - answer.made_at
            if age >= 2 * self.seconds:
                self._drop(key)
                return None
            self._answers.move_to_end(key)
            if age < self.seconds:
                return answer
            if answer.refreshing:
                return answer  # stale, and another request is making it anew
            answer.refreshing = True  # (a refresh that fails leaves it to age out)
            return None

    def store(self, key: tuple, status: int, headers: list, body: bytes) -> None:
        with self._lock:
            self._drop(key)
            self._answers[key] = _Answer(status, headers, body, self.clock())
            self._bytes += len(body)
            while len(self._answers) > self.entries or self._bytes > self.max_bytes:
                self._drop(next(iter(self._answers)))

    def _drop(self, key: tuple) -> None:
        answer = self._answers.pop(key, None)
        if answer is not None:
            self._bytes -= len(answer.body)

    def __len__(self) -> int:
        return len(self._answers)


def _anonymous_key(app: Flask) -> tuple | None:
    """The cache key of a request that carries nothing personal, else None."""
    if request.method not in ("GET", "HEAD") or "Authorization" in request.headers:
        return None
    cookies = request.cookies
    if app.config["SESSION_COOKIE_NAME"] in cookies or (
        app.config.get("REMEMBER_COOKIE_NAME", "remember_token") in cookies
    ):
        return None
    return (
        request.scheme,
        request.host,
        request.full_path,
        current_locale(),
        request.accept_encodings["gzip"] > 0,
    )


def _cache_max_age(app: Flask) -> int | None:
    view = app.view_functions.get(request.endpoint or "")
    return getattr(view, "cache_max_age", None)


def install_http_cache(app: Flask) -> None:
    seconds = app.config.get("PUBLIC_CACHE_SECONDS", 0)
    answers = AnswerCache(seconds, app.config.get("PUBLIC_CACHE_ENTRIES", 1000))
    app.extensions["answer_cache"] = answers

    @app.before_request
    def _replay() -> Response | None:
        # Registered after the request log, the language and the rate limits: a replayed
        # answer is logged, counted and limited as any other.
        if seconds <= 0 or _cache_max_age(app) is None:
            return None
        key = _anonymous_key(app)
        if key is None:
            return None
        answer = answers.lookup(key)
        if answer is None:
            g.answer_cache_key = key  # made by the view; _etag stores it
            return None
        return Response(answer.body, status=answer.status, headers=answer.headers)

    @app.after_request
    def _etag(response: Response) -> Response:
        max_age = _cache_max_age(app)
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
        key = g.pop("answer_cache_key", None)
        if (
            key is not None
            and "Set-Cookie" not in response.headers
            and not response.is_streamed
            and response.content_length is not None
            and response.content_length <= LARGEST_ANSWER
        ):
            answers.store(key, response.status_code, list(response.headers), response.get_data())
        return response.make_conditional(request)
