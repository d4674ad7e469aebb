"""Video visits: the room page of a video appointment, the doctor's outcome from the room,
and the doctor's dashboard list of open rooms (who is waiting). The WebRTC signalling is
app/sockets/visits.py; the rules are services/visits."""

from flask import Blueprint
from flask_login import current_user

from app.auth.signin import now
from app.services.visits import presence

bp = Blueprint("visits", __name__, url_prefix="/visits")


def open_video_rooms() -> list[presence.OpenRoom]:
    """The signed-in doctor's rooms open now (templates/doctor/_visit_waiting.html)."""
    if not current_user.is_authenticated:
        return []
    return presence.open_rooms(doctor_user_id=current_user.id, now=now())


@bp.app_context_processor
def _helpers():
    return {"open_video_rooms": open_video_rooms}


from app.visits import routes  # noqa: E402,F401
