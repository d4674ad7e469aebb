"""Messages between a patient and their doctor: the /messages pages, the attachment
downloads and the unread badge in the navigation. (The Socket.IO events live in
app/sockets.)"""

from __future__ import annotations

import logging

from flask import Blueprint, g
from flask_login import current_user
from sqlalchemy.exc import SQLAlchemyError

from app.services.chat import conversations

log = logging.getLogger(__name__)
bp = Blueprint("chat", __name__, url_prefix="/messages")


def unread_messages() -> int:
    """The signed-in user's unread messages for the badge: one COUNT per page that shows it."""
    if not current_user.is_authenticated:
        return 0
    if "unread_messages" not in g:
        try:
            g.unread_messages = conversations.unread_total(current_user.id)
        except SQLAlchemyError:  # an error page after a failed transaction: no badge
            log.warning("unread message count unavailable", exc_info=True)
            g.unread_messages = 0
    return g.unread_messages


@bp.app_context_processor
def _badge():
    return {"unread_messages": unread_messages}


from app.chat import routes  # noqa: E402,F401
