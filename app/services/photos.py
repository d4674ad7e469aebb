"""Doctors' photos: checked, cleaned and resized on upload, stored by content hash, served
read-only.

An upload is read from its bytes, never its name or declared type: JPEG, PNG or WebP only.
What is kept is new pixels, not the upload: turned upright (EXIF orientation), converted to
sRGB, cropped to a centred square and resized to SIZES as WebP, with no metadata (no EXIF,
no GPS position, no camera serial). The files are named by a hash of their content, so a new
photo has new URLs and every URL can be cached for good.
"""

from __future__ import annotations

import hashlib
import io
import re
import warnings
from dataclasses import dataclass

from flask import current_app
from flask_babel import gettext, lazy_gettext
from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

from app.extensions import db
from app.models import Doctor
from app.services import audit
from app.services.access import managed_doctor
from app.services.errors import InvalidInput, NotFound
from app.services.storage import media_storage
from app.services.transaction import transaction

# Square sizes kept, in pixels: the doctor's page (and 2x screens of the result cards), and
# the search results.
SIZES = (256, 96)
ACCEPTED_FORMATS = ("JPEG", "PNG", "WEBP")
MIN_SIDE = 96  # smaller would be blown up into a blur
MAX_PIXELS = 50_000_000  # a 50-megapixel photo is plenty; more is a decompression bomb
WEBP_QUALITY = 82
_FILENAME = re.compile(r"^(?P<hash>[0-9a-f]{16})-(?P<size>\d{2,4})\.webp$")


class InvalidPhoto(InvalidInput):
    code = "invalid_photo"
    default_message = lazy_gettext("That file is not a photo we can use.")


class PhotoNotFound(NotFound):
    code = "photo_not_found"
    default_message = lazy_gettext("There is no such photo.")


@dataclass(frozen=True)
class PreparedPhoto:
    hash: str
    files: dict[int, bytes]  # size -> WebP bytes


def max_photo_bytes() -> int:
    return current_app.config["PHOTO_MAX_BYTES"]


def photo_key(doctor_id: int, photo_hash: str, size: int) -> str:
    return f"doctors/{doctor_id}/{photo_filename(photo_hash, size)}"


def photo_filename(photo_hash: str, size: int) -> str:
    return f"{photo_hash}-{size}.webp"


def _megabytes(limit: int) -> str:
    return f"{limit / (1024 * 1024):g} MB"


def _open(data: bytes) -> Image.Image:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=ACCEPTED_FORMATS)
    except UnidentifiedImageError as exc:
        raise InvalidPhoto(
            gettext("The photo must be a JPEG, PNG or WebP image."), field="photo"
        ) from exc
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise InvalidPhoto(gettext("The photo has too many pixels."), field="photo") from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise InvalidPhoto(
            gettext("The photo could not be read: the file is damaged."), field="photo"
        ) from exc
    if image.width * image.height > MAX_PIXELS:
        raise InvalidPhoto(
            gettext("The photo has too many pixels (50 megapixels at most)."), field="photo"
        )
    if min(image.size) < MIN_SIDE:
        raise InvalidPhoto(
            gettext(
                "The photo is too small: at least %(MIN_SIDE)s × %(MIN_SIDE)s pixels.",
                MIN_SIDE=MIN_SIDE,
            ),
            field="photo",
        )
    return image


def _srgb(image: Image.Image) -> Image.Image:
    """RGB pixels in sRGB: a colour profile (a phone's Display P3) is applied, not dropped;
    transparency is laid on white."""
    profile = image.info.get("icc_profile")
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        image = Image.new("RGB", rgba.size, "white")
        image.paste(rgba, mask=rgba.getchannel("A"))
    elif image.mode != "RGB":
        image = image.convert("RGB")
    if profile:
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(profile))
            image = ImageCms.profileToProfile(
                image, source, ImageCms.createProfile("sRGB"), outputMode="RGB"
            )
        except (ImageCms.PyCMSError, OSError, ValueError):
            pass  # an unusable profile: the pixels as they are
    return image


def prepare_photo(data: bytes, *, max_bytes: int) -> PreparedPhoto:
    """The files to keep for an uploaded photo. Raises InvalidPhoto (too large, not JPEG,
    PNG or WebP, damaged, too small or too many pixels)."""
    if not data:
        raise InvalidPhoto(gettext("Choose a photo to upload."), field="photo")
    if len(data) > max_bytes:
        raise InvalidPhoto(
            gettext(
                "The photo is larger than %(size)s: choose a smaller one.",
                size=_megabytes(max_bytes),
            ),
            field="photo",
        )
    image = _open(data)
    try:
        image.draft("RGB", (2 * SIZES[0], 2 * SIZES[0]))  # JPEG: decode at a reduced scale
        upright = ImageOps.exif_transpose(image)
        # Twice the largest size is enough to resize from, and never an enlargement.
        side = min(*upright.size, 2 * SIZES[0])
        square = ImageOps.fit(_srgb(upright), (side, side), Image.LANCZOS)
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise InvalidPhoto(
            gettext("The photo could not be read: the file is damaged."), field="photo"
        ) from exc
    finally:
        image.close()
    square.info = {}  # nothing of the upload's metadata travels on
    files = {}
    for size in SIZES:
        out = io.BytesIO()
        square.resize((size, size), Image.LANCZOS).save(
            out, format="WEBP", quality=WEBP_QUALITY, method=6
        )
        files[size] = out.getvalue()
    digest = hashlib.sha256(b"".join(files[size] for size in SIZES)).hexdigest()[:16]
    return PreparedPhoto(digest, files)


def set_doctor_photo(
    doctor_id: int, data: bytes, *, actor_id: int, ip: str | None = None
) -> Doctor:
    """Store a new photo for the doctor (the doctor themself, or doctors.manage) and drop the
    previous one's files. Raises DoctorNotFound, Forbidden, InvalidPhoto."""
    storage = media_storage()
    with transaction():
        # Locked: two uploads at once each remove the files of the photo they replaced.
        doctor = managed_doctor(actor_id, doctor_id, lock=True)
        photo = prepare_photo(data, max_bytes=max_photo_bytes())
        previous = doctor.photo_hash
        for size, content in photo.files.items():
            storage.save(photo_key(doctor.id, photo.hash, size), content)
        doctor.photo_hash = photo.hash
        doctor.updated_by_id = actor_id
        audit.record(
            "doctor.photo_set",
            actor_id=actor_id,
            target_type="doctor",
            target_id=doctor.id,
            data={"photo": photo.hash},
            ip=ip,
        )
    if previous and previous != photo.hash:
        _delete_files(storage, doctor.id, previous)
    return doctor


def remove_doctor_photo(doctor_id: int, *, actor_id: int, ip: str | None = None) -> Doctor:
    """Back to the initials. Raises DoctorNotFound, Forbidden."""
    storage = media_storage()
    with transaction():
        doctor = managed_doctor(actor_id, doctor_id, lock=True)
        previous = doctor.photo_hash
        if previous is None:
            return doctor
        doctor.photo_hash = None
        doctor.updated_by_id = actor_id
        audit.record(
            "doctor.photo_removed",
            actor_id=actor_id,
            target_type="doctor",
            target_id=doctor.id,
            ip=ip,
        )
    _delete_files(storage, doctor.id, previous)
    return doctor


def _delete_files(storage, doctor_id: int, photo_hash: str) -> None:
    # After the commit: the row no longer names these files, so nothing serves them.
    for size in SIZES:
        storage.delete(photo_key(doctor_id, photo_hash, size))


def read_photo(doctor_id: int, filename: str) -> bytes:
    """The bytes of one size of a doctor's current photo. Raises PhotoNotFound (an unknown
    name, size or doctor, or a photo since replaced or removed)."""
    match = _FILENAME.match(filename)
    if match is None or int(match["size"]) not in SIZES:
        raise PhotoNotFound()
    current = db.session.scalar(db.select(Doctor.photo_hash).where(Doctor.id == doctor_id))
    if current is None or current != match["hash"]:
        raise PhotoNotFound()
    data = media_storage().read(photo_key(doctor_id, current, int(match["size"])))
    if data is None:
        raise PhotoNotFound()
    return data
