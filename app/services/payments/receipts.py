"""Receipts: one for each card payment captured and one for each refund, for the patient who
paid (and staff who see payments). Numbers are stable and say what they are: CB-P-<payment>
for a payment, CB-R-<refund> for a refund. A receipt is read from the ledger as recorded;
nothing here writes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext, lazy_gettext
from sqlalchemy.orm import joinedload

from app.extensions import db
from app.models import Appointment, Doctor, Payment, Refund, User
from app.services import access
from app.services.errors import NotFound


class ReceiptNotFound(NotFound):
    code = "receipt_not_found"
    default_message = lazy_gettext("There is no such receipt.")


@dataclass(frozen=True)
class Receipt:
    number: str
    kind: str  # "payment" or "refund"
    issued_at: datetime  # when the money moved
    amount: int  # minor units
    currency: str
    method: str
    patient: User
    appointment: Appointment
    payment: Payment
    reference: str | None  # Stripe's id of the charge's intent or of the refund
    for_number: str  # a refund's payment receipt; a payment's own number

    @property
    def doctor(self) -> Doctor:
        return self.appointment.doctor

    @property
    def timezone(self) -> str:
        return self.appointment.doctor.timezone


def payment_number(payment: Payment) -> str:
    return f"CB-P-{payment.id:06d}"


def refund_number(refund: Refund) -> str:
    return f"CB-R-{refund.id:06d}"


def _visible_payment(payment_id: int, viewer_id: int) -> Payment:
    viewer = access.load_actor(viewer_id)
    payment = db.session.get(
        Payment,
        payment_id,
        options=[
            joinedload(Payment.appointment)
            .joinedload(Appointment.doctor)
            .joinedload(Doctor.clinic),
            joinedload(Payment.appointment).joinedload(Appointment.patient),
        ],
    )
    if payment is None or not (
        payment.appointment.patient_id == viewer.id
        or access.has_permission(viewer, "payments.view")
    ):
        raise ReceiptNotFound()
    return payment


def payment_receipt(*, payment_id: int, viewer_id: int) -> Receipt:
    """The receipt of a captured card payment. Raises ReceiptNotFound (unknown, not the
    viewer's, or nothing captured)."""
    payment = _visible_payment(payment_id, viewer_id)
    if payment.amount_captured <= 0:
        raise ReceiptNotFound(gettext("This payment was not charged, so it has no receipt."))
    return Receipt(
        number=payment_number(payment),
        kind="payment",
        issued_at=payment.captured_at or payment.created_at,
        amount=payment.amount_captured,
        currency=payment.currency,
        method="Card",
        patient=payment.appointment.patient,
        appointment=payment.appointment,
        payment=payment,
        reference=payment.stripe_payment_intent_id,
        for_number=payment_number(payment),
    )


def refund_receipt(*, refund_id: int, viewer_id: int) -> Receipt:
    """The receipt of one refund. Raises ReceiptNotFound."""
    refund = db.session.get(Refund, refund_id)
    if refund is None:
        raise ReceiptNotFound()
    payment = _visible_payment(refund.payment_id, viewer_id)
    return Receipt(
        number=refund_number(refund),
        kind="refund",
        issued_at=refund.created_at,
        amount=refund.amount,
        currency=payment.currency,
        method="Refund to the card paid with",
        patient=payment.appointment.patient,
        appointment=payment.appointment,
        payment=payment,
        reference=refund.stripe_refund_id,
        for_number=payment_number(payment),
    )
