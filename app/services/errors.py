"""The base of every domain error; app/errors.py maps them to HTTP responses once."""

from __future__ import annotations


class DomainError(Exception):
    """A use case refused: `status_code` and `code` say how the HTTP layer reports it."""

    status_code = 422
    code = "invalid"
    default_message = "The request could not be processed."

    def __init__(self, message: str | None = None, **details):
        super().__init__(message or self.default_message)
        self.message = message or self.default_message
        self.details = details


class InvalidInput(DomainError):
    status_code = 422
    code = "invalid_input"
    default_message = "Some of the input is not valid."


class NotFound(DomainError):
    status_code = 404
    code = "not_found"
    default_message = "Not found."


class Forbidden(DomainError):
    status_code = 403
    code = "forbidden"
    default_message = "You are not allowed to do that."


class Conflict(DomainError):
    status_code = 409
    code = "conflict"
    default_message = "That conflicts with the current state."
