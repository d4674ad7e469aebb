"""Which optional notifications a user gets, per category and channel, and the signed
one-click unsubscribe links of reminder and update emails (RFC 8058)."""

from __future__ import annotations

from flask import current_app
from flask_babel import lazy_gettext
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select

from app.extensions import db
from app.models import NotificationChannel, NotificationPreference, User
from app.models.types import utcnow
from app.services.errors import InvalidInput, NotFound
from app.services.links import public_url
from app.services.notifications.kinds import OPTIONAL_CATEGORIES, category_channels
from app.services.transaction import use_case

C = NotificationChannel
_SALT = "carebook-unsubscribe"


class InvalidUnsubscribeLink(NotFound):
    default_message = lazy_gettext("This unsubscribe link is not valid.")


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


def unsubscribe_url(user_id: int, category: str) -> str:
    token = _serializer().dumps({"u": user_id, "c": category})
    return public_url("notifications.unsubscribe", token=token)


def read_unsubscribe_token(token: str) -> tuple[int, str]:
    try:
        data = _serializer().loads(token)
        user_id, category = int(data["u"]), str(data["c"])
    except (BadSignature, KeyError, TypeError, ValueError) as exc:
        raise InvalidUnsubscribeLink() from exc
    if category not in OPTIONAL_CATEGORIES:
        raise InvalidUnsubscribeLink()
    return user_id, category


def settings_for(user_id: int) -> dict[str, dict[NotificationChannel, bool]]:
    """{category: {channel: on?}} for every optional category, on the channels its kinds
    use (on unless turned off)."""
    rows = db.session.scalars(
        select(NotificationPreference).where(NotificationPreference.user_id == user_id)
    )
    chosen = {(r.category, r.channel): r.enabled for r in rows}
    return {
        category: {
            channel: chosen.get((category, channel), True)
            for channel in C
            if channel in category_channels(category)
        }
        for category in OPTIONAL_CATEGORIES
    }


@use_case
def set_preference(
    user_id: int, category: str, channel: NotificationChannel, enabled: bool
) -> None:
    """Turn one optional category on or off on one channel. Raises InvalidInput."""
    if category not in OPTIONAL_CATEGORIES:
        raise InvalidInput(f"Unknown notification category {category!r}.", field="category")
    row = db.session.get(NotificationPreference, (user_id, category, channel))
    if row is None:
        row = NotificationPreference(user_id=user_id, category=category, channel=channel)
        db.session.add(row)
    row.enabled = enabled
    row.updated_at = utcnow()


def unsubscribe(token: str) -> tuple[User, str]:
    """The one-click unsubscribe: that category's emails stop. Raises InvalidUnsubscribeLink."""
    user_id, category = read_unsubscribe_token(token)
    user = db.session.get(User, user_id)
    if user is None:
        raise InvalidUnsubscribeLink()
    set_preference(user_id, category, C.EMAIL, False)
    return user, category


@use_case
def save_settings(user_id: int, enabled: set[tuple[str, NotificationChannel]]) -> None:
    """The settings grid in one go: every optional category on every channel is on when
    (category, channel) is in `enabled` and off otherwise. Raises InvalidInput for an
    unknown category or a channel the category is not sent on (nothing is saved then)."""
    unknown = sorted({category for category, _ in enabled} - set(OPTIONAL_CATEGORIES))
    if unknown:
        raise InvalidInput(f"Unknown notification category {unknown[0]!r}.", field="category")
    for category, channel in sorted(enabled):
        if channel not in category_channels(category):
            raise InvalidInput(
                f"Unknown notification setting {category}:{channel.value}: "
                f"{OPTIONAL_CATEGORIES[category].lower()} are not sent that way.",
                field="channel",
            )
    for category in OPTIONAL_CATEGORIES:
        for channel in category_channels(category):
            set_preference(user_id, category, channel, (category, channel) in enabled)
