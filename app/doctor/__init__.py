"""The doctor's dashboard: appointments and availability."""

from flask import Blueprint

bp = Blueprint("doctor", __name__, url_prefix="/doctor")

from app.doctor import bulk, earnings, profile, reports, reviews, routes, slots, visit  # noqa: E402,F401
