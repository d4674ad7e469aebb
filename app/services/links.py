"""Absolute links for emails and texts, built from the configured PUBLIC_BASE_URL.

Never from the request: its Host header is whatever the sender typed, and a reset link that
followed it would carry a working token to someone else's site.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app


def public_url(endpoint: str, **values) -> str:
    """The absolute URL of `endpoint` on the public site (works outside a request too)."""
    base = urlsplit(current_app.config["PUBLIC_BASE_URL"])
    adapter = current_app.url_map.bind(
        base.netloc, script_name=base.path or "/", url_scheme=base.scheme
    )
    return adapter.build(endpoint, values, force_external=True)
