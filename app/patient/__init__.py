"""Patients: finding doctors, booking, and their appointments."""

from flask import Blueprint

bp = Blueprint("patient", __name__)


@bp.context_processor
def _presenters():
    from app.patient import presenters

    return {
        "status_label": presenters.status_label,
        "is_video": presenters.is_video,
    }


from app.patient import booking_routes, routes  # noqa: E402,F401
