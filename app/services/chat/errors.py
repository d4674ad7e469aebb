"""The chat's refusals (mapped to HTTP once, in app/errors.py)."""

from __future__ import annotations

from flask_babel import lazy_gettext

from app.services.errors import DomainError, Forbidden, InvalidInput, NotFound


class ConversationNotFound(NotFound):
    """Missing, or not one of the caller's: the two are not told apart."""

    code = "conversation_not_found"
    default_message = lazy_gettext("There is no such conversation.")


class MessageNotFound(NotFound):
    code = "message_not_found"
    default_message = lazy_gettext("There is no such message.")


class NoSharedAppointment(Forbidden):
    code = "no_shared_appointment"
    default_message = lazy_gettext(
        "You can message a doctor or patient once you share a confirmed appointment."
    )


class ChatClosed(Forbidden):
    code = "chat_closed"
    default_message = lazy_gettext("You cannot write in this conversation now.")


class InvalidMessage(InvalidInput):
    code = "invalid_message"
    default_message = lazy_gettext("The message is not valid.")


class InvalidAttachment(InvalidInput):
    code = "invalid_attachment"
    default_message = lazy_gettext("Attach an image (JPEG, PNG, WebP or GIF) or a PDF.")


class AttachmentTooLarge(DomainError):
    status_code = 413
    code = "attachment_too_large"
    default_message = lazy_gettext("The file is too large.")


class TooManyMessages(DomainError):
    status_code = 429
    code = "too_many_messages"
    default_message = lazy_gettext(
        "You are sending messages too fast: wait a few seconds and try again."
    )
