"""Forms of the notification pages: the mark-all button and the settings grid."""

from __future__ import annotations

from flask_babel import gettext, lazy_gettext
from flask_wtf import FlaskForm
from wtforms import SubmitField

from app.models import NotificationChannel
from app.services.errors import InvalidInput

# The grid's columns, in the order shown.
CHANNEL_LABELS = {
    NotificationChannel.EMAIL: lazy_gettext("Email"),
    NotificationChannel.SMS: lazy_gettext("Text message"),
    NotificationChannel.IN_APP: lazy_gettext("In Carebook"),
}
# How a checkbox of the grid is named: "reminders:email".
SEPARATOR = ":"


class MarkAllReadForm(FlaskForm):
    submit = SubmitField(lazy_gettext("Mark all as read"))


class SettingsForm(FlaskForm):
    """The grid's checkboxes are plain inputs named `on` (see parse_grid); this carries the
    CSRF token and the button."""

    submit = SubmitField(lazy_gettext("Save settings"))


def cell_value(category: str, channel: NotificationChannel) -> str:
    return f"{category}{SEPARATOR}{channel.value}"


def parse_grid(values: list[str]) -> set[tuple[str, NotificationChannel]]:
    """The ticked cells of the grid. Raises InvalidInput for a value that names no cell."""
    cells = set()
    for value in values:
        category, _, channel = value.partition(SEPARATOR)
        try:
            cells.add((category, NotificationChannel(channel)))
        except ValueError as exc:
            raise InvalidInput(
                gettext("Unknown notification setting %(value)r.", value=value), field="on"
            ) from exc
    return cells
