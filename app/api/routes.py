from datetime import UTC, datetime

from flask import current_app, request
from flask_login import current_user

from app.api import ErrorSchema, bp
from app.api.schemas import TokenRequestSchema, TokenSchema, UserSchema
from app.rbac import login_required, public
from app.services import accounts, tokens


@bp.route("/auth/token", methods=["POST"])
@bp.arguments(TokenRequestSchema)
@bp.response(200, TokenSchema)
@bp.alt_response(401, schema=ErrorSchema, description="Wrong email or password")
@public
def issue_token(body):
    """Exchange an email and password for a bearer token."""
    now = datetime.now(UTC)
    user = accounts.authenticate(body["email"], body["password"], now=now, ip=request.remote_addr)
    ttl = current_app.config["API_TOKEN_TTL_SECONDS"]
    token = tokens.issue_token(user, secret_key=current_app.secret_key, ttl_seconds=ttl, now=now)
    return {"access_token": token, "token_type": "Bearer", "expires_in": ttl}


@bp.route("/me")
@bp.response(200, UserSchema)
@bp.alt_response(401, schema=ErrorSchema, description="Missing, invalid or expired token")
@bp.doc(security=[{"bearerAuth": []}])
@login_required
def me():
    """The account the bearer token belongs to."""
    return current_user
