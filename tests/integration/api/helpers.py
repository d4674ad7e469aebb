"""Small helpers the API tests share."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


def hours_ahead(hours: float) -> datetime:
    """A whole hour (UTC) about `hours` from now."""
    return (datetime.now(UTC) + timedelta(hours=hours)).replace(minute=0, second=0, microsecond=0)


def iso(moment: datetime) -> str:
    """How the API writes a time: ISO 8601 in UTC, with its offset."""
    return moment.astimezone(UTC).isoformat()


def assert_error(response, status: int, code: str | None = None) -> dict:
    """The response is the API's JSON error with `status` (and `code`); returns the error."""
    assert response.status_code == status, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert error["message"]
    if code is not None:
        assert error["code"] == code, error
    return error
