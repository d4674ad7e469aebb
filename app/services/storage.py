"""Where uploaded files live: a small interface with one implementation on the local disk.

Files are kept outside the database under keys such as "doctors/12/3f9a…-256.webp". Today
they go under MEDIA_ROOT (default: the instance folder's uploads/); another backend (an S3
bucket) implements the same three methods and is returned by media_storage().
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import Protocol

from flask import current_app

# Keys are built by the services, never taken from a request as they are; this shape keeps a
# mistake from ever reaching outside the root.
_KEY = re.compile(r"^[a-z0-9_-]+(/[a-z0-9_.-]+)*$")


class MediaStorage(Protocol):
    def save(self, key: str, data: bytes) -> None: ...

    def read(self, key: str) -> bytes | None: ...

    def delete(self, key: str) -> None: ...


class LocalMediaStorage:
    """Files under a root folder; each write lands whole (a temporary file, then a rename)."""

    def __init__(self, root: str | Path):
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        if not _KEY.match(key) or ".." in key:
            raise ValueError(f"not a media key: {key!r}")
        return self.root / key

    def save(self, key: str, data: bytes) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(data)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    def read(self, key: str) -> bytes | None:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            return None

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)


def media_storage() -> MediaStorage:
    """The app's storage (MEDIA_ROOT), made once per app."""
    cache = current_app.extensions.setdefault("carebook_media", {})
    root = current_app.config["MEDIA_ROOT"]
    if cache.get("root") != root:
        cache.update(root=root, storage=LocalMediaStorage(root))
    return cache["storage"]
