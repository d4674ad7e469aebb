"""Webhook events: written in the transaction of the change, handed on after its commit.

`emit` adds one delivery row per enabled endpoint of the clinic that subscribed to the event,
with one INSERT ... SELECT (`emit_all`: one for all the events of a change): the change's
transaction gains one statement, and no row when no endpoint listens. Nothing leaves before
the commit; after it delivery.py hands the new rows on (RQ's `webhooks` queue, or this
process without REDIS_URL).

Payloads are small and free of health information: ids, statuses, amounts, times in ISO 8601
UTC (see README, Webhooks).
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

from flask_babel import lazy_gettext
from sqlalchemy import Integer, and_, case, insert, literal, select

from app.extensions import db
from app.models import (
    Appointment,
    AppointmentStatus,
    Payment,
    WebhookDelivery,
    WebhookDeliveryStatus,
    WebhookEndpoint,
    WebhookSubscription,
)
from app.models.types import utcnow

EVENTS = (
    "appointment.created",
    "appointment.confirmed",
    "appointment.cancelled",
    "appointment.rescheduled",
    "appointment.completed",
    "payment.captured",
    "payment.refunded",
)
EVENT_LABELS = {
    "appointment.created": lazy_gettext("Appointment created (booked or requested)"),
    "appointment.confirmed": lazy_gettext("Appointment confirmed"),
    "appointment.cancelled": lazy_gettext("Appointment cancelled (or declined, or lapsed)"),
    "appointment.rescheduled": lazy_gettext("Appointment rescheduled"),
    "appointment.completed": lazy_gettext("Visit completed"),
    "payment.captured": lazy_gettext("Payment captured"),
    "payment.refunded": lazy_gettext("Payment refunded"),
}
# session.info: delivery ids flushed in the open transaction (handed on by delivery.py)
NEW = "carebook_webhooks_new"


def iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).isoformat()


def body_for(event_id: str, name: str, clinic_id: int, data: dict, now: datetime) -> str:
    """The JSON document sent (and signed) for one event."""
    document = {
        "id": event_id,
        "type": name,
        "created_at": iso(now),
        "clinic_id": clinic_id,
        "data": data,
    }
    return json.dumps(document, separators=(",", ":"), sort_keys=True)


def emit(clinic_id: int | None, name: str, data: dict, *, now: datetime) -> list[int]:
    """Write a delivery of event `name` for every enabled endpoint of `clinic_id` subscribed
    to it, in the caller's transaction. Does not commit; returns the new delivery ids."""
    return emit_all(clinic_id, [(name, data)], now=now)


def emit_all(clinic_id: int | None, events: list[tuple[str, dict]], *, now: datetime) -> list[int]:
    """`emit` for several events of one change (a booking is created and confirmed) in one
    INSERT ... SELECT: the endpoints' deliveries of the first event, then of the next, each
    with its own event id and body. Does not commit; returns the new delivery ids."""
    for name, _data in events:
        if name not in EVENTS:
            raise ValueError(f"unknown webhook event {name!r}")
    if clinic_id is None or not events:  # a doctor without a clinic: nobody to tell
        return []
    written = utcnow()  # the row's clock, as the outbox's: `now` may be a caller's moment
    deliveries = WebhookDelivery.__table__
    columns = deliveries.c
    endpoint, subscription = WebhookEndpoint.__table__.c, WebhookSubscription.__table__.c
    ids, bodies, order = {}, {}, {}
    for position, (name, data) in enumerate(events):
        ids[name] = str(uuid.uuid4())
        bodies[name] = body_for(ids[name], name, clinic_id, data, now)
        order[name] = position

    def per_event(values: dict, type_):
        """The event's own value: a CASE over the subscription's event."""
        return case(
            *((subscription.event == name, literal(value, type_)) for name, value in values.items())
        )

    chosen = (
        select(
            endpoint.id,
            per_event(ids, columns.event_id.type),
            subscription.event,
            per_event(bodies, columns.body.type),
            literal(WebhookDeliveryStatus.PENDING, columns.status.type),
            literal(0, columns.attempts.type),
            literal(written, columns.available_at.type),
            literal(written, columns.created_at.type),
        )
        .select_from(
            WebhookEndpoint.__table__.join(
                WebhookSubscription.__table__,
                and_(subscription.endpoint_id == endpoint.id, subscription.event.in_(list(ids))),
            )
        )
        .where(endpoint.clinic_id == clinic_id, endpoint.enabled.is_(True))
        .order_by(per_event(order, Integer()), endpoint.id)
    )
    statement = (
        insert(deliveries)
        .from_select(
            ["endpoint_id", "event_id", "event", "body", "status", "attempts", "available_at"]
            + ["created_at"],
            chosen,
        )
        .returning(columns.id)
    )
    new = list(db.session.connection().execute(statement).scalars())
    db.session.info.setdefault(NEW, []).extend(new)
    return new


# --- the payloads -------------------------------------------------------------------------


def appointment_data(appointment: Appointment, **extra) -> dict:
    return {
        "appointment_id": appointment.id,
        "status": appointment.status.value,
        "doctor_id": appointment.doctor_id,
        "patient_id": appointment.patient_id,
        "slot_id": appointment.slot_id,
        "starts_at": iso(appointment.starts_at),
        "ends_at": iso(appointment.ends_at),
        "payment_method": appointment.payment_method.value,
        **extra,
    }


def appointment_event(name: str, appointment: Appointment, *, now: datetime, **extra) -> None:
    """Emit `appointment.<...>` for the clinic of the appointment's doctor."""
    emit(appointment.doctor.clinic_id, name, appointment_data(appointment, **extra), now=now)


def payment_event(name: str, payment: Payment, *, now: datetime, **extra) -> None:
    """Emit `payment.<...>` for the clinic of the paid appointment's doctor."""
    appointment = payment.appointment
    data = {
        "payment_id": payment.id,
        "appointment_id": payment.appointment_id,
        "status": payment.status.value,
        "amount": payment.amount,
        "amount_captured": payment.amount_captured,
        "amount_refunded": payment.amount_refunded,
        "currency": payment.currency,
        **extra,
    }
    emit(appointment.doctor.clinic_id, name, data, now=now)


def booked(appointment: Appointment, *, now: datetime) -> None:
    """A new appointment stands (confirmed, or a request awaiting the doctor): created, and
    confirmed when it is."""
    if appointment.status not in (AppointmentStatus.CONFIRMED, AppointmentStatus.PENDING_APPROVAL):
        return
    names = ["appointment.created"]
    if appointment.status is AppointmentStatus.CONFIRMED:
        names.append("appointment.confirmed")
    data = appointment_data(appointment)
    emit_all(appointment.doctor.clinic_id, [(name, data) for name in names], now=now)
