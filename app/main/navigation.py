"""Role-aware navigation: each role's links, shown when their endpoint exists."""

from __future__ import annotations

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app.models import Role
from app.services.access import has_permission

# Areas added by later work append their (label, endpoint) here.
NAV_LINKS: dict[Role, list[tuple[str, str]]] = {
    Role.PATIENT: [
        (_l("Find a doctor"), "patient.search"),
        (_l("My appointments"), "patient.appointments"),
    ],
    Role.DOCTOR: [
        (_l("Appointments"), "doctor.dashboard"),
        (_l("Availability"), "doctor.slots"),
        (_l("Earnings"), "doctor.earnings"),
        (_l("Reports"), "doctor.reports"),
        (_l("Reviews"), "doctor.reviews_page"),
        (_l("Profile"), "doctor.profile"),
    ],
    Role.HELPER: [(_l("Find a doctor"), "patient.search")],
    Role.ADMIN: [(_l("Find a doctor"), "patient.search"), (_l("Admin"), "admin.index")],
}

# Links for helpers holding any of the permissions: (label, endpoint, permissions).
HELPER_LINKS: list[tuple[str, str, tuple[str, ...]]] = [
    (
        _l("Admin"),
        "admin.index",
        (
            "users.manage",
            "doctors.manage",
            "content.manage",
            "reviews.moderate",
            "bookings.view",
            "bookings.manage",
        ),
    ),
    (_l("Payments"), "admin.payments", ("payments.view",)),
    (_l("Reports"), "admin.reports", ("reports.view",)),
]


def nav_links() -> list[tuple[str, str]]:
    if not current_user.is_authenticated:
        return []
    links = list(NAV_LINKS.get(current_user.role, []))
    if current_user.role is Role.HELPER:
        links += [
            (label, endpoint)
            for label, endpoint, permissions in HELPER_LINKS
            if any(has_permission(current_user, p) for p in permissions)
        ]
    links.append((_l("Account"), "auth.account"))
    return [
        (label, endpoint) for label, endpoint in links if endpoint in current_app.view_functions
    ]
