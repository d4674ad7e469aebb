"""`flask users create` and `flask seed-demo`."""

from sqlalchemy import func, select

from app import demo
from app.extensions import db
from app.models import Appointment, Clinic, Doctor, Review, Slot, Specialty, User
from tests.factories import make_clinic


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_users_create_makes_an_account_that_can_sign_in(runner, auth):
    result = runner.invoke(
        args=["users", "create", "Root@Example.com", "--role", "admin", "--password", "pw-12345678"]
    )
    assert result.exit_code == 0, result.output
    assert "Created admin root@example.com" in result.output
    user = db.session.scalars(select(User)).one()
    assert user.is_active and user.password_hash.startswith("$argon2id$")
    assert auth.login("root@example.com", "pw-12345678").status_code == 302


def test_users_create_doctor_with_clinic_gets_a_doctor_profile(runner):
    clinic = make_clinic(currency="EUR")
    result = runner.invoke(
        args=[
            "users", "create", "dr@example.com", "--role", "doctor",
            "--password", "pw-12345678", "--name", "Dr. Who", "--clinic-id", str(clinic.id),
        ]
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    doctor = db.session.scalars(select(Doctor)).one()
    assert doctor.clinic_id == clinic.id
    assert doctor.fee_currency == "EUR"
    assert doctor.user.name == "Dr. Who"


def test_users_create_reports_bad_input_without_writing(runner):
    cases = [
        (["x@example.com", "--role", "boss", "--password", "pw-12345678"], "boss"),
        (["not-an-email", "--role", "patient", "--password", "pw-12345678"], "Invalid email"),
        (["x@example.com", "--role", "patient", "--password", "short"], "at least 8"),
        (["d@example.com", "--role", "doctor", "--password", "pw-12345678", "--clinic-id", "99"],
         "no clinic 99"),
    ]  # fmt: skip
    for args, message in cases:
        result = runner.invoke(args=["users", "create", *args])
        assert result.exit_code != 0
        assert message in result.output
    assert count(User) == 0


def test_users_create_refuses_a_duplicate_email(runner):
    args = ["users", "create", "a@example.com", "--role", "patient", "--password", "pw-12345678"]
    assert runner.invoke(args=args).exit_code == 0
    again = runner.invoke(args=[*args[:2], "A@EXAMPLE.COM", *args[3:]])
    assert again.exit_code == 1
    assert "already exists" in again.output
    assert count(User) == 1


def count_reviews(doctor: Doctor) -> int:
    return db.session.scalar(select(func.count(Review.id)).where(Review.doctor_id == doctor.id))


def test_seed_demo_is_idempotent_and_its_logins_work(runner, auth):
    first = runner.invoke(args=["seed-demo"])
    assert first.exit_code == 0, first.output
    counts = {m: count(m) for m in (User, Clinic, Specialty, Doctor, Slot, Appointment, Review)}
    assert counts[Clinic] == 3
    assert len({c.timezone for c in db.session.scalars(select(Clinic))}) == 3
    assert counts[Doctor] >= 12
    assert counts[Specialty] >= 6
    assert counts[Slot] > 12 * 4 * 5 * 10  # four weeks of weekday slots for every doctor
    assert counts[Appointment] > 0
    # Past completed visits with reviews (and replies): the demo doctors show ratings.
    assert counts[Review] >= 12
    rated = db.session.scalars(select(Doctor).where(Doctor.rating_count > 0)).all()
    assert len(rated) >= 10
    assert all(d.rating_count == count_reviews(d) for d in rated)
    assert db.session.scalar(select(func.count(Review.id)).where(Review.reply.is_not(None)))

    second = runner.invoke(args=["seed-demo"])
    assert second.exit_code == 0, second.output
    assert {m: count(m) for m in counts} == counts

    for email in demo.DEMO_LOGINS.values():
        assert email in first.output
        assert auth.login(email, demo.DEMO_PASSWORD).status_code == 302
        auth.logout()


def test_seed_demo_if_empty_leaves_a_used_database_alone(runner):
    runner.invoke(
        args=["users", "create", "a@example.com", "--role", "patient", "--password", "pw-12345678"]
    )
    result = runner.invoke(args=["seed-demo", "--if-empty"])
    assert result.exit_code == 0
    assert "skipped" in result.output
    assert count(Clinic) == 0


def test_expire_holds_marks_lapsed_holds_expired(runner):
    from datetime import UTC, datetime, timedelta

    from app.models import AppointmentStatus
    from tests.factories import make_appointment

    lapsed = make_appointment(
        status=AppointmentStatus.PENDING_PAYMENT,
        hold_expires_at=datetime.now(UTC) - timedelta(minutes=1),
    )
    result = runner.invoke(args=["expire-holds"])
    assert result.exit_code == 0
    assert "Expired 1 lapsed hold(s)." in result.output
    db.session.expire_all()
    assert db.session.get(Appointment, lapsed.id).status is AppointmentStatus.EXPIRED


def test_refresh_reports_rolls_the_past_and_keeps_the_figures(runner):
    from datetime import UTC, datetime, timedelta

    from app.models import ReportDay, ReportRollupClinic
    from app.services.reports import build_report
    from app.services.reports.filters import ReportScope

    demo.seed_demo(now=datetime.now(UTC))
    today = datetime.now(UTC).date()
    scope = ReportScope(start=today - timedelta(days=60), end=today - timedelta(days=1), staff=True)
    live = build_report(scope)
    db.session.commit()
    result = runner.invoke(args=["refresh-reports"])
    assert result.exit_code == 0, result.output
    assert count(ReportDay) and "recounted" in result.output
    assert count(ReportRollupClinic) == count(Clinic) + 1  # and the doctors without a clinic
    rolled = build_report(scope)
    assert {n: t.rows for n, t in rolled.tables.items()} == {
        n: t.rows for n, t in live.tables.items()
    }
    again = runner.invoke(args=["refresh-reports"])
    assert "recounted 0 day(s)" in again.output
