"""Payments, refunds and the Stripe events already processed."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.appointments import Appointment
from app.models.mixins import AuditColumns
from app.models.types import UTCDateTime, currency_column, enum_column, utcnow
from app.models.users import User


class PaymentProvider(enum.StrEnum):
    STRIPE = "stripe"
    CASH = "cash"


class PaymentStatus(enum.StrEnum):
    REQUIRES_PAYMENT = "requires_payment"
    AUTHORIZED = "authorized"
    CAPTURED = "captured"
    REFUNDED = "refunded"
    PARTIALLY_REFUNDED = "partially_refunded"
    CANCELED = "canceled"
    FAILED = "failed"
    DISPUTED = "disputed"


# Payments that still stand for their appointment; at most one per appointment.
LIVE_PAYMENT_STATUSES = (
    PaymentStatus.REQUIRES_PAYMENT,
    PaymentStatus.AUTHORIZED,
    PaymentStatus.CAPTURED,
    PaymentStatus.PARTIALLY_REFUNDED,
    PaymentStatus.DISPUTED,
)
_LIVE_SQL = "status IN ({})".format(", ".join(f"'{s.value}'" for s in LIVE_PAYMENT_STATUSES))


class Payment(AuditColumns, db.Model):
    """One attempt to pay for an appointment; also the ledger row the reports sum."""

    __tablename__ = "payments"
    __table_args__ = (
        Index(
            "uq_payments_live_appointment",
            "appointment_id",
            unique=True,
            postgresql_where=text(_LIVE_SQL),
            sqlite_where=text(_LIVE_SQL),
        ),
        CheckConstraint(
            "refund_target IS NULL OR (refund_target >= 0 AND refund_target <= amount_captured)",
            name="refund_target",
        ),
        CheckConstraint("amount >= 0", name="amount_not_negative"),
        # The revenue report reads captures by date, from the index alone.
        Index(
            "ix_payments_captured_at",
            "captured_at",
            postgresql_include=["appointment_id", "currency", "amount_captured"],
        ),
        CheckConstraint("amount_captured >= 0 AND amount_captured <= amount", name="captured"),
        CheckConstraint(
            "amount_refunded >= 0 AND amount_refunded <= amount_captured", name="refunded"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    appointment_id: Mapped[int] = mapped_column(
        ForeignKey("appointments.id", ondelete="RESTRICT"), nullable=False, index=True
    )
    provider: Mapped[PaymentProvider] = mapped_column(
        enum_column(PaymentProvider, "payment_provider"), nullable=False
    )
    stripe_payment_intent_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    amount: Mapped[int] = mapped_column(nullable=False)  # minor units
    currency: Mapped[str] = mapped_column(currency_column(), nullable=False)
    status: Mapped[PaymentStatus] = mapped_column(
        enum_column(PaymentStatus, "payment_status"), nullable=False
    )
    amount_captured: Mapped[int] = mapped_column(nullable=False, default=0)
    amount_refunded: Mapped[int] = mapped_column(nullable=False, default=0)
    fee_amount: Mapped[int | None] = mapped_column()  # processor fee, when known
    captured_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The total refund decided (cancellation policy, compensation, admin); None = none decided.
    # A refund still owed (refund_target > amount_refunded) is retried by reconciliation.
    refund_target: Mapped[int | None] = mapped_column()
    failure_message: Mapped[str | None] = mapped_column(String(255))  # last decline, for the payer
    dispute_id: Mapped[str | None] = mapped_column(String(255))
    dispute_status: Mapped[str | None] = mapped_column(String(40))
    # `created` of the Stripe event the dispute fields come from: older events are ignored.
    dispute_event_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    appointment: Mapped[Appointment] = relationship()
    refunds: Mapped[list[Refund]] = relationship(back_populates="payment", order_by="Refund.id")

    @property
    def refund_owed(self) -> int:
        return max(0, (self.refund_target or 0) - self.amount_refunded)

    @property
    def net_amount(self) -> int:
        return self.amount_captured - self.amount_refunded


class Refund(db.Model):
    __tablename__ = "refunds"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        # The revenue report reads refunds by date, from the index alone.
        Index("ix_refunds_created_at", "created_at", postgresql_include=["payment_id", "amount"]),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    payment_id: Mapped[int] = mapped_column(
        ForeignKey("payments.id", ondelete="RESTRICT"), nullable=False, index=True
    )
    stripe_refund_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    amount: Mapped[int] = mapped_column(nullable=False)
    reason: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    payment: Mapped[Payment] = relationship(back_populates="refunds")
    created_by: Mapped[User | None] = relationship()


class StripeEvent(db.Model):
    """A webhook event already applied; the primary key makes processing at-most-once."""

    __tablename__ = "stripe_events"

    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    type: Mapped[str] = mapped_column(String(120), nullable=False)
    processed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
