"""Rate limits on the sign-in pages (Flask-Limiter), per client address and per account.

Password sign-in counts only failures, so people who type their password right are never
held up; everything that sends or checks a code counts every try.
"""

from __future__ import annotations

from flask import current_app, request, session
from flask_login import current_user

from app.extensions import limiter

MESSAGE = "Too many attempts. Please wait a few minutes and try again."


def _form_email() -> str:
    return "email:" + (request.form.get("email") or "").strip().lower()


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
# delay rather than a lock-out (services/sign_in_throttle.py).
password_sign_in = [_limit("30/minute;100/hour", deduct_when=_failed)]
api_token = [_limit("30/minute;100/hour", deduct_when=_failed)]
# POST /login/code: codes sent.
code_request = [_limit("10/minute;30/hour"), _limit("3/minute;10/hour", key_func=_form_email)]
# POST /login/code/verify: codes checked (each code also dies after 5 wrong tries).
code_check = [_limit("20/minute"), _limit("10/minute", key_func=_code_attempt)]
# POST /login/2fa.
second_factor = [_limit("20/minute"), _limit("5/minute;20/hour", key_func=_pending_user)]
registration = [_limit("5/minute;20/hour")]
password_reset_request = [_limit("10/hour"), _limit("3/hour", key_func=_form_email)]
password_reset = [_limit("20/hour")]
# Codes and checks of a signed-in user (verification, re-authentication, changes).
account_code_request = [_limit("5/minute;20/hour", key_func=_signed_in_user)]
account_check = [_limit("10/minute", key_func=_signed_in_user)]
# POST /account/confirm (password) and /account/confirm/code: wrong answers, also per hour.
reauth_check = [_limit("5/minute;20/hour", key_func=_signed_in_user, deduct_when=_failed)]
# POST /book/<id> and POST /api/v1/appointments: booking tries per signed-in user.
BOOKING_MESSAGE = "Too many bookings in a short time. Please wait a while and try again."
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
