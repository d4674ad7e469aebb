"""Role-aware navigation: each role's links, shown when their endpoint exists."""

from __future__ import annotations

from flask import current_app
from flask_login import current_user

from app.models import Role
from app.services.access import has_permission

# Areas added by later work append their (label, endpoint) here.
NAV_LINKS: dict[Role, list[tuple[str, str]]] = {
    Role.PATIENT: [
        ("Find a doctor", "patient.search"),
        ("My appointments", "patient.appointments"),
    ],
    Role.DOCTOR: [
        ("Appointments", "doctor.dashboard"),
        ("Availability", "doctor.slots"),
        ("Earnings", "doctor.earnings"),
        ("Reports", "doctor.reports"),
        ("Reviews", "doctor.reviews_page"),
        ("Profile", "doctor.profile"),
    ],
    Role.HELPER: [("Find a doctor", "patient.search")],
    Role.ADMIN: [("Find a doctor", "patient.search"), ("Admin", "admin.index")],
}

# Links for helpers holding any of the permissions: (label, endpoint, permissions).
HELPER_LINKS: list[tuple[str, str, tuple[str, ...]]] = [
    (
        "Admin",
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
    ("Payments", "admin.payments", ("payments.view",)),
    ("Reports", "admin.reports", ("reports.view",)),
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
    links.append(("Account", "auth.account"))
    return [
        (label, endpoint) for label, endpoint in links if endpoint in current_app.view_functions
    ]
