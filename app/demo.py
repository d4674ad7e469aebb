"""Demo data for `make run`: clinics in three time zones, doctors, slots and bookings.

Safe to run again: every record is looked up by its natural key before it is created.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, insert, select

from app.extensions import db
from app.models import (
    Appointment,
    AppointmentStatus,
    Clinic,
    ContentPage,
    Doctor,
    DoctorLanguage,
    PaymentMethod,
    Review,
    Role,
    Slot,
    SlotMode,
    Specialty,
    User,
)
from app.services import content
from app.services.accounts import accounts
from app.services.reviews import reviews

DEMO_PASSWORD = "carebook-demo"
DEMO_LOGINS = {
    "admin": "admin@example.com",
    "doctor": "doctor@example.com",
    "patient": "patient@example.com",
}
SLOT_DAYS = 28
SLOT_MINUTES = 30
# Clinic-local working hours: mornings and afternoons around a lunch break.
WORKING_BLOCKS = ((time(9), time(12)), (time(13), time(17)))

CLINICS = [
    dict(
        name="Harbor Health Clinic",
        address="120 Water Street",
        city="New York",
        latitude=40.7074,
        longitude=-74.0113,
        phone="+12125550100",
        email="front-desk@harbor.example.com",
        website="https://harbor.example.com",
        timezone="America/New_York",
        currency="USD",
        cancellation_window_hours=24,
    ),
    dict(
        name="Thames Medical Centre",
        address="5 Riverside Walk",
        city="London",
        latitude=51.5072,
        longitude=-0.1276,
        phone="+442079460000",
        email="reception@thames.example.com",
        website="https://thames.example.com",
        timezone="Europe/London",
        currency="GBP",
        cancellation_window_hours=12,
    ),
    dict(
        name="Harbourside Medical Sydney",
        address="1 Circular Quay",
        city="Sydney",
        latitude=-33.8615,
        longitude=151.2108,
        phone="+61291234567",
        email="hello@harbourside.example.com",
        website="https://harbourside.example.com",
        timezone="Australia/Sydney",
        currency="AUD",
        cancellation_window_hours=24,
    ),
]
SPECIALTIES = [
    ("General Practice", "general-practice"),
    ("Cardiology", "cardiology"),
    ("Dermatology", "dermatology"),
    ("Pediatrics", "pediatrics"),
    ("Orthopedics", "orthopedics"),
    ("Psychiatry", "psychiatry"),
]
# (email, name, clinic index, specialty slugs, fee in minor units, requires approval)
DOCTORS = [
    ("doctor@example.com", "Dr. Maya Chen", 0, ["general-practice"], 9000, False),
    ("dr.okafor@example.com", "Dr. Daniel Okafor", 0, ["cardiology"], 18000, True),
    ("dr.rivera@example.com", "Dr. Sofia Rivera", 0, ["pediatrics"], 11000, False),
    ("dr.goldberg@example.com", "Dr. Aaron Goldberg", 0, ["psychiatry"], 20000, False),
    ("dr.patel@example.com", "Dr. Priya Patel", 1, ["general-practice", "pediatrics"], 6500, False),
    ("dr.hughes@example.com", "Dr. Oliver Hughes", 1, ["orthopedics"], 15000, False),
    ("dr.adeyemi@example.com", "Dr. Funmi Adeyemi", 1, ["dermatology"], 12000, False),
    ("dr.walsh@example.com", "Dr. Niamh Walsh", 1, ["cardiology"], 17000, True),
    ("dr.nguyen@example.com", "Dr. Linh Nguyen", 2, ["general-practice"], 8500, False),
    ("dr.kowalski@example.com", "Dr. Tomasz Kowalski", 2, ["orthopedics"], 16000, False),
    ("dr.silva@example.com", "Dr. Ana Silva", 2, ["dermatology", "general-practice"], 13000, False),
    ("dr.brown@example.com", "Dr. Jack Brown", 2, ["psychiatry"], 19000, False),
]
# Languages each demo doctor speaks (ISO 639-1), given when they have none yet.
LANGUAGES = {
    "doctor@example.com": ["en", "zh"],
    "dr.okafor@example.com": ["en", "yo"],
    "dr.rivera@example.com": ["en", "es"],
    "dr.goldberg@example.com": ["en", "he"],
    "dr.patel@example.com": ["en", "hi", "gu"],
    "dr.hughes@example.com": ["en"],
    "dr.adeyemi@example.com": ["en", "yo", "fr"],
    "dr.walsh@example.com": ["en", "ga"],
    "dr.nguyen@example.com": ["en", "vi"],
    "dr.kowalski@example.com": ["en", "pl"],
    "dr.silva@example.com": ["en", "pt", "es"],
    "dr.brown@example.com": ["en"],
}
PATIENTS = [
    ("patient@example.com", "Pat Demo", "+14155550123"),
    ("alex.morgan@example.com", "Alex Morgan", None),
    ("sam.taylor@example.com", "Sam Taylor", None),
    ("jordan.lee@example.com", "Jordan Lee", None),
]


def _user(email: str, role: Role, name: str, phone: str | None = None) -> User:
    user = db.session.scalar(select(User).where(User.email == email))
    if user is None:
        user = accounts.create_user(
            email=email, role=role, password=DEMO_PASSWORD, name=name, phone=phone
        )
    return user


def _slot_starts(clinic: Clinic, today_local, days: int) -> list[tuple[datetime, datetime]]:
    """Weekday working-hour slots in the clinic's zone, as UTC (start, end) pairs."""
    zone = ZoneInfo(clinic.timezone)
    step = timedelta(minutes=SLOT_MINUTES)
    pairs = []
    for offset in range(1, days + 1):
        day = today_local + timedelta(days=offset)
        if day.weekday() >= 5:
            continue
        for block_start, block_end in WORKING_BLOCKS:
            start = datetime.combine(day, block_start, tzinfo=zone)
            end_of_block = datetime.combine(day, block_end, tzinfo=zone)
            while start + step <= end_of_block:
                pairs.append((start.astimezone(UTC), (start + step).astimezone(UTC)))
                start += step
    return pairs


def seed_demo(*, now: datetime, only_if_empty: bool = False) -> dict | None:
    """Create the demo data set; returns counts, or None when skipped (only_if_empty)."""
    if only_if_empty and db.session.scalar(select(func.count(User.id))):
        return None

    _user(DEMO_LOGINS["admin"], Role.ADMIN, "Avery Admin")

    specialties = {}
    for name, slug in SPECIALTIES:
        specialty = db.session.scalar(select(Specialty).where(Specialty.slug == slug))
        if specialty is None:
            specialty = Specialty(name=name, slug=slug)
            db.session.add(specialty)
        specialties[slug] = specialty

    clinics = []
    for data in CLINICS:
        clinic = db.session.scalar(select(Clinic).where(Clinic.name == data["name"]))
        if clinic is None:
            clinic = Clinic(**data)
            db.session.add(clinic)
        clinics.append(clinic)
    db.session.commit()

    doctors = []
    for email, name, clinic_index, slugs, fee, approval in DOCTORS:
        user = _user(email, Role.DOCTOR, name)
        doctor = db.session.scalar(select(Doctor).where(Doctor.user_id == user.id))
        if doctor.clinic_id is None:
            clinic = clinics[clinic_index]
            doctor.clinic_id = clinic.id
            doctor.fee_amount = fee
            doctor.fee_currency = clinic.currency
            doctor.requires_approval = approval
            doctor.licence_number = f"LIC-{user.id:05d}"
            doctor.bio = f"{name} sees patients at {clinic.name}."
            doctor.specialties = [specialties[s] for s in slugs]
        if doctor.verified_at is None:
            doctor.verified_at = now  # demo doctors are listed (access.is_listed)
        if not doctor.spoken_languages:
            doctor.spoken_languages = [DoctorLanguage(code=c) for c in LANGUAGES.get(email, [])]
        doctors.append(doctor)
    db.session.commit()

    for doctor in doctors:
        clinic = doctor.clinic
        today_local = now.astimezone(ZoneInfo(clinic.timezone)).date()
        existing = set(db.session.scalars(select(Slot.start_at).where(Slot.doctor_id == doctor.id)))
        rows = [
            dict(
                doctor_id=doctor.id,
                start_at=start,
                end_at=end,
                mode=SlotMode.VIDEO if index % 4 == 3 else SlotMode.IN_PERSON,
                created_at=now,
                updated_at=now,
            )
            for index, (start, end) in enumerate(_slot_starts(clinic, today_local, SLOT_DAYS))
            if start not in existing
        ]
        if rows:
            db.session.execute(insert(Slot), rows)
    db.session.commit()

    patients = [_user(email, Role.PATIENT, name, phone) for email, name, phone in PATIENTS]
    for index, patient in enumerate(patients):
        has_any = db.session.scalar(
            select(func.count(Appointment.id)).where(Appointment.patient_id == patient.id)
        )
        if has_any:
            continue
        # Two confirmed visits each, with different doctors, a few days apart.
        for visit in range(2):
            doctor = doctors[(index * 3 + visit * 5) % len(doctors)]
            slot = db.session.scalars(
                select(Slot)
                .where(
                    Slot.doctor_id == doctor.id, Slot.start_at > now + timedelta(days=2 + visit * 4)
                )
                .where(~Slot.id.in_(select(Appointment.slot_id)))
                .order_by(Slot.start_at)
                .offset(index)
                .limit(1)
            ).first()
            if slot is None:
                continue
            db.session.add(
                Appointment(
                    patient_id=patient.id,
                    doctor_id=doctor.id,
                    slot_id=slot.id,
                    starts_at=slot.start_at,
                    ends_at=slot.end_at,
                    status=AppointmentStatus.CONFIRMED,
                    payment_method=PaymentMethod.CASH,
                    fee_amount=doctor.fee_amount,
                    fee_currency=doctor.fee_currency,
                    created_by_id=patient.id,
                )
            )
        db.session.commit()

    _past_visits_with_reviews(doctors, patients, now)
    content.ensure_default_pages(now=now)  # the help and policy pages, if missing
    db.session.commit()

    return {
        "clinics": db.session.scalar(select(func.count(Clinic.id))),
        "doctors": db.session.scalar(select(func.count(Doctor.id))),
        "slots": db.session.scalar(select(func.count(Slot.id))),
        "appointments": db.session.scalar(select(func.count(Appointment.id))),
        "reviews": db.session.scalar(select(func.count(Review.id))),
        "pages": db.session.scalar(select(func.count(ContentPage.id))),
    }


# What the demo patients said about past visits: (rating, comment), used in turn.
REVIEWS = [
    (5, "Listened carefully and explained everything in plain words."),
    (4, "Good visit; the wait was a little long."),
    (5, None),
    (3, "Fine, but it felt rushed."),
    (5, "Very kind with my daughter. We will come back."),
    (4, "Clear advice and a quick follow-up by email."),
]
REPLIES = {0: "Thank you! It was good to see you.", 3: "Thank you, I will keep more time."}


def _past_visits_with_reviews(doctors: list[Doctor], patients: list[User], now: datetime):
    """Completed visits in the past weeks, most of them reviewed (a few replied to), so the
    demo doctors show ratings. Each (doctor, patient) pair has its own day: no patient is in
    two places at once, and a second run finds every slot and review in place."""
    turn = 0
    for d_index, doctor in enumerate(doctors):
        zone = ZoneInfo(doctor.clinic.timezone)
        for p_index, patient in enumerate(patients[: d_index % len(patients) + 1]):
            day = now.astimezone(zone).date() - timedelta(days=10 + 3 * d_index + p_index)
            start = datetime.combine(day, time(10), tzinfo=zone).astimezone(UTC)
            slot = db.session.scalar(
                select(Slot).where(Slot.doctor_id == doctor.id, Slot.start_at == start)
            )
            if slot is None:
                slot = Slot(
                    doctor_id=doctor.id,
                    start_at=start,
                    end_at=start + timedelta(minutes=SLOT_MINUTES),
                    mode=SlotMode.IN_PERSON,
                )
                db.session.add(slot)
                db.session.flush()
            visit = db.session.scalar(select(Appointment).where(Appointment.slot_id == slot.id))
            if visit is None:
                visit = Appointment(
                    patient_id=patient.id,
                    doctor_id=doctor.id,
                    slot_id=slot.id,
                    starts_at=slot.start_at,
                    ends_at=slot.end_at,
                    status=AppointmentStatus.COMPLETED,
                    payment_method=PaymentMethod.CASH,
                    fee_amount=doctor.fee_amount,
                    fee_currency=doctor.fee_currency,
                    created_by_id=patient.id,
                )
                db.session.add(visit)
            db.session.commit()
            turn += 1
            if turn % 5 == 0 or visit.status is not AppointmentStatus.COMPLETED:
                continue  # one visit in five is left to review (the page offers the form)
            if db.session.scalar(select(Review.id).where(Review.appointment_id == visit.id)):
                continue
            rating, comment = REVIEWS[turn % len(REVIEWS)]
            review = reviews.write_review(
                appointment_id=visit.id,
                patient_id=patient.id,
                rating=rating,
                comment=comment,
                now=slot.end_at + timedelta(hours=5),
            )
            if turn % len(REVIEWS) in REPLIES:
                reviews.reply_to_review(
                    review_id=review.id,
                    doctor_user_id=doctor.user_id,
                    body=REPLIES[turn % len(REVIEWS)],
                    now=slot.end_at + timedelta(days=1),
                )
