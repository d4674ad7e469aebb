"""Search, slot listing and the booking checks are index-driven on PostgreSQL.

With rows shaped like production (100 doctors x 60 days x 10 slots, a month of completed
visits behind, ~14 % of the month ahead booked, two lapsed holds or cancellations a slot;
ANALYZEd), every statement these services emit is captured and EXPLAINed with its own
parameters: none may read slots or appointments by a Seq Scan or by scanning a whole index
(ARCHITECTURE.md, known pitfalls: a predicate that does not repeat the partial index's own
scanned the whole table). With fewer rows per doctor the planner rightly prefers hashing all
active appointments once; that is why the history is there.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import bindparam, event, text

from app.extensions import db
from app.models import Appointment, AppointmentStatus, Clinic, Doctor, Role, Slot
from app.services.reviews import listing
from app.services.scheduling import booking
from app.services.scheduling.search import DoctorSearch, search_doctors, slot_listing
from tests.factories import make_user

# Shaped like production: doctors publish weeks ahead and keep their past (completed visits
# stay "active" in the partial index's sense). 100 doctors x 60 days x 10 = 60,000 slots.
DOCTORS = 100
PAST_DAYS, FUTURE_DAYS = 30, 30
SLOTS_PER_DAY = 10
WATCHED = {"slots", "appointments", "reviews"}

# Clinics in three zones, two per city; specialties by slug; one patient per doctor books
# that doctor's taken slots (a doctor's slots never overlap, so neither do the patient's).
SEED_SQL = [
    """
    INSERT INTO specialties (name, slug)
    SELECT initcap(s), s FROM unnest(ARRAY['cardiology', 'dermatology', 'pediatrics',
        'neurology', 'psychiatry', 'orthopedics']) AS s
    """,
    """
    INSERT INTO clinics (name, city, latitude, longitude, timezone, currency,
                         cancellation_window_hours, accepts_cash, created_at, updated_at)
    SELECT 'Plan clinic ' || c, (ARRAY['New York', 'London', 'Sydney'])[c % 3 + 1],
           (ARRAY[40.71, 51.51, -33.87])[c % 3 + 1] + c * 0.01,
           (ARRAY[-74.0, -0.13, 151.21])[c % 3 + 1] + c * 0.01,
           (ARRAY['America/New_York', 'Europe/London', 'Australia/Sydney'])[c % 3 + 1],
           'USD', 24, true, now(), now()
    FROM generate_series(0, 5) AS c
    """,
    """
    INSERT INTO users (email, name, role, must_change_password, is_active, created_at,
                       updated_at)
    SELECT 'plan-doctor' || d || '@example.com', 'Dr. Plan ' || d, 'doctor', false, true,
           now(), now()
    FROM generate_series(1, :doctors) AS d
    """,
    """
    INSERT INTO users (email, name, role, must_change_password, is_active, created_at,
                       updated_at)
    SELECT 'plan-patient' || u.id || '@example.com', 'Plan Patient ' || u.id, 'patient', false,
           true, now(), now()
    FROM users AS u WHERE u.role = 'doctor'
    """,
    """
    INSERT INTO doctors (user_id, clinic_id, fee_amount, fee_currency, requires_approval,
                         verified_at, created_at, updated_at)
    SELECT u.id, (SELECT min(id) FROM clinics) + (u.id % 6), 10000, 'USD', false, now(), now(),
           now()
    FROM users AS u WHERE u.role = 'doctor' ORDER BY u.id
    """,
    """
    INSERT INTO doctor_specialties (doctor_id, specialty_id)
    SELECT d.id, (SELECT min(id) FROM specialties) + (d.id / 6) % 6 FROM doctors AS d
    """,
    """
    INSERT INTO doctor_languages (doctor_id, code)
    SELECT d.id, (ARRAY['en', 'es', 'fr'])[d.id % 3 + 1] FROM doctors AS d
    """,
    """
    INSERT INTO slots (doctor_id, start_at, end_at, mode, status, created_at, updated_at)
    SELECT d.id, t, t + interval '30 minutes',
           CASE WHEN i % 4 = 0 THEN 'video' ELSE 'in_person' END,
           CASE WHEN (d.id + day + i) % 23 = 0 THEN 'blocked' ELSE 'open' END, now(), now()
    FROM doctors AS d,
         generate_series(-:past_days, :future_days - 1) AS day,
         generate_series(0, :per_day - 1) AS i,
         LATERAL (SELECT date_trunc('day', now()) + make_interval(days => day, hours => 8)
                         + i * interval '30 minutes' AS t) AS at
    """,
    """
    INSERT INTO appointments (patient_id, doctor_id, slot_id, status, starts_at, ends_at,
                              hold_expires_at, payment_method, fee_amount, fee_currency,
                              created_at, updated_at)
    SELECT p.id, s.doctor_id, s.id,
           CASE WHEN s.start_at < now() THEN 'completed'
                WHEN s.id % 20 = 0 THEN 'pending_payment' ELSE 'confirmed' END,
           s.start_at, s.end_at,
           CASE WHEN s.start_at >= now() AND s.id % 20 = 0 THEN now() + interval '5 minutes' END,
           'cash', 10000, 'USD', now(), now()
    FROM slots AS s
    JOIN doctors AS d ON d.id = s.doctor_id
    JOIN users AS p ON p.email = 'plan-patient' || d.user_id || '@example.com'
    WHERE s.status = 'open' AND (s.id % 7 = 0 OR (s.start_at < now() AND s.id % 5 <> 0))
    """,
    # History that no longer holds its slot: abandoned card holds (expired) and cancellations,
    # about two per slot, as a live system piles them up. They make the appointments table
    # big enough that reading all of it is a visible mistake, as it is in production.
    """
    INSERT INTO appointments (patient_id, doctor_id, slot_id, status, starts_at, ends_at,
                              hold_expires_at, payment_method, fee_amount, fee_currency,
                              cancelled_at, created_at, updated_at)
    SELECT p.id, s.doctor_id, s.id, CASE WHEN k = 0 THEN 'cancelled' ELSE 'expired' END,
           s.start_at, s.end_at, now() - interval '1 day', 'card', 10000, 'USD',
           CASE WHEN k = 0 THEN now() END, now(), now()
    FROM slots AS s
    JOIN doctors AS d ON d.id = s.doctor_id
    JOIN users AS p ON p.email = 'plan-patient' || d.user_id || '@example.com'
    CROSS JOIN generate_series(0, 2) AS k
    WHERE (s.id + k) % 3 <> 0
    """,
    # Reviews of a third of the completed visits (one in 20 hidden), and the totals they make.
    """
    INSERT INTO reviews (appointment_id, patient_id, doctor_id, rating, comment, created_at,
                         hidden_at, hidden_reason)
    SELECT a.id, a.patient_id, a.doctor_id, 1 + a.id % 5, 'Plan review ' || a.id, a.ends_at,
           CASE WHEN a.id % 20 = 0 THEN now() END, CASE WHEN a.id % 20 = 0 THEN 'plan' END
    FROM appointments AS a WHERE a.status = 'completed' AND a.id % 3 = 0
    """,
    """
    UPDATE doctors SET rating_count = t.n, rating_sum = t.total
    FROM (SELECT doctor_id, count(*) AS n, sum(rating) AS total FROM reviews
          WHERE hidden_at IS NULL GROUP BY doctor_id) AS t
    WHERE t.doctor_id = doctors.id
    """,
]


@pytest.fixture(scope="module")
def catalogue(app):
    """The seeded rows, ANALYZEd, shared by this module (seeding takes seconds).

    Emptied afterwards, as the `ctx` fixture empties a test's rows.
    """
    params = {
        "doctors": DOCTORS,
        "past_days": PAST_DAYS,
        "future_days": FUTURE_DAYS,
        "per_day": SLOTS_PER_DAY,
    }
    with app.app_context():
        for statement in SEED_SQL:
            db.session.execute(text(statement), params)
        db.session.commit()
        db.session.execute(text("ANALYZE"))
        db.session.commit()
        assert db.session.query(Slot).count() == DOCTORS * (PAST_DAYS + FUTURE_DAYS) * SLOTS_PER_DAY
        watched_indexes = set(
            db.session.scalars(
                text("SELECT indexname FROM pg_indexes WHERE tablename IN :tables").bindparams(
                    bindparam("tables", expanding=True)
                ),
                {"tables": sorted(WATCHED)},
            )
        )
        db.session.remove()
    yield Catalogue(datetime.now(UTC), watched_indexes)
    with app.app_context():
        tables = ", ".join(t.name for t in db.metadata.sorted_tables)
        with db.engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@dataclass(frozen=True)
class Catalogue:
    now: datetime
    watched_indexes: set[str]  # every index of slots and appointments


@pytest.fixture
def seeded(app, catalogue):
    """An app context on the seeded rows (not emptied after each test)."""
    with app.app_context():
        yield catalogue
        db.session.remove()


@contextmanager
def captured_statements():
    """Every statement the block sends, with its driver-level parameters."""
    statements: list[tuple[str, object]] = []

    def record(_conn, _cursor, statement, parameters, _context, executemany):
        if not executemany:
            statements.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def plan_nodes(plan: dict):
    yield plan
    for child in plan.get("Plans", ()):
        yield from plan_nodes(child)


def unkeyed_reads(plan: dict, watched_indexes: set[str]) -> list[str]:
    """Reads of slots or appointments not driven by a key: a Seq Scan, or an index scanned
    whole (no Index Cond), which reads every active appointment just the same."""
    found = []
    for node in plan_nodes(plan):
        if node["Node Type"] == "Seq Scan" and node.get("Relation Name") in WATCHED:
            found.append(f"Seq Scan on {node['Relation Name']}")
        elif node.get("Index Name") in watched_indexes and "Index Cond" not in node:
            found.append(f"{node['Node Type']} on {node['Index Name']} without Index Cond")
    return found


def not_index_driven(statements, catalogue: Catalogue) -> list[str]:
    """EXPLAIN each SELECT/UPDATE/DELETE that reads slots or appointments; list offenders
    with their plans."""
    offenders = []
    explained = 0
    with db.engine.connect() as conn:
        for statement, parameters in statements:
            verb = statement.lstrip().split(None, 1)[0].upper()
            if verb not in {"SELECT", "UPDATE", "DELETE"}:
                continue
            if not any(table in statement for table in WATCHED):
                continue
            explained += 1
            explain = "EXPLAIN (FORMAT JSON) " + statement
            plan = conn.exec_driver_sql(explain, parameters or {}).scalar_one()[0]["Plan"]
            found = unkeyed_reads(plan, catalogue.watched_indexes)
            if found:
                text_plan = conn.exec_driver_sql("EXPLAIN " + statement, parameters or {})
                offenders.append(
                    f"{'; '.join(found)}\n{statement}\n" + "\n".join(row[0] for row in text_plan)
                )
    assert explained, "no statement on slots or appointments was captured"
    return offenders


def _first_clinic(city: str) -> Clinic:
    return db.session.scalars(db.select(Clinic).where(Clinic.city == city)).first()


def _criteria(name: str, now: datetime) -> DoctorSearch:
    london = _first_clinic("London")
    return {
        "no filter": DoctorSearch(),
        "specialty": DoctorSearch(specialty="cardiology"),
        "city": DoctorSearch(city="Sydney"),
        "clinic": DoctorSearch(clinic_id=london.id),
        "name": DoctorSearch(q="plan 17"),
        "available_on": DoctorSearch(available_on=(now + timedelta(days=3)).date()),
        "near": DoctorSearch(near=(london.latitude, london.longitude), radius_km=30),
        "language": DoctorSearch(language="es"),
        "price": DoctorSearch(sort="price", page=3, per_page=10),
        "rating": DoctorSearch(sort="rating", page=2, per_page=10),
        "earliest": DoctorSearch(sort="earliest", page=2, per_page=10),
        "earliest on a day": DoctorSearch(
            sort="earliest", available_on=(now + timedelta(days=4)).date()
        ),
        "available_on filtered": DoctorSearch(
            specialty="dermatology",
            city="New York",
            available_on=(now + timedelta(days=5)).date(),
            language="en",
        ),
        "everything": DoctorSearch(
            specialty="dermatology",
            city="New York",
            available_on=(now + timedelta(days=5)).date(),
            language="en",
            sort="earliest",
            page=2,
            per_page=5,
        ),
    }[name]


@pytest.mark.parametrize(
    "criteria",
    [
        "no filter",
        "specialty",
        "city",
        "clinic",
        "name",
        "available_on",
        "near",
        "language",
        "price",
        "rating",
        "earliest",
        "earliest on a day",
        "available_on filtered",
        "everything",
    ],
)
def test_doctor_search_reads_slots_and_appointments_through_indexes(seeded, criteria):
    search = _criteria(criteria, seeded.now)
    with captured_statements() as statements:
        page = search_doctors(search, now=seeded.now)
    assert page.total > 0
    assert not_index_driven(statements, seeded) == []


@pytest.mark.parametrize("available_only", [False, True])
def test_fourteen_day_slot_listing_is_index_driven(seeded, available_only):
    doctor = db.session.scalars(db.select(Doctor).order_by(Doctor.id).offset(42)).first()
    with captured_statements() as statements:
        listing = slot_listing(
            doctor_id=doctor.id,
            start=seeded.now,
            end=seeded.now + timedelta(days=14),
            available_only=available_only,
            now=seeded.now,
        )
    assert listing
    assert not_index_driven(statements, seeded) == []


def _slot(now: datetime, *, taken: bool) -> Slot:
    occupied = db.select(Appointment.slot_id).where(
        Appointment.status.in_((AppointmentStatus.CONFIRMED, AppointmentStatus.PENDING_PAYMENT))
    )
    stmt = db.select(Slot).where(Slot.start_at > now + timedelta(days=2), Slot.status == "open")
    stmt = stmt.where(Slot.id.in_(occupied) if taken else Slot.id.not_in(occupied))
    return db.session.scalars(stmt.order_by(Slot.id).limit(1)).one()


@pytest.mark.parametrize("method", ["card", "cash"])
def test_booking_a_free_slot_checks_occupancy_through_indexes(seeded, method):
    """A card booking holds the slot; a cash one is confirmed at once, and its email carries
    the calendar invite of the visit as it is now (ics: the chain of reschedules, followed by
    rescheduled_from_id)."""
    slot = _slot(seeded.now, taken=False)
    patient = make_user(Role.PATIENT)
    with captured_statements() as statements:
        booking.book_slot(
            patient_id=patient.id,
            slot_id=slot.id,
            payment_method=method,
            notes=None,
            now=seeded.now,
        )
    if method == "cash":
        assert any("rescheduled_from_id = " in statement for statement, _ in statements)
    assert not_index_driven(statements, seeded) == []


def test_taken_slot_and_its_alternatives_are_found_through_indexes(seeded):
    slot = _slot(seeded.now, taken=True)
    patient = make_user(Role.PATIENT)
    with captured_statements() as statements, pytest.raises(booking.SlotUnavailable) as refused:
        booking.book_slot(
            patient_id=patient.id,
            slot_id=slot.id,
            payment_method="cash",
            notes=None,
            now=seeded.now,
        )
    assert refused.value.details["alternatives"]
    assert not_index_driven(statements, seeded) == []


def test_a_doctors_visible_reviews_are_read_through_an_index(seeded):
    doctor = db.session.scalars(db.select(Doctor).order_by(Doctor.id).offset(17)).first()
    with captured_statements() as statements:
        page = listing.visible_reviews(doctor_id=doctor.id, page=2, per_page=10)
    assert page.items and all(review.hidden_at is None for review in page.items)
    assert not_index_driven(statements, seeded) == []


def _explain(conn, statement, parameters, *, analyze: bool = False) -> dict:
    options = "ANALYZE, FORMAT JSON" if analyze else "FORMAT JSON"
    return conn.exec_driver_sql(f"EXPLAIN ({options}) " + statement, parameters or {}).scalar_one()[
        0
    ]["Plan"]


@pytest.mark.parametrize("criteria", ["available_on", "available_on filtered"])
def test_available_on_reads_the_day_from_free_days_not_a_probe_per_doctor(seeded, criteria):
    """A day ahead is answered by ix_doctor_free_days_day (one range for the day), not by a
    probe of slots per doctor: executed, the slot reads run at most once per doctor shown
    (their next free time), never once per doctor searched. ("earliest" over a day orders
    every match by its first free time, so that one still probes each match.)"""
    search = _criteria(criteria, seeded.now)
    with captured_statements() as statements:
        page = search_doctors(search, now=seeded.now)
    assert page.total > 0
    read_days = 0
    with db.engine.connect() as conn:
        for statement, parameters in statements:
            if "doctor_free_days" not in statement:
                continue
            plan = _explain(conn, statement, parameters, analyze=True)
            for node in plan_nodes(plan):
                if node.get("Relation Name") == "doctor_free_days" or node.get(
                    "Index Name", ""
                ).startswith("ix_doctor_free_days"):
                    assert node["Node Type"] != "Seq Scan", statement
                    if "Index Name" in node:
                        assert "day =" in node.get("Index Cond", ""), node
                        read_days += 1
                if node.get("Relation Name") == "slots":
                    assert node.get("Actual Loops", 0) <= search.per_page, (
                        f"slots read {node['Actual Loops']} times: a probe per doctor\n{statement}"
                    )
    assert read_days, "doctor_free_days was not read through its index"


def test_name_search_reads_doctors_through_the_trigram_index(seeded):
    """`q` is lower(name) LIKE '%...%': answered from the trigram index
    (ix_users_doctor_name_trgm, pg_trgm), not by lower-casing every doctor's name. 100
    doctors are few enough that reading the table is the planner's right choice, so the plans
    are made, inside a transaction rolled back afterwards, with 20,000 more doctors' accounts
    ANALYZEd: as many as a large directory has."""
    with captured_statements() as statements:
        page = search_doctors(_criteria("name", seeded.now), now=seeded.now)
    assert page.total > 0
    checked = 0
    with db.engine.connect() as conn:
        conn.exec_driver_sql(
            "INSERT INTO users (email, name, role, must_change_password, is_active, created_at,"
            " updated_at)"
            " SELECT 'many' || n || '@example.com', 'Dr. Many ' || md5(n::text), 'doctor',"
            " false, true, now(), now() FROM generate_series(1, 20000) AS n"
        )
        conn.exec_driver_sql("ANALYZE users")
        for statement, parameters in statements:
            if "FROM doctors JOIN users" not in statement:
                continue
            plan = _explain(conn, statement, parameters)
            used = {node.get("Index Name") for node in plan_nodes(plan)}
            assert "ix_users_doctor_name_trgm" in used, statement
            checked += 1
        conn.rollback()
    assert checked == 1  # the page, which counts the matches too
