"""Patients: finding doctors, booking, and their appointments."""

from flask import Blueprint

from app.patient import presenters
from app.templating import status_label

bp = Blueprint("patient", __name__)


@bp.context_processor
def _presenters():
    return {
        "status_label": lambda status: status_label(status, "patient"),
        "is_video": presenters.is_video,
    }


from app.patient import booking_routes, consult_routes, review_routes, routes  # noqa: E402,F401
