"""The in-app inbox: a user's own in-app notifications, newest first, read and unread.

An in-app row is delivered by being stored (status "sent"); reading it sets read_at. Items
are rendered by their kind's renderer each time they are shown, so they say what is true now
(a renamed doctor, a moved visit); a renderer that cannot (its appointment is gone, its kind
was retired) gives a generic title instead of breaking the list.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update

from app.extensions import db
from app.models import Notification, NotificationChannel, NotificationStatus, User
from app.services import realtime
from app.services.errors import InvalidInput, NotificationNotFound, UserNotFound
from app.services.links import site_path
from app.services.notifications.kinds import KINDS
from app.services.paging import Paged
from app.services.transaction import use_case

log = logging.getLogger(__name__)
MAX_PER_PAGE = 50
# What an item says when its renderer cannot tell more, by the kind's family.
GENERIC_TITLES = {
    "appointment": _l("An update about an appointment"),
    "payment": _l("An update about a payment"),
    "waitlist": _l("A waitlist update"),
    "account": _l("An update about your account"),
    "review": _l("An update about a review"),
    "chat": _l("A new message"),
}
GENERIC_TITLE = _l("A notification")


@dataclass(frozen=True)
class InboxItem:
    id: int
    kind: str
    title: str
    body: str
    url: str | None  # absolute, on PUBLIC_BASE_URL (None: nothing to open)
    created_at: datetime
    read_at: datetime | None

    @property
    def unread(self) -> bool:
        return self.read_at is None


@dataclass(frozen=True)
class InboxPage(Paged):
    items: list[InboxItem]
    total: int
    unread: int
    page: int
    per_page: int


def _mine(user_id: int) -> tuple:
    """The where-clause of a user's delivered in-app notifications."""
    return (
        Notification.user_id == user_id,
        Notification.channel == NotificationChannel.IN_APP,
        Notification.status == NotificationStatus.SENT,
    )


def unread_count(user_id: int) -> int:
    """How many of the user's in-app notifications are unread (one COUNT)."""
    return db.session.scalar(
        select(func.count())
        .select_from(Notification)
        .where(*_mine(user_id), Notification.read_at.is_(None))
    )


def unread_counts(user_ids: set[int]) -> dict[int, int]:
    """`unread_count` for several users at once (one grouped COUNT); 0 for those with none."""
    if not user_ids:
        return {}
    rows = db.session.execute(
        select(Notification.user_id, func.count())
        .where(
            Notification.user_id.in_(user_ids),
            Notification.channel == NotificationChannel.IN_APP,
            Notification.status == NotificationStatus.SENT,
            Notification.read_at.is_(None),
        )
        .group_by(Notification.user_id)
    ).all()
    return {user_id: 0 for user_id in user_ids} | dict(rows)


def publish_unread(user_ids: set[int]) -> None:
    """Each user's bells show their unread count now (`unread_notifications` {"total"}, after
    the commit)."""
    for user_id, total in unread_counts(user_ids).items():
        realtime.publish(realtime.user_room(user_id), "unread_notifications", {"total": total})


def inbox(*, user_id: int, page: int = 1, per_page: int = 20) -> InboxPage:
    """One page of the user's in-app notifications, newest first, with the unread count.
    Raises InvalidInput for a page below 1 or per_page outside 1..MAX_PER_PAGE."""
    if page < 1 or not 1 <= per_page <= MAX_PER_PAGE:
        raise InvalidInput(
            gettext(
                "page starts at 1 and per_page is 1 to %(MAX_PER_PAGE)s.", MAX_PER_PAGE=MAX_PER_PAGE
            ),
            field="per_page",
        )
    user = _user(user_id)
    total = db.session.scalar(select(func.count()).select_from(Notification).where(*_mine(user_id)))
    rows = db.session.scalars(
        select(Notification)
        .where(*_mine(user_id))
        .order_by(Notification.created_at.desc(), Notification.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return InboxPage(
        items=[render_item(row, user) for row in rows],
        total=total,
        unread=unread_count(user_id),
        page=page,
        per_page=per_page,
    )


def render_item(row: Notification, user: User) -> InboxItem:
    """What one notification says in the inbox: its kind's subject, text and link."""
    title, body, url = _fallback(row.kind), "", None
    spec = KINDS.get(row.kind)
    if spec is not None:
        try:
            message = spec.render(row.data or {}, user)
        except Exception:  # a renderer's failure must not take the whole list down
            log.warning("notification %s (%s) could not be rendered", row.id, row.kind)
            log.debug("render failure", exc_info=True)
        else:
            title, body, url = message.subject, message.body, message.url
    return InboxItem(row.id, row.kind, title, body, url, row.created_at, row.read_at)


def _fallback(kind: str) -> str:
    return str(GENERIC_TITLES.get(kind.partition(".")[0], GENERIC_TITLE))


@use_case
def mark_read(*, user_id: int, notification_id: int, now: datetime) -> InboxItem:
    """Mark one of the user's in-app notifications read (a second time keeps the first
    moment). Raises NotificationNotFound for an unknown id, another user's, or one that is
    not in-app."""
    row = db.session.scalar(
        select(Notification).where(Notification.id == notification_id, *_mine(user_id))
    )
    if row is None:
        raise NotificationNotFound()
    if row.read_at is None:
        row.read_at = now
        db.session.flush()
        publish_unread({user_id})  # the user's other tabs
    return render_item(row, _user(user_id))


def open_notification(*, user_id: int, notification_id: int, now: datetime) -> str | None:
    """Mark it read and give the on-site path it points to (None: nothing to open, or a
    link that would leave the site). Raises NotificationNotFound."""
    item = mark_read(user_id=user_id, notification_id=notification_id, now=now)
    return site_path(item.url)


@use_case
def mark_all_read(*, user_id: int, now: datetime) -> int:
    """Mark every unread in-app notification of the user read; returns how many."""
    result = db.session.execute(
        update(Notification)
        .where(*_mine(user_id), Notification.read_at.is_(None))
        .values(read_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount:
        realtime.publish(realtime.user_room(user_id), "unread_notifications", {"total": 0})
    return result.rowcount


def _user(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise UserNotFound()
    return user
