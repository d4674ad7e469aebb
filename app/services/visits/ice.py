"""The ICE servers a browser's RTCPeerConnection is given: ICE_SERVERS as configured, plus,
with TURN_SECRET and TURN_URLS, a TURN server with time-limited credentials.

The credentials follow coturn's `use-auth-secret` scheme (the "TURN REST API" of
draft-uberti-behave-turn-rest, which RFC 7635 builds on): the username is
"<expiry unix time>:<user id>", the password base64(HMAC-SHA1(secret, username)). coturn,
sharing the secret (`static-auth-secret`), checks both and refuses the name once its expiry
has passed; nothing is stored on either side.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime

from flask import current_app


def turn_credentials(secret: str, user_id: int, now: datetime, ttl_seconds: int) -> dict:
    """{"username", "credential"} valid until now + ttl_seconds."""
    expiry = int(now.timestamp()) + ttl_seconds
    username = f"{expiry}:{user_id}"
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return {"username": username, "credential": base64.b64encode(digest).decode()}


def ice_servers_for(user_id: int, now: datetime) -> list[dict]:
    """RTCConfiguration.iceServers for this user now."""
    config = current_app.config
    servers = [dict(server) for server in config.get("ICE_SERVERS") or []]
    secret, urls = config.get("TURN_SECRET"), config.get("TURN_URLS")
    if secret and urls:
        ttl = config.get("TURN_CREDENTIAL_TTL_SECONDS", 4 * 3600)
        servers.append({"urls": list(urls), **turn_credentials(secret, user_id, now, ttl)})
    return servers
