"""Sealing secrets kept at rest: authenticator-app secrets, doctors' private visit notes,
patients' booking notes (models/types.py SealedText) and the secret being enrolled in the
session cookie. Encrypted at rest.

Fernet (AES-128-CBC + HMAC-SHA256) with a key from DATA_ENCRYPTION_KEY, or derived from
SECRET_KEY when that is unset. Sealed values start with "v1:"; anything else is read as a
legacy plain value, so rows written before sealing keep working until rewritten.
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken
from flask import current_app

PREFIX = "v1:"


class UnsealFailed(RuntimeError):
    """A sealed value did not open with the configured key (the key changed?)."""


def _fernet() -> Fernet:
    configured = current_app.config.get("DATA_ENCRYPTION_KEY")
    if configured:
        return Fernet(configured)
    digest = hashlib.sha256(b"carebook-sealing:" + current_app.secret_key.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def seal(plain: str) -> str:
    return PREFIX + _fernet().encrypt(plain.encode()).decode()


def unseal(stored: str) -> str:
    if not stored.startswith(PREFIX):
        return stored  # written before sealing
    try:
        return _fernet().decrypt(stored[len(PREFIX) :].encode()).decode()
    except InvalidToken as exc:
        raise UnsealFailed("sealed value does not open with the configured key") from exc
