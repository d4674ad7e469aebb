"""The kinds of notification and what each says: a registry that the catalogue fills.

A kind names its category (what a user can turn off), whether it is essential (security
codes, receipts and cancellations always go), its channels, and a renderer that turns the
row's data into a Message. Later kinds (chat messages while offline, review requests) are
one more `@kind(...)` function in catalogue.py.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l

from app.models import NotificationChannel, User

C = NotificationChannel
ALL = (C.EMAIL, C.SMS, C.IN_APP)
EMAIL_AND_APP = (C.EMAIL, C.IN_APP)

# Optional categories a user may turn off per channel (the account's notification settings).
OPTIONAL_CATEGORIES = {
    "appointments": _l("Bookings, approvals and changes"),
    "reminders": _l("Visit reminders"),
    "waitlist": _l("Waitlist openings"),
    "reviews": _l("Requests to review a visit"),
    "messages": _l("Messages from your doctor or patient"),
}


@dataclass(frozen=True)
class Message:
    subject: str  # the email subject, the in-app title
    lines: list[str]  # paragraphs of plain text
    action: tuple[str, str] | None = None  # (label, absolute URL)
    details: list[tuple[str, str]] = field(default_factory=list)  # (label, value) rows
    sms: str | None = None  # a short text; None: the kind is not sent by SMS
    # Builds the calendar attachment (METHOD:REQUEST or CANCEL) when an email is sent; never
    # built for the in-app list, which renders the same message.
    ics: Callable[[], bytes] | None = None

    @property
    def body(self) -> str:
        return " ".join(self.lines)

    @property
    def url(self) -> str | None:
        return self.action[1] if self.action else None


@dataclass(frozen=True)
class Kind:
    name: str
    category: str
    essential: bool
    channels: tuple[NotificationChannel, ...]
    render: Callable[[dict, User], Message]
    # Checked just before sending: False skips it (a reminder of a cancelled visit).
    still_relevant: Callable[[dict], bool] | None = None


KINDS: dict[str, Kind] = {}


def category_channels(category: str) -> set[NotificationChannel]:
    """The channels some optional kind of `category` is sent on (the settings offer only
    these: chat messages never go by text message, so there is no box for it)."""
    return {
        channel
        for spec in KINDS.values()
        if spec.category == category and not spec.essential
        for channel in spec.channels
    }


class Gone(LookupError):
    """What the notification is about no longer exists (a deleted appointment): skip it."""


def kind(
    name: str,
    *,
    category: str,
    essential: bool = False,
    channels: tuple[NotificationChannel, ...] = EMAIL_AND_APP,
    still_relevant: Callable[[dict], bool] | None = None,
):
    """Register the decorated renderer as kind `name`."""
    if not essential and category not in OPTIONAL_CATEGORIES:
        raise ValueError(f"{name}: optional kinds need a category from OPTIONAL_CATEGORIES")

    def register(render: Callable[[dict, User], Message]):
        if name in KINDS:
            raise ValueError(f"notification kind {name!r} registered twice")
        KINDS[name] = Kind(name, category, essential, channels, render, still_relevant)
        return render

    return register
