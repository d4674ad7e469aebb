"""What a chat notification says: a new message from the doctor or the patient. Never the
message itself (an email is no place for health details): who wrote, and a link to read it.

The email waits ten minutes (services/chat/messages.py writes it with a later available_at)
and goes only if the first message of the burst is still unread then.
"""

from __future__ import annotations

from flask_babel import gettext as _

from app.extensions import db
from app.models import Conversation, User
from app.models import Message as ChatMessage
from app.services.links import public_url
from app.services.notifications.kinds import EMAIL_AND_APP, Gone, Message, kind


def still_unread(data: dict) -> bool:
    message = db.session.get(ChatMessage, data["message_id"])
    return message is not None and message.read_at is None


@kind("chat.message", category="messages", channels=EMAIL_AND_APP, still_relevant=still_unread)
def chat_message(data: dict, user: User) -> Message:
    conversation = db.session.get(Conversation, data["conversation_id"])
    sender = db.session.get(User, data["sender_id"])
    if conversation is None or sender is None:
        raise Gone(f"conversation {data['conversation_id']} is gone")
    return Message(
        subject=_("New message from %(name)s", name=sender.name),
        lines=[
            _("Hello %(name)s,", name=user.name),
            _(
                "%(name)s sent you a message in Carebook. Open the conversation to read it and "
                "reply.",
                name=sender.name,
            ),
        ],
        action=(
            _("Read the message"),
            public_url("chat.thread", conversation_id=conversation.id),
        ),
    )
