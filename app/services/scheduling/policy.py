"""The clinic's change policy for one appointment, as one value: what the booking guards
enforce, what the pages and the API offer, and what a cancellation gives back all read it.

A leaf of pure functions over an appointment already loaded (its doctor and clinic): no
queries, no other service, so it is tested without a database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import gettext

from app.models import Appointment, AppointmentStatus, Clinic, User
from app.services.errors import Conflict, InvalidInput

S = AppointmentStatus
# States an appointment may still be cancelled from; rescheduling takes only booked visits.
CHANGEABLE = (S.PENDING_PAYMENT, S.PENDING_APPROVAL, S.CONFIRMED)
RESCHEDULABLE = (S.PENDING_APPROVAL, S.CONFIRMED)


class PolicyWindowClosed(Conflict):
    code = "policy_window_closed"


class InvalidTransition(Conflict):
    code = "invalid_status"


class PolicyNotAcknowledged(InvalidInput):
    code = "policy_not_acknowledged"


def change_deadline(slot_start: datetime, clinic: Clinic | None) -> datetime:
    """When a patient's online changes to a visit starting at `slot_start` close."""
    hours = clinic.cancellation_window_hours if clinic else 0
    return slot_start - timedelta(hours=hours)


def inside_window(slot_start: datetime, clinic: Clinic | None, now: datetime) -> bool:
    """A visit booked now for `slot_start` would already be inside the clinic's no-change
    window (the pages mark such slots; booking into one needs the patient's acknowledgement)."""
    return (
        clinic is not None
        and clinic.cancellation_window_hours > 0
        and (now >= change_deadline(slot_start, clinic))
    )


def window_terms(clinic: Clinic | None) -> str:
    """The clinic's change policy in a sentence, for the pages and the acknowledgement error."""
    hours = clinic.cancellation_window_hours if clinic else 0
    if not hours:
        return gettext("You can cancel or move this visit online until it starts.")
    late = clinic.late_cancellation_refund_percent
    if late is None:
        return gettext(
            "Online changes close %(hours)s hours before the visit; inside that window, no "
            "online changes: to cancel or move the visit you must call the clinic.",
            hours=hours,
        )
    return gettext(
        "Online changes close %(hours)s hours before the visit; inside that window, no online "
        "rescheduling; cancelling online refunds %(percent)s%% of a card payment.",
        hours=hours,
        percent=late,
    )


def require_acknowledged(
    slot_start: datetime, clinic: Clinic | None, now: datetime, acknowledged: bool
) -> None:
    """Raises PolicyNotAcknowledged (422) when a slot inside the window is taken without the
    patient's explicit acknowledgement of the policy."""
    if inside_window(slot_start, clinic, now) and not acknowledged:
        raise PolicyNotAcknowledged(
            gettext(
                "This time is inside the clinic's no-change window. %(terms)s Please confirm "
                "that you accept this.",
                terms=window_terms(clinic),
            ),
            field="acknowledge_policy",
        )


def cancellation_refund(
    *,
    amount_captured: int,
    by_patient: bool,
    now: datetime,
    deadline: datetime,
    late_percent: int | None,
) -> int:
    """How much of a captured fee a cancellation gives back (minor units): all of it before
    the deadline or when the doctor or clinic cancels; inside the window the clinic's
    late-cancellation percent (None, no late online cancelling: nothing), rounded down."""
    if not by_patient or now < deadline:
        return amount_captured
    return amount_captured * (late_percent or 0) // 100


@dataclass(frozen=True)
class Policy:
    """What the clinic's rules let one actor do with one appointment at one moment.

    `cancel_refusal` / `reschedule_refusal` are the errors the guards raise (None: allowed).
    """

    window_hours: int
    deadline: datetime  # the patient's online changes close then
    late_percent: int | None  # refund share of a patient's cancellation inside the window
    by_patient: bool
    now: datetime
    cancel_refusal: Conflict | None
    reschedule_refusal: Conflict | None

    @property
    def can_cancel(self) -> bool:
        return self.cancel_refusal is None

    @property
    def can_reschedule(self) -> bool:
        return self.reschedule_refusal is None

    def refund_for(self, amount_captured: int) -> int:
        """What cancelling now gives back of a captured payment."""
        return cancellation_refund(
            amount_captured=amount_captured,
            by_patient=self.by_patient,
            now=self.now,
            deadline=self.deadline,
            late_percent=self.late_percent,
        )


def policy_for(appointment: Appointment, actor: User | None, now: datetime) -> Policy:
    """The policy of `appointment` for `actor` (the patient, or the doctor and staff: None or
    anyone else) at `now`. Staff and doctors are held to no window; patients change online
    until the deadline, and inside it may still cancel (never reschedule) when the clinic
    sets a late-cancellation refund. An unpaid hold can always be released."""
    clinic = appointment.doctor.clinic
    hours = clinic.cancellation_window_hours if clinic else 0
    deadline = change_deadline(appointment.starts_at, clinic)
    late_percent = clinic.late_cancellation_refund_percent if clinic else None
    by_patient = actor is not None and appointment.patient_id == actor.id
    status = appointment.status
    started = appointment.starts_at <= now
    window_closed = by_patient and now >= deadline

    def closed(what: str) -> PolicyWindowClosed:
        if what == "cancellation":
            message = gettext(
                "Online cancellation closes %(hours)s hours before the visit: please call the "
                "clinic.",
                hours=hours,
            )
        else:
            message = gettext(
                "Online rescheduling closes %(hours)s hours before the visit: please call the "
                "clinic.",
                hours=hours,
            )
        return PolicyWindowClosed(message)

    hold_lapsed = status is S.PENDING_PAYMENT and appointment.hold_expires_at <= now
    if status not in CHANGEABLE or hold_lapsed:
        cancel = InvalidTransition(gettext("Only upcoming appointments can be cancelled."))
    elif started:
        cancel = InvalidTransition(gettext("This appointment has already started."))
    elif window_closed and status is not S.PENDING_PAYMENT and late_percent is None:
        cancel = closed("cancellation")
    else:
        cancel = None

    if status not in RESCHEDULABLE:
        reschedule = InvalidTransition(
            gettext("Only booked upcoming appointments can be rescheduled.")
        )
    elif started:
        reschedule = InvalidTransition(gettext("This appointment has already started."))
    elif window_closed:
        reschedule = closed("rescheduling")
    else:
        reschedule = None

    return Policy(
        window_hours=hours,
        deadline=deadline,
        late_percent=late_percent,
        by_patient=by_patient,
        now=now,
        cancel_refusal=cancel,
        reschedule_refusal=reschedule,
    )
