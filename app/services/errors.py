"""The base of every domain error; app/errors.py maps them to HTTP responses once.

Messages are for people: pages show them in the reader's language (gettext when raised, or
lazy_gettext for the class defaults); the JSON API is always English (app/i18n.py).
"""

from __future__ import annotations

from enum import Enum
from typing import TypeVar

from flask_babel import lazy_gettext as _l

E = TypeVar("E", bound=Enum)


class DomainError(Exception):
    """A use case refused: `status_code` and `code` say how the HTTP layer reports it."""

    status_code = 422
    code = "invalid"
    default_message = _l("The request could not be processed.")

    def __init__(self, message: str | None = None, **details):
        # A plain str now, in the language of the moment (a flash message is stored as one).
        text = str(message or self.default_message)
        super().__init__(text)
        self.message = text
        self.details = details


class InvalidInput(DomainError):
    status_code = 422
    code = "invalid_input"
    default_message = _l("Some of the input is not valid.")


def parse_choice(enum_cls: type[E], value: E | str, message: str, *, field: str) -> E:
    """`value` as a member of `enum_cls`, or InvalidInput(message) on `field`. Pass a lazy
    message (`_l`): it is put in the reader's language only when the value is refused."""
    try:
        return enum_cls(value)
    except ValueError as exc:
        raise InvalidInput(message, field=field) from exc


class NotFound(DomainError):
    status_code = 404
    code = "not_found"
    default_message = _l("Not found.")


class Forbidden(DomainError):
    status_code = 403
    code = "forbidden"
    default_message = _l("You are not allowed to do that.")


class Conflict(DomainError):
    status_code = 409
    code = "conflict"
    default_message = _l("That conflicts with the current state.")


# The not-found family: one class per kind of thing, each with its own code, raised wherever
# that thing is looked up (a caller may not tell "missing" from "not yours": both are these).
class SlotNotFound(NotFound):
    code = "slot_not_found"
    default_message = _l("There is no such slot.")


class AppointmentNotFound(NotFound):
    code = "appointment_not_found"
    default_message = _l("There is no such appointment.")


class DoctorNotFound(NotFound):
    code = "doctor_not_found"
    default_message = _l("There is no such doctor.")


class PaymentNotFound(NotFound):
    code = "payment_not_found"
    default_message = _l("There is no such payment.")


class UserNotFound(NotFound):
    code = "user_not_found"
    default_message = _l("There is no such account.")


class ClinicNotFound(NotFound):
    code = "clinic_not_found"
    default_message = _l("There is no such clinic.")


class SpecialtyNotFound(NotFound):
    code = "specialty_not_found"
    default_message = _l("There is no such specialty.")


class NotificationNotFound(NotFound):
    code = "notification_not_found"
    default_message = _l("There is no such notification.")


class PageNotFound(NotFound):
    code = "page_not_found"
    default_message = _l("There is no such page.")


class ApplicationNotFound(NotFound):
    code = "application_not_found"
    default_message = _l("There is no such application.")
