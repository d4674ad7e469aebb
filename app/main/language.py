"""The language switch (the footer's buttons, the account page's setting)."""

from flask import current_app, flash, redirect, request
from flask_babel import gettext as _
from flask_babel import refresh
from flask_login import current_user

from app.auth.signin import safe_next
from app.extensions import csrf
from app.i18n import COOKIE, COOKIE_MAX_AGE, supported
from app.main import bp
from app.rbac import public
from app.services.accounts import profile
from app.services.errors import DomainError


@bp.route("/language", methods=["POST"])
@public
@csrf.exempt
def set_language():
    """Signed in: the account's setting (mail and texts follow it too), CSRF-checked like every
    form; otherwise a cookie. A visitor's switch carries no CSRF token: it changes nothing but
    that browser's own language, and a token would give every public page a session cookie
    (and make it uncacheable). An empty choice goes back to following the browser."""
    if current_user.is_authenticated and current_app.config["WTF_CSRF_ENABLED"]:
        csrf.protect()  # as every other form (CSRFError: the site's own answer)
    raw = request.form.get("locale", "")
    locale = supported(raw)
    response = redirect(
        safe_next(request.form.get("next"), current_user if current_user.is_authenticated else None)
    )
    if raw and locale is None:
        flash(_("Choose one of the languages offered."), "error")
        return response
    if current_user.is_authenticated:
        try:
            profile.set_locale(current_user.id, locale)
        except DomainError as exc:
            flash(exc.message, "error")
            return response
    if locale is None:
        response.delete_cookie(COOKIE)
    else:
        response.set_cookie(
            COOKIE,
            locale,
            max_age=COOKIE_MAX_AGE,
            samesite="Lax",
            secure=request.is_secure,
            httponly=True,
        )
    refresh()
    return response
