from datetime import UTC, datetime

from flask import current_app, request
from flask_login import current_user

from app.api import ErrorSchema, bp
from app.api.schemas import TokenRequestSchema, TokenSchema, UserSchema
from app.auth import limits
from app.rbac import login_required, public
from app.services.accounts import tokens


@bp.route("/auth/token", methods=["POST"])
@bp.arguments(TokenRequestSchema)
@bp.response(200, TokenSchema)
@bp.alt_response(
    401, schema=ErrorSchema, description="Wrong credentials, or two-step code missing or wrong"
)
@public
@limits.apply(limits.api_token)
def issue_token(body):
    """Exchange an email and password (and `otp` for two-step accounts) for a bearer token."""
    ttl = current_app.config["API_TOKEN_TTL_SECONDS"]
    token = tokens.token_for_credentials(
        email=body["email"],
        password=body["password"],
        otp=body.get("otp"),
        secret_key=current_app.secret_key,
        ttl_seconds=ttl,
        now=datetime.now(UTC),
        ip=request.remote_addr,
        admins_need_2fa=current_app.config.get("ADMIN_2FA_REQUIRED", True),
    )
    return {"access_token": token, "token_type": "Bearer", "expires_in": ttl}


@bp.route("/me")
@bp.response(200, UserSchema)
@bp.alt_response(401, schema=ErrorSchema, description="Missing, invalid or expired token")
@bp.doc(security=[{"bearerAuth": []}])
@login_required
def me():
    """The account the bearer token belongs to."""
    return current_user
