"""Absolute links for emails and texts, built from the configured PUBLIC_BASE_URL.

Never from the request: its Host header is whatever the sender typed, and a reset link that
followed it would carry a working token to someone else's site.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from flask import current_app


def public_url(endpoint: str, **values) -> str:
    """The absolute URL of `endpoint` on the public site (works outside a request too)."""
    base = urlsplit(current_app.config["PUBLIC_BASE_URL"])
    adapter = current_app.url_map.bind(
        base.netloc, script_name=base.path or "/", url_scheme=base.scheme
    )
    return adapter.build(endpoint, values, force_external=True)


def absolute_url(path: str) -> str:
    """The absolute URL of a path on the public site (a page another area serves)."""
    return current_app.config["PUBLIC_BASE_URL"].rstrip("/") + path


def site_path(url: str | None) -> str | None:
    """The path (with its query and fragment) of a URL on the public site, for a redirect
    that must stay on it; None for a URL anywhere else, or one a browser could read as
    another host (`//evil.example`, `/\\evil.example`)."""
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme or parts.netloc:
        base = urlsplit(current_app.config["PUBLIC_BASE_URL"])
        if (parts.scheme.lower(), parts.netloc.lower()) != (
            base.scheme.lower(),
            base.netloc.lower(),
        ):
            return None
    path = parts.path or "/"
    if not path.startswith("/") or path.startswith("//") or "\\" in url:
        return None
    if any(ord(ch) < 0x20 for ch in url):
        return None
    return urlunsplit(("", "", path, parts.query, parts.fragment))
