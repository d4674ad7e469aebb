"""What a doctor tells patients about themself on their public page: the languages they
speak (their photo: services/photos.py). The doctor edits it, and so does doctors.manage."""

from __future__ import annotations

from collections.abc import Iterable

from app.models import Doctor, DoctorLanguage
from app.services import audit
from app.services.access import managed_doctor
from app.services.languages import check_languages
from app.services.transaction import use_case


@use_case
def set_doctor_languages(
    doctor_id: int, codes: Iterable[str], *, actor_id: int, ip: str | None = None
) -> Doctor:
    """Replace the languages the doctor speaks (ISO 639-1 codes from services/languages.py).
    Raises DoctorNotFound, Forbidden, InvalidInput (an unknown code, too many)."""
    doctor = managed_doctor(actor_id, doctor_id)
    wanted = check_languages(codes)
    before = doctor.language_codes
    if wanted == before:
        return doctor
    kept = [row for row in doctor.spoken_languages if row.code in wanted]
    added = [DoctorLanguage(code=code) for code in wanted if code not in before]
    doctor.spoken_languages = kept + added
    doctor.updated_by_id = actor_id
    audit.record(
        "doctor.languages_set",
        actor_id=actor_id,
        target_type="doctor",
        target_id=doctor.id,
        data={"languages": wanted},
        ip=ip,
    )
    return doctor
