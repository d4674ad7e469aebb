"""Schemas of the in-app notifications."""

from __future__ import annotations

import marshmallow as ma

from app.api.fields import PageNumber
from app.services.notifications.inbox import MAX_PER_PAGE


class NotificationSchema(ma.Schema):
    id = ma.fields.Integer()
    kind = ma.fields.String(metadata={"description": "e.g. appointment.approved"})
    title = ma.fields.String()
    body = ma.fields.String()
    url = ma.fields.String(
        allow_none=True, metadata={"description": "Where it points on the site (absolute)"}
    )
    created_at = ma.fields.DateTime()
    read_at = ma.fields.DateTime(allow_none=True, metadata={"description": "null: unread"})


class NotificationPageSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(NotificationSchema))
    unread = ma.fields.Integer(metadata={"description": "Unread notifications in all"})
    page = ma.fields.Integer()
    per_page = ma.fields.Integer()
    total = ma.fields.Integer()
    pages = ma.fields.Integer()


class NotificationListArgsSchema(ma.Schema):
    page = PageNumber(1)
    per_page = PageNumber(20, MAX_PER_PAGE)


class ReadAllSchema(ma.Schema):
    marked = ma.fields.Integer(metadata={"description": "How many were unread"})
    unread = ma.fields.Integer()
