"""Attachments in and out, for the pages and the API alike: an upload read up to one byte
past its limit (enough to say it is too large), and a download that a browser saves rather
than shows (`Content-Disposition: attachment`, `nosniff`)."""

from __future__ import annotations

import io

from flask import send_file
from werkzeug.datastructures import FileStorage

from app.services.chat import attachments, messages


def upload_from(file: FileStorage | None) -> attachments.Upload | None:
    """The posted file (None when the form carried none)."""
    if file is None or not file.filename:
        return None
    try:
        data = file.read(attachments.max_bytes() + 1)
    finally:
        file.close()  # a large upload is spooled to a temporary file: let it go now
    return attachments.Upload(data=data, filename=file.filename)


def attachment_response(conversation_id: int, message_id: int, viewer_id: int):
    message, data = messages.attachment_of(
        conversation_id=conversation_id, message_id=message_id, viewer_id=viewer_id
    )
    response = send_file(
        io.BytesIO(data),
        mimetype=message.attachment_type,
        as_attachment=True,
        download_name=message.attachment_name,
        max_age=0,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response
