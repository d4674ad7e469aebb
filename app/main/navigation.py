"""Role-aware navigation: each role's links, shown when their endpoint exists."""

from __future__ import annotations

from flask import current_app
from flask_login import current_user

from app.models import Role

# Areas added by later work append their (label, endpoint) here.
NAV_LINKS: dict[Role, list[tuple[str, str]]] = {
    Role.PATIENT: [
        ("Find a doctor", "patient.search"),
        ("My appointments", "patient.appointments"),
    ],
    Role.DOCTOR: [
        ("Appointments", "doctor.dashboard"),
        ("Availability", "doctor.slots"),
    ],
    Role.HELPER: [("Find a doctor", "patient.search")],
    Role.ADMIN: [("Find a doctor", "patient.search")],
}


def nav_links() -> list[tuple[str, str]]:
    if not current_user.is_authenticated:
        return []
    return [
        (label, endpoint)
        for label, endpoint in NAV_LINKS.get(current_user.role, [])
        if endpoint in current_app.view_functions
    ]
