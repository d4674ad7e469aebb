"""The caller's own data: a copy of all of it, and deleting the account."""

from __future__ import annotations

import marshmallow as ma
from flask_login import current_user

from app.api import BEARER, ErrorSchema, bp, request_now
from app.api.fields import Text
from app.auth import limits
from app.rbac import login_required
from app.services.accounts import closure, privacy


class ExportSchema(ma.Schema):
    """The document services/accounts/privacy.py builds (sections as it names them)."""

    class Meta:
        unknown = ma.INCLUDE

    format_version = ma.fields.Integer(required=True)
    exported_at = ma.fields.String(required=True)
    account = ma.fields.Dict(required=True)
    patient_profile = ma.fields.Dict(allow_none=True)
    doctor_profile = ma.fields.Dict(allow_none=True)
    appointments = ma.fields.List(ma.fields.Dict())
    payments = ma.fields.List(ma.fields.Dict())
    conversations = ma.fields.List(ma.fields.Dict())
    notifications = ma.fields.List(ma.fields.Dict())
    notification_preferences = ma.fields.List(ma.fields.Dict())
    reviews = ma.fields.List(ma.fields.Dict())
    waitlist = ma.fields.List(ma.fields.Dict())
    consults = ma.fields.List(ma.fields.Dict())
    sessions = ma.fields.List(ma.fields.Dict())
    api_sessions = ma.fields.List(ma.fields.Dict())
    activity = ma.fields.List(ma.fields.Dict())


class DeleteAccountSchema(ma.Schema):
    password = Text(
        load_default=None,
        validate=ma.validate.Length(max=256),
        metadata={"description": "The account's password (accounts without one: the page)"},
    )


class DeletedSchema(ma.Schema):
    deleted = ma.fields.Boolean(required=True)
    cancelled_appointments = ma.fields.List(ma.fields.Integer(), required=True)


@bp.route("/me/export")
@bp.response(200, ExportSchema)
@bp.doc(**BEARER)
@login_required
def export_my_data():
    """Everything Carebook holds about the caller (no secrets, no one else's data)."""
    return privacy.export_data(user_id=current_user.id, now=request_now())


@bp.route("/me/delete", methods=["POST"])
@bp.arguments(DeleteAccountSchema)
@bp.response(200, DeletedSchema)
@bp.alt_response(403, schema=ErrorSchema, description="Wrong password, or a staff account")
@bp.alt_response(409, schema=ErrorSchema, description="A visit can no longer be cancelled")
@bp.alt_response(422, schema=ErrorSchema, description="Password missing")
@bp.alt_response(429, schema=ErrorSchema, description="Too many tries (Retry-After)")
@bp.doc(**BEARER)
@login_required
@limits.apply(limits.reauth_check)
def delete_my_account(body):
    """Delete the caller's patient account: upcoming visits are cancelled by the clinic's
    policy (with its refunds), personal data erased; payments and the audit trail stay,
    de-identified. The caller's tokens stop working."""
    closed = closure.delete_account(
        user_id=current_user.id, now=request_now(), password=body["password"]
    )
    return {"deleted": True, "cancelled_appointments": closed.cancelled}
