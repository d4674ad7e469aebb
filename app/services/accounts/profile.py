"""The profile a clinic needs: a user's name; for patients also their date of birth and,
optionally, their health insurer and member number there. Their own doctors read it with each
appointment (services/scheduling/visit_notes.py)."""

from __future__ import annotations

from datetime import date, datetime

from flask_babel import gettext
from flask_babel import gettext as _

from app.extensions import db
from app.i18n import LANGUAGES
from app.models import PatientProfile, Role, User
from app.services import audit
from app.services.errors import InvalidInput, UserNotFound
from app.services.transaction import use_case

MAX_NAME = 120
MAX_INSURER = 120
MAX_MEMBER_NUMBER = 64
OLDEST_BIRTH_YEAR = 1900


def _clean(value: str | None, limit: int, field: str, label: str) -> str | None:
    value = " ".join((value or "").split())
    if len(value) > limit:
        raise InvalidInput(
            gettext("%(label)s is at most %(limit)s characters.", label=label, limit=limit),
            field=field,
        )
    return value or None


@use_case
def update_profile(
    user_id: int,
    *,
    name: str,
    now: datetime,
    date_of_birth: date | None = None,
    insurer: str | None = None,
    member_number: str | None = None,
) -> User:
    """Change a user's name and, for a patient, their date of birth and insurance. A member
    number without an insurer means nothing, so it is refused.

    Raises UserNotFound, InvalidInput."""
    user = db.session.get(User, user_id)
    if user is None or not user.is_active:
        raise UserNotFound()
    clean_name = _clean(name, MAX_NAME, "name", gettext("A name"))
    if clean_name is None:
        raise InvalidInput(gettext("Enter your name."), field="name")
    changed = ["name"] if clean_name != user.name else []
    user.name = clean_name
    user.updated_by_id = user_id
    if user.role is Role.PATIENT:
        if date_of_birth is not None and not (
            date(OLDEST_BIRTH_YEAR, 1, 1) <= date_of_birth <= now.date()
        ):
            raise InvalidInput(gettext("Enter your real date of birth."), field="date_of_birth")
        insurer = _clean(insurer, MAX_INSURER, "insurer", gettext("The insurer"))
        member_number = _clean(
            member_number, MAX_MEMBER_NUMBER, "member_number", gettext("The member number")
        )
        if member_number and not insurer:
            raise InvalidInput(gettext("Name the insurer of this member number."), field="insurer")
        profile = user.patient_profile
        if profile is None:
            profile = PatientProfile(user=user, created_by_id=user_id)
            db.session.add(profile)
        values = {
            "date_of_birth": date_of_birth,
            "insurer": insurer,
            "insurance_member_number": member_number,
        }
        for key, value in values.items():
            if getattr(profile, key) != value:
                changed.append(key)
                setattr(profile, key, value)
        profile.updated_by_id = user_id
    # The trail says what changed, not the values (they are personal data).
    audit.record(
        "account.profile_updated",
        actor_id=user_id,
        target_type="user",
        target_id=user_id,
        data={"changed": changed},
    )
    return user


@use_case
def set_locale(user_id: int, locale: str | None) -> User:
    """The language of the account's pages, mail and texts ('en', 'es'; None: follow the
    browser). Raises UserNotFound, InvalidInput."""
    user = db.session.get(User, user_id)
    if user is None or not user.is_active:
        raise UserNotFound()
    if locale is not None and locale not in LANGUAGES:
        raise InvalidInput(_("Choose one of the languages offered."), field="locale")
    if user.locale != locale:
        user.locale = locale
        user.updated_by_id = user_id
        audit.record(
            "account.locale_changed",
            actor_id=user_id,
            target_type="user",
            target_id=user_id,
            data={"locale": locale},
        )
    return user


@use_case
def remember_browser_locale(user_id: int, locale: str | None) -> None:
    """What the browser asked for at sign-in: mail and texts use it while the account has no
    language of its own. Written only when it changed."""
    user = db.session.get(User, user_id)
    if user is not None and locale and user.browser_locale != locale:
        user.browser_locale = locale
