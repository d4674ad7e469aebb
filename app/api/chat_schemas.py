"""Schemas of the chat: conversations, messages, read receipts."""

from __future__ import annotations

import marshmallow as ma

from app.api.fields import Id
from app.models.chat import MAX_BODY
from app.services.chat.messages import MAX_PAGE


class PartySchema(ma.Schema):
    id = ma.fields.Integer(metadata={"description": "patient: user id; doctor: doctor id"})
    name = ma.fields.String()


class AttachmentSchema(ma.Schema):
    name = ma.fields.String(metadata={"description": "The file's name on download"})
    content_type = ma.fields.String(metadata={"description": "Detected from the bytes"})
    size = ma.fields.Integer(metadata={"description": "Bytes"})
    url = ma.fields.String(metadata={"description": "Download (Content-Disposition: attachment)"})


class MessageSchema(ma.Schema):
    id = ma.fields.Integer()
    conversation_id = ma.fields.Integer()
    sender_id = ma.fields.Integer(metadata={"description": "The user who wrote it"})
    body = ma.fields.String(metadata={"description": "As written; show it as text"})
    attachment = ma.fields.Nested(AttachmentSchema, allow_none=True)
    created_at = ma.fields.String(metadata={"format": "date-time"})
    read_at = ma.fields.String(
        allow_none=True,
        metadata={"format": "date-time", "description": "When its recipient read it; null: unread"},
    )


class MessageListSchema(ma.Schema):
    items = ma.fields.List(
        ma.fields.Nested(MessageSchema), metadata={"description": "Newest first"}
    )


class ConversationSchema(ma.Schema):
    id = ma.fields.Integer()
    patient = ma.fields.Nested(PartySchema)
    doctor = ma.fields.Nested(PartySchema)
    last_message = ma.fields.Nested(MessageSchema, allow_none=True)
    unread = ma.fields.Integer(metadata={"description": "Messages to the caller not read yet"})


class ConversationListSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(ConversationSchema))
    unread = ma.fields.Integer(metadata={"description": "Unread messages in all"})


class ConversationOpenSchema(ma.Schema):
    doctor_id = Id(metadata={"description": "A patient names the doctor (doctor id)"})
    patient_id = Id(metadata={"description": "A doctor names the patient (user id)"})


class HistoryArgsSchema(ma.Schema):
    before_id = Id(strict=False, metadata={"description": "Only messages older than this one"})
    limit = ma.fields.Integer(
        load_default=50,
        validate=ma.validate.Range(1, MAX_PAGE),
        metadata={"description": f"1..{MAX_PAGE}"},
    )


class MessageInSchema(ma.Schema):
    body = ma.fields.String(
        required=True, metadata={"description": f"The text, at most {MAX_BODY} characters"}
    )


class ReadSchema(ma.Schema):
    up_to_id = Id(required=True, metadata={"description": "Mark this message and older read"})


class ReadResultSchema(ma.Schema):
    conversation_id = ma.fields.Integer()
    up_to_id = ma.fields.Integer()
    marked = ma.fields.Integer(metadata={"description": "How many were unread"})
    unread = ma.fields.Integer(metadata={"description": "Unread messages in all, after"})
