"""Running the people side of the platform: finding users, staff accounts, roles, permissions,
deactivation. Every change is audited with the acting user and their address.

Who may do what: admins anything but change their own role or deactivate themselves; helpers
with users.manage the same, except that they cannot touch admin accounts, make anyone an admin,
or grant permissions they do not hold themselves.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext, lazy_gettext
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import or_, select

from app.extensions import db
from app.models import Doctor, PatientProfile, Role, User, UserPermission
from app.services import audit, like
from app.services.access import PERMISSIONS, has_permission, load_actor
from app.services.accounts import accounts, closure, passwords, sessions
from app.services.errors import Conflict, Forbidden, InvalidInput, UserNotFound, parse_choice
from app.services.transaction import use_case

# Roles an admin page creates accounts for: patients sign up themselves, admins come from the CLI.
STAFF_ROLES = (Role.DOCTOR, Role.HELPER)
USERS_PER_PAGE = 25


class NotOnYourself(Forbidden):
    code = "not_on_yourself"
    default_message = lazy_gettext("You cannot do that to your own account.")


class AccountDeleted(Conflict):
    code = "account_deleted"
    default_message = (
        "This account was deleted by its owner and its personal data erased: it cannot be "
        "reactivated. The person can register again."
    )


@dataclass(frozen=True)
class NewStaffAccount:
    email: str
    name: str
    role: Role | str
    phone: str | None = None
    clinic_id: int | None = None


def search_users(
    query: str | None = None,
    role: Role | str | None = None,
    *,
    page: int = 1,
    per_page: int = USERS_PER_PAGE,
) -> Pagination:
    """Users whose name or email contains `query`, optionally of one role; newest first."""
    statement = select(User).order_by(User.created_at.desc(), User.id.desc())
    if query and query.strip():
        statement = statement.where(
            or_(
                like.contains(User.email, query, ignore_case=False),
                like.contains(User.name, query),
            )
        )
    if role:
        statement = statement.where(User.role == _role(role))
    return db.paginate(statement, page=max(page, 1), per_page=per_page, error_out=False)


def get_user(user_id: int) -> User:
    """Raises NotFound."""
    user = db.session.get(User, user_id)
    if user is None:
        raise UserNotFound()
    return user


@use_case
def create_staff_account(
    account: NewStaffAccount, *, actor_id: int, now: datetime, ip: str | None
) -> User:
    """Create a doctor or helper account without a password (must_change_password): its owner
    sets one from an emailed link. A doctor gets a doctor profile, at `clinic_id` if given.

    Raises Forbidden, InvalidInput (email, phone, role, clinic) and AccountExists.
    """
    actor = load_actor(actor_id)
    _require(actor, "users.manage")
    return open_staff_account(account, actor=actor, now=now, ip=ip)


def open_staff_account(
    account: NewStaffAccount, *, actor: User, now: datetime, ip: str | None
) -> User:
    """The account-opening step of create_staff_account, for callers that checked who may
    open it themselves (verifying a doctor's application needs doctors.manage). In the
    caller's transaction. Raises InvalidInput, AccountExists."""
    role = _role(account.role)
    if role not in STAFF_ROLES:
        raise InvalidInput(gettext("Staff accounts are doctors or helpers."), field="role")
    if not (account.name or "").strip():
        raise InvalidInput(gettext("A name is required."), field="name")
    user = accounts.build_account(
        email=account.email,
        role=role,
        name=account.name,
        phone=account.phone,
        email_verified_at=now,  # an address typed in by an admin is taken as verified
        clinic_id=account.clinic_id,
        actor_id=actor.id,
        must_change_password=True,
    )
    user.updated_by_id = actor.id
    audit.record(
        "admin.user_created",
        actor_id=actor.id,
        target_type="user",
        target_id=user.id,
        data={"role": role.value, "email": user.email, "clinic_id": account.clinic_id},
        ip=ip,
    )
    return user


@use_case
def set_active(user_id: int, active: bool, *, actor_id: int, now: datetime, ip: str | None) -> User:
    """Deactivate (every session and API token stops working at once) or reactivate; the one
    place an account is switched on or off. Either way every earlier sign-in stays ended:
    reactivation brings no old session or token back.

    Raises Forbidden, NotOnYourself, NotFound, AccountDeleted (reactivating an account its
    owner deleted).
    """
    actor, user = _actor_and_target(actor_id, user_id)
    if user.is_active == active:
        return user
    if active and closure.is_deleted(user):
        raise AccountDeleted()
    user.is_active = active
    user.updated_by_id = actor.id
    sessions.revoke_user_sessions(user.id, now=now)
    audit.record(
        "account.activated" if active else "account.deactivated",
        actor_id=actor.id,
        target_type="user",
        target_id=user.id,
        ip=ip,
    )
    return user


def resend_set_password_link(user_id: int, *, actor_id: int, now: datetime, ip: str | None) -> User:
    """Email the set-password link again. Raises Forbidden, NotOnYourself, NotFound,
    InvalidInput (the account has a password already), messaging.DeliveryFailed."""
    actor, user = _actor_and_target(actor_id, user_id)
    if not user.must_change_password:
        raise InvalidInput(gettext("This account has set its password already."))
    passwords.send_set_password_link(user.id, now=now, actor_id=actor.id, ip=ip)
    return user


@use_case
def change_role(
    user_id: int, role: Role | str, *, actor_id: int, now: datetime, ip: str | None
) -> User:
    """Give a user another role; the profile that role needs is created, and permissions are
    dropped when they stop being a helper. Raises Forbidden (also for a helper dropping
    permissions they do not hold), NotOnYourself, NotFound, InvalidInput."""
    actor, user = _actor_and_target(actor_id, user_id)
    new_role = _role(role)
    if new_role is Role.ADMIN and actor.role is not Role.ADMIN:
        raise Forbidden(gettext("Only an admin can make someone an admin."))
    old_role = user.role
    if new_role is old_role:
        return user
    if new_role is not Role.HELPER:
        # Leaving the helper role drops every permission: the actor must hold each of them.
        _require_held(actor, user.permission_names)
    user.role = new_role
    user.updated_by_id = actor.id
    # What the old role could open must not stay open in a browser or behind a token.
    sessions.revoke_user_sessions(user.id, now=now)
    if new_role is not Role.HELPER:
        user.permissions.clear()
    if (
        new_role is Role.DOCTOR
        and db.session.scalar(select(Doctor.id).where(Doctor.user_id == user.id)) is None
    ):
        db.session.add(Doctor(user_id=user.id, created_by_id=actor.id))
    if new_role is Role.PATIENT and user.patient_profile is None:
        db.session.add(PatientProfile(user_id=user.id, created_by_id=actor.id))
    audit.record(
        "admin.user_role_changed",
        actor_id=actor.id,
        target_type="user",
        target_id=user.id,
        data={"from": old_role.value, "to": new_role.value},
        ip=ip,
    )
    return user


@use_case
def set_permissions(
    user_id: int,
    permissions: Iterable[str],
    *,
    actor_id: int,
    now: datetime,
    ip: str | None,
) -> User:
    """Replace a helper's permissions. Raises Forbidden (also for a helper granting what they
    do not hold), NotOnYourself, NotFound, InvalidInput (not a helper, unknown permission)."""
    actor, user = _actor_and_target(actor_id, user_id)
    if user.role is not Role.HELPER:
        raise InvalidInput(gettext("Only helpers carry permissions."), field="permissions")
    wanted = set(permissions)
    unknown = wanted - set(PERMISSIONS)
    if unknown:
        raise InvalidInput(f"Unknown permissions: {', '.join(sorted(unknown))}.")
    current = user.permission_names
    changed = wanted ^ current
    _require_held(actor, changed)
    if not changed:
        return user
    user.permissions[:] = [p for p in user.permissions if p.permission in wanted]
    user.permissions.extend(UserPermission(permission=p) for p in sorted(wanted - current))
    user.updated_by_id = actor.id
    user.updated_at = now
    audit.record(
        "admin.user_permissions_changed",
        actor_id=actor.id,
        target_type="user",
        target_id=user.id,
        data={"granted": sorted(wanted - current), "revoked": sorted(current - wanted)},
        ip=ip,
    )
    return user


def _actor_and_target(actor_id: int, user_id: int) -> tuple[User, User]:
    actor = load_actor(actor_id)
    _require(actor, "users.manage")
    user = get_user(user_id)
    if user.id == actor.id:
        raise NotOnYourself()
    if user.role is Role.ADMIN and actor.role is not Role.ADMIN:
        raise Forbidden(gettext("Only an admin can change an admin account."))
    return actor, user


def _require(actor: User, permission: str) -> None:
    if not has_permission(actor, permission):
        raise Forbidden()


def _require_held(actor: User, permissions: Iterable[str]) -> None:
    """Helpers grant or remove only permissions they hold themselves (admins hold all)."""
    if any(not has_permission(actor, p) for p in permissions):
        raise Forbidden(gettext("You can only grant or remove permissions you hold yourself."))


def _role(value: Role | str) -> Role:
    return parse_choice(Role, value, f"Unknown role {value!r}.", field="role")
