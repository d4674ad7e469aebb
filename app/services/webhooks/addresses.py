"""Where a webhook may go, and the POST that goes there (no server-side request forgery).

A URL is checked when it is registered and again at every delivery: its host is resolved and
every address it resolves to must be public (not loopback, private, link-local, shared,
reserved, multicast or unspecified), unless WEBHOOKS_ALLOW_PRIVATE is set. The POST then
connects to the very address that was checked, not to whatever the name resolves to a moment
later (DNS rebinding), with the name kept for the Host header, SNI and the certificate check.
Redirects are not followed: a 3xx is a failed attempt.

By hand on http.client, because pinning the connection to a checked address is the point:
requests and urllib3 resolve the name again inside the connection pool.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import current_app
from flask_babel import gettext, lazy_gettext

from app.services.errors import InvalidInput

MAX_URL_LENGTH = 2000
RESPONSE_BYTES_READ = 1024  # of the answer's body: enough for an error line, bounded


class UnsafeURL(InvalidInput):
    code = "webhook_url_refused"
    default_message = lazy_gettext("This address cannot receive webhooks.")


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str  # with the query string
    addresses: tuple[str, ...]  # the checked addresses the host resolves to


@dataclass(frozen=True)
class Answer:
    status: int
    duration_ms: int


class SendFailed(Exception):
    """No HTTP answer: refused address, DNS, connection, TLS, timeout."""

    def __init__(self, message: str, duration_ms: int = 0):
        super().__init__(message)
        self.duration_ms = duration_ms


def _refused_reason(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    mapped = getattr(address, "ipv4_mapped", None)
    if mapped is not None:
        address = mapped
    for reason, flag in (
        (lazy_gettext("a loopback address"), address.is_loopback),
        (lazy_gettext("a link-local address"), address.is_link_local),
        (lazy_gettext("a private address"), address.is_private),
        (lazy_gettext("a multicast address"), address.is_multicast),
        (lazy_gettext("a reserved address"), address.is_reserved),
        (lazy_gettext("an unspecified address"), address.is_unspecified),
        (lazy_gettext("not a public address"), not address.is_global),
    ):
        if flag:
            return reason
    return None


def check_url(url: str) -> Target:
    """Parse and resolve `url`; raises UnsafeURL (field "url") when it may not be used."""
    config = current_app.config
    url = (url or "").strip()
    if not url or len(url) > MAX_URL_LENGTH:
        raise UnsafeURL(
            gettext("Give a URL of at most %(most)s characters.", most=MAX_URL_LENGTH), field="url"
        )
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UnsafeURL(gettext("This is not a valid URL."), field="url") from exc
    allowed = ("https",) if config.get("WEBHOOKS_REQUIRE_HTTPS") else ("https", "http")
    if parts.scheme not in allowed:
        raise UnsafeURL(
            gettext(
                "The URL must begin with %(schemes)s.",
                schemes=" / ".join(f"{scheme}://" for scheme in allowed),
            ),
            field="url",
        )
    if not parts.hostname:
        raise UnsafeURL(gettext("The URL has no host."), field="url")
    if parts.username or parts.password:
        raise UnsafeURL(gettext("Credentials do not belong in the URL."), field="url")
    if parts.fragment:
        raise UnsafeURL(gettext("A webhook URL has no #fragment."), field="url")
    port = port or (443 if parts.scheme == "https" else 80)
    host = parts.hostname
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise UnsafeURL(gettext("%(host)s could not be resolved.", host=host), field="url") from exc
    addresses = tuple(dict.fromkeys(info[4][0] for info in infos))
    if not addresses:
        raise UnsafeURL(gettext("%(host)s could not be resolved.", host=host), field="url")
    if not config.get("WEBHOOKS_ALLOW_PRIVATE"):
        for address in addresses:
            reason = _refused_reason(ipaddress.ip_address(address.split("%", 1)[0]))
            if reason is not None:
                raise UnsafeURL(
                    gettext(
                        "%(host)s resolves to %(address)s, %(reason)s: webhooks go to public "
                        "addresses only.",
                        host=host,
                        address=address,
                        reason=reason,
                    ),
                    field="url",
                )
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(parts.scheme, host, port, path, addresses)


class _PinnedHTTP(http.client.HTTPConnection):
    def __init__(self, target: Target, address: str, timeout: float):
        super().__init__(target.host, target.port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPS(http.client.HTTPSConnection):
    def __init__(self, target: Target, address: str, timeout: float):
        super().__init__(
            target.host, target.port, timeout=timeout, context=ssl.create_default_context()
        )
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def post(url: str, body: bytes, headers: dict[str, str]) -> Answer:
    """POST `body` to `url` after checking it again (check_url). Returns the status code of
    the answer, whatever it is; raises SendFailed when there is none."""
    started = time.monotonic()

    def elapsed() -> int:
        return int((time.monotonic() - started) * 1000)

    try:
        target = check_url(url)
    except UnsafeURL as exc:
        raise SendFailed(f"refused: {exc.message}", elapsed()) from exc
    timeout = float(current_app.config.get("WEBHOOKS_TIMEOUT_SECONDS", 5))
    kind = _PinnedHTTPS if target.scheme == "https" else _PinnedHTTP
    connection = kind(target, target.addresses[0], timeout)
    try:
        connection.request("POST", target.path, body=body, headers=headers)
        response = connection.getresponse()
        response.read(RESPONSE_BYTES_READ)
        return Answer(response.status, elapsed())
    except (OSError, http.client.HTTPException) as exc:
        raise SendFailed(f"{exc.__class__.__name__}: {exc}"[:500], elapsed()) from exc
    finally:
        connection.close()
