"""Fingerprinted static files: every url_for('static', ...) carries `v`, a hash of the file's
bytes, so a changed file has a new URL and a URL's file never changes. Those are served with
`Cache-Control: public, max-age=31536000, immutable` (a browser never asks again); a static
URL without its current `v` keeps Flask's default (revalidated with its ETag). The templates
are unchanged: the fingerprint is added where Flask builds the URL (url_defaults).
"""

from __future__ import annotations

import hashlib
import os

from flask import Flask, Response, request

IMMUTABLE = "public, max-age=31536000, immutable"


def install_static_fingerprints(app: Flask) -> None:
    folder = app.static_folder
    seen: dict[str, tuple[float, str]] = {}  # filename -> (mtime, fingerprint)

    def fingerprint(filename: str) -> str | None:
        path = os.path.join(folder, filename)
        try:
            mtime = os.stat(path).st_mtime
        except OSError:
            return None
        hit = seen.get(filename)
        if hit is not None and hit[0] == mtime:
            return hit[1]
        with open(path, "rb") as handle:
            value = hashlib.sha256(handle.read()).hexdigest()[:12]
        seen[filename] = (mtime, value)
        return value

    @app.url_defaults
    def _add_fingerprint(endpoint: str, values: dict) -> None:
        if endpoint == "static" and "v" not in values and "filename" in values:
            version = fingerprint(values["filename"])
            if version is not None:
                values["v"] = version

    @app.after_request
    def _immutable(response: Response) -> Response:
        if (
            request.endpoint == "static"
            and response.status_code in (200, 304)
            and request.args.get("v")
            and request.args.get("v") == fingerprint(request.view_args.get("filename", ""))
        ):
            response.headers["Cache-Control"] = IMMUTABLE
            response.expires = None
        return response
