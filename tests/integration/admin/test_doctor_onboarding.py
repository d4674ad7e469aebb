"""Creating a doctor in the admin is one flow, and the new doctor stays unlisted until their
profile is complete and verified (issue 17 items 7 and 15)."""

from datetime import UTC, datetime

from app.extensions import db
from app.models import Doctor, User
from app.services.scheduling import search


def _search_ids() -> list[int]:
    page = search.search_doctors(search.DoctorSearch(), now=datetime.now(UTC))
    return [r.doctor.id for r in page.items]


def test_a_doctor_created_in_the_admin_is_unlisted_until_completed_and_verified(web, admin):
    response = web.post(
        "/admin/users/new",
        data={"email": "new.doc@example.com", "name": "Dr. New", "role": "doctor"},
    )
    # One flow: creating a doctor continues straight to their profile.
    assert response.status_code == 302
    doctor = db.session.scalar(db.select(Doctor).join(Doctor.user).where(User.name == "Dr. New"))
    assert response.headers["Location"].endswith(f"/admin/doctors/{doctor.id}/edit")
    assert _search_ids() == []
    page = web.get("/admin/doctors").get_data(as_text=True)
    assert "Not listed: not verified, no clinic, no specialty, no fee" in page
