"""The doctor's dashboard: appointments and availability."""

from flask import Blueprint

bp = Blueprint("doctor", __name__, url_prefix="/doctor")

from app.doctor import (  # noqa: E402,F401
    bulk,
    consults,
    earnings,
    profile,
    reports,
    reviews,
    routes,
    slots,
    visit,
)
