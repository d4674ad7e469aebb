"""gzip for the HTML pages and JSON answers worth it: COMPRESS_MIN_BYTES (1 KiB) and more,
to a client that says it takes gzip. Streamed answers (the CSV exports), files sent from disk
(static files, photos: already compact, and served as files), Socket.IO (not a Flask
response) and anything already encoded are left as they are.

Compressing runs before the ETag is taken (app/httpcache.py), so a gzip answer and a plain
one carry different ETags, as RFC 9110 wants of two representations.
"""

from __future__ import annotations

import gzip

from flask import Flask, Response, request

COMPRESSED_TYPES = frozenset({"text/html", "application/json", "application/problem+json"})


def install_compression(app: Flask) -> None:
    minimum = app.config.get("COMPRESS_MIN_BYTES", 1024)
    level = app.config.get("COMPRESS_LEVEL", 5)

    @app.after_request
    def _gzip(response: Response) -> Response:
        if response.mimetype in COMPRESSED_TYPES:
            response.vary.add("Accept-Encoding")
        if (
            response.mimetype not in COMPRESSED_TYPES
            or response.direct_passthrough
            or response.is_streamed
            or "Content-Encoding" in response.headers
            or not 200 <= response.status_code < 300
            or response.status_code == 204
            or request.accept_encodings["gzip"] <= 0
        ):
            return response
        body = response.get_data()
        if len(body) < minimum:
            return response
        response.set_data(gzip.compress(body, compresslevel=level, mtime=0))
        response.headers["Content-Encoding"] = "gzip"
        return response
