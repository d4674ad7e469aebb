"""Search finds the same doctors on PostgreSQL (free days from doctor_free_days, names
through the trigram index) as on SQLite (probes and a table read), in the same order."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from app.models import AppointmentStatus, SlotStatus
from app.services.scheduling.search import DoctorSearch, search_doctors
from tests.factories import make_appointment, make_clinic, make_doctor, make_slot

S = AppointmentStatus
NOW = datetime(2031, 3, 3, 17, 0, tzinfo=UTC)  # noon in New York, 02:00 next day in Tokyo
NY, TOKYO = ZoneInfo("America/New_York"), ZoneInfo("Asia/Tokyo")


def local(day_offset: int, hour: int, tz=NY, minute: int = 0) -> datetime:
    day = NOW.astimezone(tz).date() + timedelta(days=day_offset)
    return datetime.combine(day, time(hour, minute), tzinfo=tz).astimezone(UTC)


def names(**criteria) -> list[str]:
    page = search_doctors(DoctorSearch(per_page=50, **criteria), now=NOW)
    assert page.total == len(page.items)
    return [result.doctor.name for result in page.items]


def test_available_on_is_the_same_on_both_databases(any_db):
    ny, tokyo = make_clinic(timezone="America/New_York"), make_clinic(timezone="Asia/Tokyo")

    def doctor(name, clinic=ny):
        return make_doctor(clinic=clinic, name=name)

    make_slot(doctor("Dr. A free"), start=local(2, 9))
    make_appointment(make_slot(doctor("Dr. B booked"), start=local(2, 9)))
    make_appointment(
        make_slot(doctor("Dr. C held"), start=local(2, 9)),
        status=S.PENDING_PAYMENT,
        hold_expires_at=NOW + timedelta(minutes=3),
    )
    make_appointment(
        make_slot(doctor("Dr. D lapsed hold"), start=local(2, 9)),
        status=S.PENDING_PAYMENT,
        hold_expires_at=NOW - timedelta(minutes=1),
    )
    make_slot(doctor("Dr. E blocked"), start=local(2, 9), status=SlotStatus.BLOCKED)
    # 23:30 on day 2 in New York is day 3 in Tokyo: a Tokyo doctor's slot then is on day 3.
    make_slot(doctor("Dr. F Tokyo", tokyo), start=local(2, 23, minute=30))
    # Today (New York): one slot already past, one still ahead; in Tokyo today is tomorrow.
    make_slot(doctor("Dr. G earlier today"), start=local(0, 9))
    make_slot(doctor("Dr. H later today"), start=local(0, 15))
    make_slot(doctor("Dr. I Tokyo today", tokyo), start=local(0, 10, TOKYO))

    day = NOW.astimezone(NY).date()
    assert names(available_on=day + timedelta(days=2)) == ["Dr. A free", "Dr. D lapsed hold"]
    assert names(available_on=day + timedelta(days=3)) == ["Dr. F Tokyo"]
    assert names(available_on=day) == ["Dr. H later today"]
    assert names(available_on=day + timedelta(days=1)) == ["Dr. I Tokyo today"]
    assert names(available_on=day - timedelta(days=1)) == []
    earliest = names(available_on=day + timedelta(days=2), sort="earliest")
    assert sorted(earliest) == ["Dr. A free", "Dr. D lapsed hold"]


DOCTORS = [
    "Dr. Anna García",
    "Dr. Bruno GARCIA",
    "Dr. Cléo Élodie Ďurová",
    "Dr. Dana İnce",
    "Dr. Eli ΣΑΣ Papas",
    "Dr. Fay 100%_Real",
    "Dr. Gus Back\\slash",
]


def test_name_search_is_the_same_on_both_databases(any_db):
    for name in DOCTORS:
        make_doctor(name=name)
    assert names(q="garcia") == ["Dr. Bruno GARCIA"]
    assert names(q="GARCÍA") == ["Dr. Anna García"]
    assert names(q="élodie ďur") == ["Dr. Cléo Élodie Ďurová"]
    assert names(q="ÉLODIE") == ["Dr. Cléo Élodie Ďurová"]
    assert names(q="İnce") == names(q="ince") == ["Dr. Dana İnce"]
    assert names(q="σας") == []
    assert names(q="σασ") == names(q="ΣΑΣ") == ["Dr. Eli ΣΑΣ Papas"]
    assert names(q="100%_") == ["Dr. Fay 100%_Real"]
    assert names(q="%") == ["Dr. Fay 100%_Real"]
    assert names(q="_") == ["Dr. Fay 100%_Real"]
    assert names(q="k\\s") == ["Dr. Gus Back\\slash"]
    assert names(q="dr") == DOCTORS
    assert names(q="  an  ") == ["Dr. Anna García", "Dr. Dana İnce"]
    assert names(q="ar") == ["Dr. Anna García", "Dr. Bruno GARCIA"]
    assert names(q="real") == ["Dr. Fay 100%_Real"]
