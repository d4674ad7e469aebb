"""Rate limits on the sign-in pages (Flask-Limiter), per client address and per account.

Password sign-in counts only failures, so people who type their password right are never
held up; everything that sends or checks a code counts every try.
"""

from __future__ import annotations

from flask import current_app, request, session
from flask_babel import gettext
from flask_login import current_user

from app.extensions import limiter
from app.services.accounts.accounts import normalize_phone
from app.services.errors import DomainError


# Callables: Flask-Limiter asks for the text when it refuses, in that request's language.
def MESSAGE() -> str:
    return gettext("Too many attempts. Please wait a few minutes and try again.")


def _form_email_address() -> str:
    return (request.form.get("email") or "").strip().lower()


def _form_email() -> str:
    return "email:" + _form_email_address()


def _form_phone() -> str:
    raw = (request.form.get("phone") or "").strip()
    try:
        return normalize_phone(raw) or ""
    except DomainError:
        return raw  # the form refuses it anyway


def _user_contact(name: str) -> str:
    value = getattr(current_user, name, None) if current_user.is_authenticated else None
    return value or ""


def _pending_user() -> str:
    pending = session.get("second_factor")
    return "2fa:" + str(pending.get("uid") if isinstance(pending, dict) else "-")


def _signed_in_user() -> str:
    return "user:" + (str(current_user.get_id()) if current_user.is_authenticated else "-")


def _code_attempt() -> str:
    return "attempt:" + str(session.get("attempt_sign_in") or "-")


def _failed(response) -> bool:
    return response.status_code >= 400


def _limit(value: str, key_func=None, **kwargs):
    return limiter.limit(
        value, key_func=key_func, methods=["POST"], error_message=MESSAGE, **kwargs
    )


# POST /login and POST /api/v1/auth/token: wrong credentials per client address. Per account,
# wrong passwords share one budget in the database, web and API together, with a growing
# delay rather than a lock-out (services/accounts/throttle.py).
password_sign_in = [_limit("30/minute;100/hour", deduct_when=_failed)]
api_token = [_limit("30/minute;100/hour", deduct_when=_failed)]
# POST /api/v1/auth/refresh and /revoke: refresh tokens are unguessable, the limit is for load.
api_refresh = [_limit("60/minute")]
# POST /login/code: codes sent.
code_request = [_limit("10/minute;30/hour"), _limit("3/minute;10/hour", key_func=_form_email)]
# POST /login/code/verify: codes checked (each code also dies after 5 wrong tries).
code_check = [_limit("20/minute"), _limit("10/minute", key_func=_code_attempt)]
# POST /login/2fa.
second_factor = [_limit("20/minute"), _limit("5/minute;20/hour", key_func=_pending_user)]
registration = [_limit("5/minute;20/hour")]


# Codes sent to one email address or phone number, whoever asks and from wherever: /register
# and /account/verify/resend draw on the same count (a registration for an address that has an
# account counts as well, so the limit does not tell which do).
def CODES_TO_EMAIL() -> str:
    return gettext("Too many codes were sent to this email address. Please try again in an hour.")


def CODES_TO_PHONE() -> str:
    return gettext("Too many codes were sent to this phone number. Please try again in an hour.")


def _per_destination(scope: str, key, message, **kwargs):
    return limiter.shared_limit(
        "5/hour",
        scope=scope,
        key_func=lambda: f"{scope}:{key()}",
        exempt_when=lambda: not key(),
        methods=["POST"],
        error_message=message,
        **kwargs,
    )


def _code_sent(response) -> bool:
    return response.status_code == 302


registration_codes = [
    _per_destination("codes-to-email", _form_email_address, CODES_TO_EMAIL, deduct_when=_code_sent),
    _per_destination("codes-to-phone", _form_phone, CODES_TO_PHONE, deduct_when=_code_sent),
]
resent_codes = [
    _per_destination("codes-to-email", lambda: _user_contact("email"), CODES_TO_EMAIL),
    _per_destination("codes-to-phone", lambda: _user_contact("phone"), CODES_TO_PHONE),
]
# POST /doctors/apply: applications per client address, and per address applied with.
doctor_application = [_limit("5/minute;20/hour"), _limit("3/hour", key_func=_form_email)]
password_reset_request = [_limit("10/hour"), _limit("3/hour", key_func=_form_email)]
password_reset = [_limit("20/hour")]
# Codes and checks of a signed-in user (verification, re-authentication, changes).
account_code_request = [_limit("5/minute;20/hour", key_func=_signed_in_user)]
account_check = [_limit("10/minute", key_func=_signed_in_user)]
# POST /account/confirm (password) and /account/confirm/code: wrong answers, also per hour.
reauth_check = [_limit("5/minute;20/hour", key_func=_signed_in_user, deduct_when=_failed)]


# POST /book/<id> and POST /api/v1/appointments: booking tries per signed-in user.
def BOOKING_MESSAGE() -> str:
    return gettext("Too many bookings in a short time. Please wait a while and try again.")


# One budget for both: shared by the page and the API.
booking = [
    limiter.shared_limit(
        lambda: current_app.config.get("BOOKING_RATE_LIMIT", "20/hour"),
        scope="booking",
        key_func=_signed_in_user,
        methods=["POST"],
        error_message=BOOKING_MESSAGE,
    )
]


def apply(limits):
    """Stack a list of limits on a view."""

    def decorator(view):
        for limit in reversed(limits):
            view = limit(view)
        return view

    return decorator
