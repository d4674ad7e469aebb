"""Doctors' photos, served to everyone: a URL names one version of one photo, so it is cached
for a year and never revalidated (a new photo has a new URL)."""

from __future__ import annotations

import hashlib

from flask import Response, request

from app.main import bp
from app.rbac import public
from app.services import photos

IMMUTABLE = "public, max-age=31536000, immutable"


@bp.route("/media/doctors/<int(max=2147483647):doctor_id>/<filename>")
@public
def doctor_photo(doctor_id: int, filename: str):
    data = photos.read_photo(doctor_id, filename)
    response = Response(data, mimetype="image/webp")
    response.headers["Cache-Control"] = IMMUTABLE
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.set_etag(hashlib.sha256(data).hexdigest()[:32])
    return response.make_conditional(request)
