"""Reading the payments ledger: the staff's payment search, open disputes, a payment's
details, and a doctor's earnings by month. Nothing here writes."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from flask_babel import gettext
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import or_, select
from sqlalchemy.orm import aliased, joinedload, selectinload

from app.extensions import db
from app.models import (
    Appointment,
    AppointmentStatus,
    Doctor,
    Payment,
    PaymentMethod,
    PaymentProvider,
    PaymentStatus,
    Refund,
    User,
)
from app.services import like
from app.services.errors import InvalidInput, PaymentNotFound
from app.services.localtime import zone
from app.services.scheduling.appointments import public_doctor

# Stripe's dispute states that need nothing more from anyone.
CLOSED_DISPUTE_STATUSES = ("won", "lost", "warning_closed", "charge_refunded")
MAX_PER_PAGE = 100


@dataclass(frozen=True)
class PaymentQuery:
    patient: str | None = None  # part of the patient's name or email
    appointment_id: int | None = None
    payment_intent_id: str | None = None
    status: PaymentStatus | None = None
    since: date | None = None  # inclusive, UTC days of the payment's creation
    until: date | None = None  # inclusive


def _with_people(statement):
    return statement.options(
        joinedload(Payment.appointment).joinedload(Appointment.patient),
        joinedload(Payment.appointment).joinedload(Appointment.doctor).joinedload(Doctor.user),
    )


def search_payments(query: PaymentQuery, *, page: int = 1, per_page: int = 50) -> Pagination:
    """Payments matching `query`, newest first, with their appointment, patient and doctor."""
    statement = _with_people(select(Payment).order_by(Payment.created_at.desc(), Payment.id.desc()))
    if query.patient and query.patient.strip():
        patient = aliased(User)
        statement = (
            statement.join(Appointment, Appointment.id == Payment.appointment_id)
            .join(patient, patient.id == Appointment.patient_id)
            .where(
                or_(
                    like.contains(patient.email, query.patient, ignore_case=False),
                    like.contains(patient.name, query.patient),
                )
            )
        )
    if query.appointment_id is not None:
        statement = statement.where(Payment.appointment_id == query.appointment_id)
    if query.payment_intent_id and query.payment_intent_id.strip():
        statement = statement.where(
            Payment.stripe_payment_intent_id == query.payment_intent_id.strip()
        )
    if query.status is not None:
        statement = statement.where(Payment.status == query.status)
    if query.since and query.until and query.since > query.until:
        raise InvalidInput(gettext("The start of the range is after its end."), field="since")
    if query.since:
        begin = datetime.combine(query.since, time(0), UTC)
        statement = statement.where(Payment.created_at >= begin)
    if query.until:
        end = datetime.combine(query.until + timedelta(days=1), time(0), UTC)
        statement = statement.where(Payment.created_at < end)
    per_page = min(max(per_page, 1), MAX_PER_PAGE)
    return db.paginate(statement, page=max(page, 1), per_page=per_page, error_out=False)


def open_disputes() -> list[Payment]:
    """Payments with a dispute still open at Stripe, oldest change first (most urgent)."""
    statement = _with_people(
        select(Payment)
        .where(
            Payment.dispute_id.is_not(None),
            or_(
                Payment.dispute_status.is_(None),
                Payment.dispute_status.not_in(CLOSED_DISPUTE_STATUSES),
            ),
        )
        .order_by(Payment.updated_at, Payment.id)
    )
    return list(db.session.scalars(statement).unique())


def get_payment(payment_id: int) -> Payment:
    """One payment with its refunds and people. Raises PaymentNotFound."""
    payment = db.session.scalar(
        _with_people(select(Payment).where(Payment.id == payment_id)).options(
            selectinload(Payment.refunds).joinedload(Refund.created_by)
        )
    )
    if payment is None:
        raise PaymentNotFound()
    return payment


# --- A doctor's earnings ---------------------------------------------------------------------

MONTHS_SHOWN = 12


@dataclass
class MonthTotals:
    """One month (in the clinic's zone, by visit date) in one currency."""

    month: date  # the first of the month
    currency: str
    captured: int = 0
    refunded: int = 0
    fees: int = 0  # processor fees known so far
    fees_unknown: int = 0  # card payments whose fee Stripe has not reported
    paid_visits: int = 0
    cash: int = 0  # completed cash visits: paid at the clinic, not through Carebook
    cash_visits: int = 0

    @property
    def net(self) -> int:
        return self.captured - self.refunded


@dataclass
class Earnings:
    month: date  # the month shown in detail
    months: list[MonthTotals]  # newest first, months with nothing left out
    payments: list[Payment] = field(default_factory=list)  # the month's card payments
    cash_visits: list[Appointment] = field(default_factory=list)  # the month's cash visits
    timezone: str = "UTC"

    @property
    def month_totals(self) -> list[MonthTotals]:
        return [t for t in self.months if t.month == self.month]


def add_months(month: date, count: int) -> date:
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def doctor_earnings(*, doctor_id: int, month: date | None, now: datetime) -> Earnings:
    """What a doctor earned per month and currency over the MONTHS_SHOWN months up to `month`
    (default: this month in the clinic's zone), and that month's payments and cash visits.

    Months follow the visit's date in the clinic's zone. Card money is what Stripe captured and
    refunded; cash is the fee snapshot of completed cash visits. Raises NotFound (no doctor).
    """
    doctor = public_doctor(doctor_id)
    tz = zone(doctor.timezone)
    shown = (month or now.astimezone(tz).date()).replace(day=1)
    first = add_months(shown, 1 - MONTHS_SHOWN)
    start = datetime.combine(first, time(0), tz).astimezone(UTC)
    end = datetime.combine(add_months(shown, 1), time(0), tz).astimezone(UTC)
    in_range = (
        Appointment.doctor_id == doctor.id,
        Appointment.starts_at >= start,
        Appointment.starts_at < end,
    )
    payments = db.session.scalars(
        select(Payment)
        .join(Appointment, Appointment.id == Payment.appointment_id)
        .options(joinedload(Payment.appointment).joinedload(Appointment.patient))
        .where(
            *in_range,
            Payment.provider == PaymentProvider.STRIPE,
            Payment.amount_captured > 0,
        )
        .order_by(Appointment.starts_at, Payment.id)
    ).all()
    cash = db.session.scalars(
        select(Appointment)
        .options(joinedload(Appointment.patient))
        .where(
            *in_range,
            Appointment.payment_method == PaymentMethod.CASH,
            Appointment.status == AppointmentStatus.COMPLETED,
        )
        .order_by(Appointment.starts_at)
    ).all()

    def month_of(appointment: Appointment) -> date:
        return appointment.starts_at.astimezone(tz).date().replace(day=1)

    totals: dict[tuple[date, str], MonthTotals] = {}
    visits: dict[tuple[date, str], set[int]] = defaultdict(set)

    def row(key: tuple[date, str]) -> MonthTotals:
        return totals.setdefault(key, MonthTotals(month=key[0], currency=key[1]))

    for payment in payments:
        key = (month_of(payment.appointment), payment.currency)
        line = row(key)
        line.captured += payment.amount_captured
        line.refunded += payment.amount_refunded
        if payment.fee_amount is None:
            line.fees_unknown += 1
        else:
            line.fees += payment.fee_amount
        visits[key].add(payment.appointment_id)
    for key, ids in visits.items():
        totals[key].paid_visits = len(ids)
    for appointment in cash:
        line = row((month_of(appointment), appointment.fee_currency))
        line.cash += appointment.fee_amount
        line.cash_visits += 1
    return Earnings(
        month=shown,
        months=sorted(totals.values(), key=lambda t: (t.month, t.currency), reverse=True),
        payments=[p for p in payments if month_of(p.appointment) == shown],
        cash_visits=[a for a in cash if month_of(a) == shown],
        timezone=tz.key,
    )
