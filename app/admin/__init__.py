"""Running the platform: users, clinics, specialties, doctors and the audit trail."""

from datetime import UTC, datetime

from flask import Blueprint, request
from flask_login import current_user

from app.models import Role
from app.services.access import has_permission

bp = Blueprint("admin", __name__, url_prefix="/admin")

# Admin sections: (label, endpoint, permission or any of several); None means admins only.
SECTIONS = [
    ("Appointments", "admin.appointments", ("bookings.view", "bookings.manage")),
    ("Users", "admin.users", "users.manage"),
    ("Doctors", "admin.doctors", "doctors.manage"),
    ("Applications", "admin.applications", "doctors.manage"),
    ("Clinics", "admin.clinics", "content.manage"),
    ("Specialties", "admin.specialties", "content.manage"),
    ("Pages", "admin.content_pages", "content.manage"),
    ("Payments", "admin.payments", "payments.view"),
    ("Reviews", "admin.reviews_list", "reviews.moderate"),
    ("Reports", "admin.reports", "reports.view"),
    ("Notifications", "admin.notifications", "notifications.view"),
    ("Queues", "admin.queues", "notifications.view"),
    ("Webhooks", "admin.webhooks", "integrations.manage"),
    ("Audit trail", "admin.audit", None),
]


def actor_and_ip() -> dict:
    """Who acts and from where: the keyword arguments of admin services that need no clock."""
    return {"actor_id": current_user.id, "ip": request.remote_addr}


def acting() -> dict:
    """Who acts, when and from where: the keyword arguments of admin services with a clock."""
    return {**actor_and_ip(), "now": datetime.now(UTC)}


def form_error(form, exc) -> None:
    """Show a domain error on the field it names, else above the form."""
    field = getattr(form, (exc.details or {}).get("field") or "", None)
    if field is not None and hasattr(field, "errors") and isinstance(field.errors, list):
        field.errors.append(exc.message)
    else:
        form.form_errors.append(exc.message)


@bp.app_template_global()
def admin_sections() -> list[tuple[str, str]]:
    if not current_user.is_authenticated:
        return []

    def opens(permission) -> bool:
        if permission is None:
            return current_user.role is Role.ADMIN
        wanted = (permission,) if isinstance(permission, str) else permission
        return any(has_permission(current_user, p) for p in wanted)

    return [(label, endpoint) for label, endpoint, permission in SECTIONS if opens(permission)]


from app.admin import (  # noqa: E402,F401
    applications,
    appointments,
    audit,
    content,
    directory,
    notifications,
    payments,
    queues,
    reports,
    reviews,
    routes,
    users,
    webhooks,
)
