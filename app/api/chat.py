"""The chat between a patient and their doctor: conversations, history, sending (JSON, or
multipart with a `file`), read receipts and attachments."""

from __future__ import annotations

from flask import abort, request, url_for
from flask_login import current_user

from app.api import BEARER, ID, ErrorSchema, bp, request_now
from app.api.chat_schemas import (
    ConversationListSchema,
    ConversationOpenSchema,
    ConversationSchema,
    HistoryArgsSchema,
    MessageInSchema,
    MessageListSchema,
    MessageSchema,
    ReadResultSchema,
    ReadSchema,
)
from app.api.parsing import INVALID_JSON
from app.chat.files import attachment_response, upload_from
from app.rbac import login_required
from app.security import takes_upload
from app.services.chat import conversations, messages
from app.services.chat.conversations import ConversationSummary
from app.services.errors import InvalidInput

NOT_YOURS = "No such conversation (or not one of yours)"
UPLOAD_BODY = {
    "requestBody": {
        "content": {
            "application/json": {"schema": MessageInSchema},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "body": {"type": "string"},
                        "file": {"type": "string", "format": "binary"},
                    },
                }
            },
        }
    }
}


def _api_message(message) -> dict:
    url = None
    if message.attachment_key is not None:
        url = url_for(
            "api.message_attachment",
            conversation_id=message.conversation_id,
            message_id=message.id,
        )
    return messages.message_payload(message, attachment_url=url)


def _api_conversation(summary: ConversationSummary) -> dict:
    conversation = summary.conversation
    return {
        "id": conversation.id,
        "patient": {"id": conversation.patient_id, "name": conversation.patient.name},
        "doctor": {"id": conversation.doctor_id, "name": conversation.doctor.name},
        "last_message": _api_message(summary.last_message) if summary.last_message else None,
        "unread": summary.unread,
    }


@bp.route("/conversations")
@bp.response(200, ConversationListSchema)
@bp.doc(**BEARER)
@login_required
def list_conversations():
    """The caller's conversations, most recent first, with unread counts."""
    items = conversations.list_conversations(current_user.id)
    return {
        "items": [_api_conversation(s) for s in items],
        "unread": sum(s.unread for s in items),
    }


@bp.route("/conversations", methods=["POST"])
@bp.arguments(ConversationOpenSchema)
@bp.response(201, ConversationSchema)
@bp.alt_response(200, schema=ConversationSchema, description="It existed already")
@bp.alt_response(403, schema=ErrorSchema, description="no_shared_appointment")
@bp.alt_response(404, schema=ErrorSchema, description="No such doctor or patient")
@bp.doc(**BEARER)
@login_required
def open_conversation(body):
    """Open (or find) the conversation with a doctor (`doctor_id`, for a patient) or a
    patient (`patient_id`, for a doctor); they must share a confirmed appointment."""
    conversation, created = conversations.open_conversation(
        actor_id=current_user.id, now=request_now(), **body
    )
    summary = next(
        s for s in conversations.list_conversations(current_user.id) if s.id == conversation.id
    )
    return _api_conversation(summary), 201 if created else 200


@bp.route(f"/conversations/<{ID}:conversation_id>/messages")
@bp.arguments(HistoryArgsSchema, location="query")
@bp.response(200, MessageListSchema)
@bp.alt_response(404, schema=ErrorSchema, description=NOT_YOURS)
@bp.doc(**BEARER)
@login_required
def conversation_messages(args, conversation_id: int):
    """Messages newest first; `before_id` pages to older ones."""
    items = messages.history(conversation_id=conversation_id, viewer_id=current_user.id, **args)
    return {"items": [_api_message(m) for m in items]}


@bp.route(f"/conversations/<{ID}:conversation_id>/messages", methods=["POST"])
@takes_upload("CHAT_ATTACHMENT_MAX_BYTES", page="chat.index")
@bp.response(201, MessageSchema)
@bp.alt_response(404, schema=ErrorSchema, description=NOT_YOURS)
@bp.alt_response(403, schema=ErrorSchema, description="chat_closed")
@bp.alt_response(413, schema=ErrorSchema, description="attachment_too_large")
@bp.alt_response(422, schema=ErrorSchema, description="invalid_message, invalid_attachment")
@bp.alt_response(429, schema=ErrorSchema, description="too_many_messages (Retry-After)")
@bp.doc(**BEARER, **UPLOAD_BODY)
@login_required
def send_message(conversation_id: int):
    """Send `{"body"}` as JSON, or multipart form data with `body` and/or one `file` (an
    image or a PDF, at most 10 MB)."""
    upload = None
    if request.is_json:
        payload = request.get_json(silent=True)
        if payload is None:
            abort(400, INVALID_JSON)
        body = payload.get("body") if isinstance(payload, dict) else None
        if not isinstance(body, str):
            raise InvalidInput('Send {"body": "..."}: the text of the message.', field="body")
    else:
        body = request.form.get("body", "")
        upload = upload_from(request.files.get("file"))
    message = messages.send_message(
        conversation_id=conversation_id,
        sender_id=current_user.id,
        body=body,
        upload=upload,
        now=request_now(),
    )
    return _api_message(message)


@bp.route(f"/conversations/<{ID}:conversation_id>/read", methods=["POST"])
@bp.arguments(ReadSchema)
@bp.response(200, ReadResultSchema)
@bp.alt_response(404, schema=ErrorSchema, description=NOT_YOURS)
@bp.doc(**BEARER)
@login_required
def read_conversation(body, conversation_id: int):
    """Mark the caller's messages up to `up_to_id` read (the other side sees the receipt)."""
    marked = messages.mark_read(
        conversation_id=conversation_id,
        reader_id=current_user.id,
        up_to_id=body["up_to_id"],
        now=request_now(),
    )
    return {
        "conversation_id": conversation_id,
        "up_to_id": body["up_to_id"],
        "marked": marked,
        "unread": conversations.unread_total(current_user.id),
    }


@bp.route(f"/conversations/<{ID}:conversation_id>/messages/<{ID}:message_id>/attachment")
@bp.response(200, description="The file, as a download")
@bp.alt_response(404, schema=ErrorSchema, description=NOT_YOURS)
@bp.doc(**BEARER)
@login_required
def message_attachment(conversation_id: int, message_id: int):
    """A message's file (for the two participants)."""
    return attachment_response(conversation_id, message_id, current_user.id)
