"""Sign in with Google (OpenID Connect through Authlib): discovery, state, nonce, PKCE S256.

Without GOOGLE_CLIENT_ID these routes answer 404 and the button is hidden. The callback is a
GET because the provider redirects the browser there; its `state` (kept in the session) is what
ties it to a sign-in this browser started.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import requests
from authlib.integrations.base_client import OAuthError
from flask import abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext, lazy_gettext
from flask_login import current_user
from flask_wtf import FlaskForm
from joserfc.errors import JoseError
from wtforms import PasswordField, SubmitField
from wtforms.validators import DataRequired, Length

from app.auth import bp, signin
from app.extensions import oauth
from app.rbac import public
from app.services.accounts import google
from app.services.errors import DomainError

log = logging.getLogger(__name__)

PENDING_KEY = "google_pending_link"
_CLIENT_KEY = "carebook.google_client"


class LinkGoogleForm(FlaskForm):
    password = PasswordField(lazy_gettext("Password"), validators=[DataRequired(), Length(max=256)])
    submit = SubmitField(lazy_gettext("Link and sign in"))


def google_client():
    """This app's OpenID Connect client, or 404 when Google sign-in is not configured.

    Authlib's registry binds one Flask app and caches clients on itself; the client is kept
    per app instead, so that apps built with other settings (tests) each get their own.
    """
    config = current_app.config
    if not config.get("GOOGLE_CLIENT_ID"):
        abort(404)
    client = current_app.extensions.get(_CLIENT_KEY)
    if client is None:
        client = oauth.oauth2_client_cls(
            oauth.framework_integration_cls("google", oauth.cache),
            "google",
            client_id=config["GOOGLE_CLIENT_ID"],
            client_secret=config.get("GOOGLE_CLIENT_SECRET"),
            server_metadata_url=config["GOOGLE_DISCOVERY_URL"],
            client_kwargs={
                "scope": "openid email profile",
                "code_challenge_method": "S256",
                "timeout": 10,
            },
        )
        current_app.extensions[_CLIENT_KEY] = client
    return client


def _refused(reason: str):
    log.warning("google sign-in refused from %s: %s", request.remote_addr, reason)
    google.record_refusal(reason, ip=request.remote_addr)
    flash(gettext("Signing in with Google did not work. Please try again."), "error")
    return redirect(url_for("auth.login"))


@bp.route("/login/google")
@public
def login_google():
    client = google_client()
    if current_user.is_authenticated:
        return redirect(signin.home_for(current_user))
    try:
        return client.authorize_redirect(url_for("auth.google_callback", _external=True))
    except requests.RequestException as exc:
        return _refused(f"discovery failed ({exc.__class__.__name__})")


@bp.route("/login/google/callback")
@public
def google_callback():
    client = google_client()
    try:
        # Authlib checks `aud` only through `azp`; the audience and issuer are pinned here.
        token = client.authorize_access_token(
            claims_options={
                "iss": {"essential": True, "values": [client.load_server_metadata()["issuer"]]},
                "aud": {"essential": True, "values": [client.client_id]},
            }
        )
    except (OAuthError, JoseError, requests.RequestException, KeyError, ValueError) as exc:
        # Mismatching state, a refused code, a bad signature, wrong iss/aud/nonce, expiry.
        return _refused(f"{exc.__class__.__name__}: {exc}")
    claims = token.get("userinfo")
    if not claims or not claims.get("sub"):
        return _refused("no ID token")
    try:
        outcome = google.sign_in_with_google(
            google.GoogleIdentity.from_claims(claims),
            now=datetime.now(UTC),
            ip=request.remote_addr,
        )
    except DomainError as exc:
        flash(exc.message, "error")
        return redirect(url_for("auth.login"))
    if outcome.pending is not None:
        session.clear()
        session[PENDING_KEY] = outcome.pending.to_session()
        return redirect(url_for("auth.google_link"))
    response = signin.finish(outcome.user)  # a fresh session, or the 2FA step first
    flash(gettext("Welcome, %(name)s.", name=outcome.user.name), "success")
    return response


@bp.route("/login/google/link", methods=["GET", "POST"])
@public
def google_link():
    google_client()
    pending = google.PendingLink.from_session(session.get(PENDING_KEY))
    if pending is None:
        return redirect(url_for("auth.login"))
    form = LinkGoogleForm()
    if form.validate_on_submit():
        try:
            user = google.complete_link(
                pending, form.password.data, now=datetime.now(UTC), ip=request.remote_addr
            )
        except google.LinkExpired as exc:
            session.pop(PENDING_KEY, None)
            flash(exc.message, "error")
            return redirect(url_for("auth.login"))
        except DomainError as exc:
            form.password.errors.append(exc.message)
            return render_template(
                "auth/google_link.html", form=form, email=pending.email
            ), exc.status_code
        response = signin.finish(user)
        flash(
            gettext("Google is now linked to your account: next time, one click signs you in."),
            "success",
        )
        return response
    status = 422 if form.errors else 200
    return render_template("auth/google_link.html", form=form, email=pending.email), status
