from dataclasses import asdict
from datetime import UTC, datetime, timedelta

from flask import current_app, request
from flask_login import current_user

from app.api import ErrorSchema, bp
from app.api.schemas import (
    RefreshTokenRequestSchema,
    TokenRequestSchema,
    TokenSchema,
    UserSchema,
)
from app.auth import limits
from app.rbac import login_required, public
from app.services.accounts import tokens


@bp.route("/auth/token", methods=["POST"])
@bp.arguments(TokenRequestSchema)
@bp.response(200, TokenSchema)
@bp.alt_response(
    401, schema=ErrorSchema, description="Wrong credentials, or two-step code missing or wrong"
)
@bp.alt_response(429, schema=ErrorSchema, description="Too many tries (Retry-After)")
@public
@limits.apply(limits.api_token)
def issue_token(body):
    """Exchange an email and password (and `otp` for two-step accounts) for a bearer token and
    a refresh token."""
    pair = tokens.token_for_credentials(
        email=body["email"],
        password=body["password"],
        otp=body.get("otp"),
        secret_key=current_app.secret_key,
        ttl_seconds=current_app.config["API_TOKEN_TTL_SECONDS"],
        refresh_ttl=_refresh_ttl(),
        client=body.get("client_name") or request.user_agent.string,
        now=datetime.now(UTC),
        ip=request.remote_addr,
        admins_need_2fa=current_app.config.get("ADMIN_2FA_REQUIRED", True),
    )
    return asdict(pair)


@bp.route("/auth/refresh", methods=["POST"])
@bp.arguments(RefreshTokenRequestSchema)
@bp.response(200, TokenSchema)
@bp.alt_response(
    401,
    schema=ErrorSchema,
    description="Unknown, expired or revoked refresh token; one used before revokes its family",
)
@bp.alt_response(429, schema=ErrorSchema, description="Too many tries (Retry-After)")
@public
@limits.apply(limits.api_refresh)
def refresh_token(body):
    """A new access token and a new refresh token; the one sent is retired. Sending a retired
    refresh token again revokes every token descended from the same sign-in."""
    pair = tokens.refresh(
        body["refresh_token"],
        secret_key=current_app.secret_key,
        ttl_seconds=current_app.config["API_TOKEN_TTL_SECONDS"],
        refresh_ttl=_refresh_ttl(),
        now=datetime.now(UTC),
        ip=request.remote_addr,
        admins_need_2fa=current_app.config.get("ADMIN_2FA_REQUIRED", True),
    )
    return asdict(pair)


@bp.route("/auth/revoke", methods=["POST"])
@bp.arguments(RefreshTokenRequestSchema)
@bp.response(200, description="Revoked, or not a live refresh token (RFC 7009: no difference)")
@bp.alt_response(429, schema=ErrorSchema, description="Too many tries (Retry-After)")
@public
@limits.apply(limits.api_refresh)
def revoke_token(body):
    """Sign an API session out: the refresh token's family and its access tokens stop working."""
    tokens.revoke(body["refresh_token"], now=datetime.now(UTC))
    return {}


def _refresh_ttl() -> timedelta:
    return timedelta(days=current_app.config["API_REFRESH_TOKEN_TTL_DAYS"])


@bp.route("/me")
@bp.response(200, UserSchema)
@bp.alt_response(401, schema=ErrorSchema, description="Missing, invalid or expired token")
@bp.doc(security=[{"bearerAuth": []}])
@login_required
def me():
    """The account the bearer token belongs to."""
    return current_user
