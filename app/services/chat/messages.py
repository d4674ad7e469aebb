"""Messages: sending (text and/or one attachment, rate-limited), history newest first,
read receipts and the events and notifications that follow each change.

After each commit, services/realtime emits to both participants' rooms: "message" (the
message), "read" ({conversation_id, reader_id, up_to_id}) and "unread" ({total}) to the one
whose count changed.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask_babel import gettext, ngettext
from sqlalchemy import func, select, update

from app.extensions import db
from app.models import Message, Notification, NotificationChannel, User
from app.models.chat import MAX_BODY
from app.services import audit, realtime
from app.services.chat import attachments
from app.services.chat.attachments import Upload
from app.services.chat.conversations import unread_total
from app.services.chat.errors import ChatClosed, InvalidMessage, MessageNotFound, TooManyMessages
from app.services.chat.rules import Side, conversation_for, other_participant_id, patient_may_write
from app.services.errors import InvalidInput
from app.services.l10n import format_number
from app.services.links import public_url, site_path
from app.services.notifications import outbox
from app.services.transaction import transaction, use_case

MAX_PAGE = 100
RATE_LIMIT = 20  # messages per sender ...
RATE_WINDOW = timedelta(seconds=10)  # ... in this long
EMAIL_AFTER = timedelta(minutes=10)  # an unread burst is emailed this long after it began
KIND = "chat.message"


def attachment_path(message: Message) -> str | None:
    """Where the pages serve the message's file (the participants' session)."""
    if message.attachment_key is None:
        return None
    return site_path(
        public_url(
            "chat.attachment", conversation_id=message.conversation_id, message_id=message.id
        )
    )


def message_payload(message: Message, *, attachment_url: str | None = None) -> dict:
    """A message as the API and the socket events carry it."""
    attachment = None
    if message.attachment_key is not None:
        attachment = {
            "name": message.attachment_name,
            "content_type": message.attachment_type,
            "size": message.attachment_size,
            "url": attachment_url or attachment_path(message),
        }
    return {
        "id": message.id,
        "conversation_id": message.conversation_id,
        "sender_id": message.sender_id,
        "body": message.body,
        "attachment": attachment,
        "created_at": message.created_at.isoformat(),
        "read_at": message.read_at.isoformat() if message.read_at else None,
    }


def _check_body(body: str | None, has_file: bool) -> str:
    body = body or ""
    if len(body) > MAX_BODY:
        raise InvalidMessage(
            gettext(
                "A message is at most %(limit)s characters (%(given)s given).",
                limit=format_number(MAX_BODY),
                given=format_number(len(body)),
            ),
            field="body",
        )
    if "\x00" in body:
        raise InvalidMessage(gettext("The message contains a NUL character."), field="body")
    if not body.strip() and not has_file:
        raise InvalidMessage(gettext("Write a message or attach a file."), field="body")
    return body


def _check_rate(sender_id: int, now: datetime) -> None:
    """At most RATE_LIMIT messages per RATE_WINDOW per sender, counted in the database. The
    sender's row is locked first, so a user's concurrent sends are counted one at a time
    (no Redis needed, and no 21st slips through between two counts)."""
    db.session.execute(select(User.id).where(User.id == sender_id).with_for_update())
    recent = db.session.scalars(
        select(Message.created_at)
        .where(Message.sender_id == sender_id, Message.created_at > now - RATE_WINDOW)
        .order_by(Message.created_at.desc())
        .limit(RATE_LIMIT)
    ).all()
    if len(recent) >= RATE_LIMIT:
        wait = recent[-1] + RATE_WINDOW - now  # when the oldest of the window leaves it
        seconds = max(1, int(wait.total_seconds() + 0.999))
        raise TooManyMessages(
            ngettext(
                "You sent %(sent)s messages in %(window)s seconds: wait %(num)d second and send "
                "again.",
                "You sent %(sent)s messages in %(window)s seconds: wait %(num)d seconds and send "
                "again.",
                seconds,
                sent=RATE_LIMIT,
                window=int(RATE_WINDOW.total_seconds()),
            ),
            retry_after=seconds,
        )


def send_message(
    *,
    conversation_id: int,
    sender_id: int,
    body: str | None,
    upload: Upload | None = None,
    now: datetime,
) -> Message:
    """Write a message (text, one attachment, or both) and tell the recipient: at once in
    Carebook, by email if it is still unread after EMAIL_AFTER. Raises ConversationNotFound,
    ChatClosed (a patient past the clinic's days after the last visit), InvalidMessage,
    InvalidAttachment, AttachmentTooLarge, TooManyMessages."""
    stored = None
    try:
        # The sender's answer is the message just written: kept loaded, not read back.
        with transaction(keep_loaded=True):
            conversation, side, sender = conversation_for(conversation_id, sender_id)
            if side is Side.PATIENT and not patient_may_write(conversation, now):
                raise ChatClosed(
                    gettext(
                        "You can write to your doctor while a visit is upcoming and for "
                        "a few days after it. To ask something now, book a visit or call the "
                        "clinic."
                    )
                )
            body = _check_body(body, upload is not None)
            _check_rate(sender.id, now)
            if upload is not None:
                stored = attachments.store(conversation.id, upload)
            recipient_id = other_participant_id(conversation, side)
            message = Message(
                conversation_id=conversation.id,
                sender_id=sender.id,
                recipient_id=recipient_id,
                body=body,
                created_at=now,
                **(
                    {
                        "attachment_key": stored.key,
                        "attachment_name": stored.name,
                        "attachment_type": stored.content_type,
                        "attachment_size": stored.size,
                    }
                    if stored
                    else {}
                ),
            )
            db.session.add(message)
            conversation.last_message_at = now
            db.session.flush()
            unread, first_unread = _unread_after_send(message)
            _tell_recipient(message, first_unread)
            payload = message_payload(message)
            for user_id in (sender.id, recipient_id):
                realtime.publish(realtime.user_room(user_id), "message", payload)
            realtime.publish(realtime.user_room(recipient_id), "unread", {"total": unread})
    except BaseException:
        if stored is not None:
            attachments.discard(stored.key)
        raise
    return message


def _unread_after_send(message: Message) -> tuple[int, int]:
    """The recipient's unread total (the badge) and the first message of this conversation
    they have not read (where the burst began), in one statement on the unread index."""
    total, first = db.session.execute(
        select(
            func.count(),
            func.min(Message.id).filter(Message.conversation_id == message.conversation_id),
        ).where(Message.recipient_id == message.recipient_id, Message.read_at.is_(None))
    ).one()
    return total, first


def _tell_recipient(message: Message, first_unread: int) -> None:
    """One in-app notification and one delayed email per burst: the messages the recipient
    has not read since their last reading, named by the first of them. The burst's first
    message writes both; a later one adds only the in-app row, and only when the recipient
    has no socket connected now (it may have had one when the burst began)."""
    recipient_id = message.recipient_id
    key = f"chat:{message.conversation_id}:{first_unread}"
    data = {
        "conversation_id": message.conversation_id,
        "message_id": first_unread,
        "sender_id": message.sender_id,
    }
    wanted = []
    # In-app at once, unless a socket of the recipient is connected: the message reaches it
    # live (the badge and the thread update), and a notification would say it twice.
    if not realtime.is_connected(recipient_id):
        wanted.append((NotificationChannel.IN_APP, None))
    if first_unread == message.id:
        wanted.append((NotificationChannel.EMAIL, message.created_at + EMAIL_AFTER))
    if not wanted:
        return
    recipient = db.session.get(User, recipient_id)
    outbox.notify_all(
        [
            outbox.Notice(recipient, KIND, key, data, (channel,), available_at=available_at)
            for channel, available_at in wanted
        ]
    )


@use_case
def history(
    *, conversation_id: int, viewer_id: int, before_id: int | None = None, limit: int = 50
) -> list[Message]:
    """Up to `limit` (1..MAX_PAGE) messages older than `before_id`, newest first. Staff
    holding conversations.audit may read too, and each such reading is audited. Raises
    ConversationNotFound, InvalidInput."""
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInput(
            gettext("limit is between 1 and %(MAX_PAGE)s.", MAX_PAGE=MAX_PAGE), field="limit"
        )
    if before_id is not None and before_id < 1:
        raise InvalidInput(gettext("before_id is a message id."), field="before_id")
    conversation, side, viewer = conversation_for(conversation_id, viewer_id, audit=True)
    if side is Side.AUDITOR:
        audit.record(
            "conversation.audited",
            actor_id=viewer.id,
            target_type="conversation",
            target_id=conversation.id,
            data={"before_id": before_id, "limit": limit},
        )
    query = select(Message).where(Message.conversation_id == conversation.id)
    if before_id is not None:
        query = query.where(Message.id < before_id)
    return list(db.session.scalars(query.order_by(Message.id.desc()).limit(limit)))


def attachment_of(
    *, conversation_id: int, message_id: int, viewer_id: int
) -> tuple[Message, bytes]:
    """A message's file for a participant (or an auditor, audited). Raises
    ConversationNotFound, MessageNotFound."""
    with transaction():
        conversation, side, viewer = conversation_for(conversation_id, viewer_id, audit=True)
        message = db.session.get(Message, message_id)
        if (
            message is None
            or message.conversation_id != conversation.id
            or message.attachment_key is None
        ):
            raise MessageNotFound()
        if side is Side.AUDITOR:
            audit.record(
                "conversation.attachment_audited",
                actor_id=viewer.id,
                target_type="conversation",
                target_id=conversation.id,
                data={"message_id": message.id},
            )
    data = attachments.read(message.attachment_key)
    if data is None:
        raise MessageNotFound(gettext("The file of this message is no longer available."))
    return message, data


@use_case
def mark_read(*, conversation_id: int, reader_id: int, up_to_id: int, now: datetime) -> int:
    """Mark the reader's messages up to `up_to_id` read (each keeps its first read time) and
    the conversation's chat notifications with them; returns how many were unread. Raises
    ConversationNotFound, InvalidInput."""
    if up_to_id < 1:
        raise InvalidInput(gettext("up_to_id is a message id."), field="up_to_id")
    conversation, side, reader = conversation_for(conversation_id, reader_id)
    marked = db.session.execute(
        update(Message)
        .where(
            Message.conversation_id == conversation.id,
            Message.recipient_id == reader.id,
            Message.id <= up_to_id,
            Message.read_at.is_(None),
        )
        .values(read_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if marked:
        db.session.execute(
            update(Notification)
            .where(
                Notification.user_id == reader.id,
                Notification.kind == KIND,
                Notification.channel == NotificationChannel.IN_APP,
                Notification.read_at.is_(None),
                Notification.dedupe_key.startswith(f"chat:{conversation.id}:"),
            )
            .values(read_at=now)
            .execution_options(synchronize_session=False)
        )
        event = {"conversation_id": conversation.id, "reader_id": reader.id, "up_to_id": up_to_id}
        for user_id in (reader.id, other_participant_id(conversation, side)):
            realtime.publish(realtime.user_room(user_id), "read", event)
        realtime.publish(
            realtime.user_room(reader.id), "unread", {"total": unread_total(reader.id)}
        )
    return marked


@use_case
def other_side(*, conversation_id: int, user_id: int) -> int:
    """The other participant of a conversation `user_id` takes part in (who hears their
    typing). Raises ConversationNotFound."""
    conversation, side, _ = conversation_for(conversation_id, user_id)
    return other_participant_id(conversation, side)


def newest_id(conversation_id: int) -> int | None:
    return db.session.scalar(
        select(func.max(Message.id)).where(Message.conversation_id == conversation_id)
    )
