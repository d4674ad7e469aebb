"""Chat attachments: images (JPEG, PNG, WebP, GIF) and PDF, their type read from the bytes
(never the name or the type the client declared), kept outside the database under
"chat/<conversation id>/..." through services/storage.py.

Images are opened with Pillow (already used for photos) restricted to the four formats; a
PDF is recognised by its "%PDF-" header, which needs no library.
"""

from __future__ import annotations

import io
import re
import secrets
import unicodedata
import warnings
from dataclasses import dataclass

from flask import current_app
from flask_babel import gettext
from PIL import Image, UnidentifiedImageError

from app.services.chat.errors import AttachmentTooLarge, InvalidAttachment
from app.services.storage import media_storage

FOLDER = "chat"
IMAGE_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp", "GIF": "image/gif"}
PDF_TYPE = "application/pdf"
EXTENSIONS = {
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/webp": ".webp",
    "image/gif": ".gif",
    PDF_TYPE: ".pdf",
}
_UNSAFE_NAME = re.compile(r'[\x00-\x1f\x7f"\\/]')


@dataclass(frozen=True)
class Upload:
    """What a client sent: the bytes, and the name it gave the file."""

    data: bytes
    filename: str | None


@dataclass(frozen=True)
class StoredAttachment:
    key: str
    name: str
    content_type: str
    size: int


def max_bytes() -> int:
    return current_app.config["CHAT_ATTACHMENT_MAX_BYTES"]


def _megabytes(limit: int) -> str:
    return f"{limit / (1024 * 1024):g} MB"


def detect_type(data: bytes) -> str:
    """The content type of an accepted file, read from its bytes. Raises InvalidAttachment."""
    if data.startswith(b"%PDF-"):
        return PDF_TYPE
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=tuple(IMAGE_TYPES))
            image.verify()
    except (
        UnidentifiedImageError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
        OSError,
        SyntaxError,
        ValueError,
    ) as exc:
        raise InvalidAttachment(
            gettext(
                "Attach an image (JPEG, PNG, WebP or GIF) or a PDF: this file is none of them."
            ),
            field="file",
        ) from exc
    return IMAGE_TYPES[image.format]


def clean_name(filename: str | None, content_type: str) -> str:
    """The name to offer on download: the client's base name without control characters or
    path parts, ending in the extension of the detected type."""
    base = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    base = _UNSAFE_NAME.sub("", unicodedata.normalize("NFC", base)).strip().lstrip(".")
    stem = base.rsplit(".", 1)[0] if "." in base else base
    extension = EXTENSIONS[content_type]
    return f"{(stem or 'attachment')[:200]}{extension}"


def check(upload: Upload) -> tuple[str, str]:
    """(content type, name) of an acceptable upload. Raises AttachmentTooLarge,
    InvalidAttachment."""
    limit = max_bytes()
    if len(upload.data) > limit:
        raise AttachmentTooLarge(
            gettext(
                "The file is larger than the %(size)s allowed: choose a smaller one.",
                size=_megabytes(limit),
            ),
            field="file",
            max_bytes=limit,
        )
    if not upload.data:
        raise InvalidAttachment(gettext("The file is empty."), field="file")
    content_type = detect_type(upload.data)
    return content_type, clean_name(upload.filename, content_type)


def store(conversation_id: int, upload: Upload) -> StoredAttachment:
    """Check the upload and write it to storage (before the message's transaction: a
    refused or rolled-back message deletes it again with `discard`)."""
    content_type, name = check(upload)
    key = f"{FOLDER}/{conversation_id}/{secrets.token_hex(16)}{EXTENSIONS[content_type]}"
    media_storage().save(key, upload.data)
    return StoredAttachment(key=key, name=name, content_type=content_type, size=len(upload.data))


def discard(key: str) -> None:
    media_storage().delete(key)


def read(key: str) -> bytes | None:
    return media_storage().read(key)
