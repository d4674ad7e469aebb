"""What every notification says. Each renderer reads the row's data (ids, amounts), loads what
it needs and returns a Message; times are in the clinic's zone, the zone named."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import exists, select

from app.extensions import db
from app.models import (
    Appointment,
    AppointmentStatus,
    Consult,
    Doctor,
    Review,
    SlotMode,
    User,
    WebhookEndpoint,
)
from app.models.types import utcnow
from app.services import sealing
from app.services.links import absolute_url, public_url
from app.services.localtime import zone
from app.services.notifications.kinds import ALL, EMAIL_AND_APP, Gone, Message, kind
from app.services.payments.money import format_money
from app.services.scheduling.ics import appointment_ics

S = AppointmentStatus
EMAIL_ONLY = (EMAIL_AND_APP[0],)


def when(moment: datetime, timezone: str) -> str:
    """'Tue 08 Dec 2026, 09:30 CET (Europe/Madrid)'."""
    shown = moment.astimezone(zone(timezone))
    return f"{shown.strftime('%a %d %b %Y, %H:%M')} {shown.tzname()} ({timezone})"


def _appointment(data: dict) -> Appointment:
    appointment = db.session.get(Appointment, data["appointment_id"])
    if appointment is None:
        raise Gone(f"appointment {data['appointment_id']} is gone")
    return appointment


def _visit(appointment: Appointment) -> tuple[str, list[tuple[str, str]]]:
    """('Video visit with Dr Ann Lee on ...', detail rows) for either side."""
    doctor = appointment.doctor
    clinic = doctor.clinic
    video = appointment.slot.mode is SlotMode.VIDEO
    what = "Video visit" if video else "Visit"
    at = when(appointment.starts_at, doctor.timezone)
    details = [("When", at), ("Doctor", doctor.name), ("Patient", appointment.patient.name)]
    if clinic is not None:
        place = "By video" if video else ", ".join(p for p in (clinic.address, clinic.city) if p)
        details.append(("Clinic", clinic.name))
        details.append(("Where", place or clinic.city))
    return f"{what} with {doctor.name} on {at}", details


def _patient_link(appointment: Appointment) -> tuple[str, str]:
    return ("See the appointment", public_url("patient.appointment", appointment_id=appointment.id))


def _doctor_link(appointment: Appointment) -> tuple[str, str]:
    return (
        "Open the appointment",
        public_url("doctor.appointment_page", appointment_id=appointment.id),
    )


def _invite(appointment: Appointment, user: User) -> bytes:
    return appointment_ics(appointment, now=utcnow(), invite_to=user.email)


def _short(appointment: Appointment) -> str:
    shown = appointment.starts_at.astimezone(zone(appointment.doctor.timezone))
    return f"{shown.strftime('%a %d %b, %H:%M')} {shown.tzname()}"


# --- appointments -------------------------------------------------------------------------


@kind("appointment.confirmed", category="appointments")
def confirmed(data: dict, user: User) -> Message:
    appointment = _appointment(data)
    visit, details = _visit(appointment)
    return Message(
        subject=f"Booked: {visit}",
        lines=[
            f"Your {visit[0].lower()}{visit[1:]} is confirmed.",
            "The calendar invitation attached keeps your calendar up to date if it changes.",
        ],
        action=_patient_link(appointment),
        details=details,
        ics=lambda: _invite(appointment, user),
    )


@kind("appointment.booked_for_doctor", category="appointments")
def booked_for_doctor(data: dict, user: User) -> Message:
    appointment = _appointment(data)
    _, details = _visit(appointment)
    return Message(
        subject=f"New booking: {appointment.patient.name}, {_short(appointment)}",
        lines=[f"{appointment.patient.name} booked {_short(appointment)}."],
        action=_doctor_link(appointment),
        details=details,
    )


@kind("appointment.awaiting_approval", category="appointments")
def awaiting_approval(data: dict, user: User) -> Message:
    appointment = _appointment(data)
    _, details = _visit(appointment)
    return Message(
        subject=f"Booking request: {appointment.patient.name}, {_short(appointment)}",
        lines=[
            f"{appointment.patient.name} asks to book {_short(appointment)}.",
            "Approve or decline it from your dashboard; the slot is held until you answer.",
        ],
        action=_doctor_link(appointment),
        details=details,
    )


@kind("appointment.approved", category="appointments")
def approved(data: dict, user: User) -> Message:
    appointment = _appointment(data)
    visit, details = _visit(appointment)
    return Message(
        subject=f"Approved: {visit}",
        lines=[f"{appointment.doctor.name} approved your request. Your visit is confirmed."],
        action=_patient_link(appointment),
        details=details,
        ics=lambda: _invite(appointment, user),
    )


@kind("appointment.rejected", category="appointments")
def rejected(data: dict, user: User) -> Message:
    appointment = _appointment(data)
    visit, details = _visit(appointment)
    lines = [f"{appointment.doctor.name} could not accept your request for {_short(appointment)}."]
    if appointment.payment_method.value == "card":
        lines.append("Nothing was charged: the hold on your card has been released.")
    lines.append("You can book another time from the doctor's page.")
    return Message(
        subject=f"Request declined: {visit}",
        lines=lines,
        action=(
            "Find another time",
            public_url("patient.doctor", doctor_id=appointment.doctor_id),
        ),
        details=details,
    )


@kind("appointment.rescheduled", category="appointments")
def rescheduled(data: dict, user: User) -> Message:
    appointment = _appointment(data)
    old = db.session.get(Appointment, data["from_id"]) if data.get("from_id") else None
    visit, details = _visit(appointment)
    is_patient = user.id == appointment.patient_id
    before = f" (was {_short(old)})" if old is not None else ""
    lines = [f"The visit moved to {_short(appointment)}{before}."]
    if is_patient:
        lines.append("The calendar invitation attached updates the event in your calendar.")
    return Message(
        subject=f"Moved: {visit}",
        lines=lines,
        action=_patient_link(appointment) if is_patient else _doctor_link(appointment),
        details=details,
        sms=f"Carebook: your visit moved to {_short(appointment)}." if is_patient else None,
        ics=(lambda: _invite(appointment, user)) if is_patient else None,
    )


@kind("appointment.cancelled", category="appointments", essential=True, channels=ALL)
def cancelled(data: dict, user: User) -> Message:
    appointment = _appointment(data)
    visit, details = _visit(appointment)
    is_patient = user.id == appointment.patient_id
    by = data.get("by")
    who = {"patient": appointment.patient.name, "doctor": appointment.doctor.name}.get(
        by, "The clinic"
    )
    lines = [f"{who} cancelled the visit of {_short(appointment)}."]
    reason = appointment.cancellation_reason
    if by == "clinic" and reason and reason != "cancelled by clinic":
        lines.append(f"The reason given: {reason}")
    refund = data.get("refund_amount")
    if is_patient and refund:
        money = format_money(refund, appointment.fee_currency)
        lines.append(f"{money} goes back to your card; banks take a few days to show it.")
    elif is_patient and appointment.payment_method.value == "card":
        lines.append("No refund is due under the clinic's cancellation policy.")
    return Message(
        subject=f"Cancelled: {visit}",
        lines=lines,
        action=_patient_link(appointment) if is_patient else _doctor_link(appointment),
        details=details,
        sms=f"Carebook: your visit of {_short(appointment)} was cancelled." if is_patient else None,
        ics=(lambda: _invite(appointment, user)) if is_patient else None,
    )


@kind("appointment.approval_lapsed", category="appointments", essential=True)
def approval_lapsed(data: dict, user: User) -> Message:
    appointment = _appointment(data)
    visit, details = _visit(appointment)
    return Message(
        subject=f"Request not answered: {visit}",
        lines=[
            f"{appointment.doctor.name} did not answer your request in time, so it was "
            "withdrawn. Nothing was charged.",
            "You can book another time from the doctor's page.",
        ],
        action=("Find another time", public_url("patient.doctor", doctor_id=appointment.doctor_id)),
        details=details,
    )


def _upcoming_and_confirmed(data: dict) -> bool:
    appointment = db.session.get(Appointment, data["appointment_id"])
    return (
        appointment is not None
        and appointment.status is S.CONFIRMED
        and appointment.starts_at.isoformat() == data.get("starts_at")
        and appointment.starts_at > utcnow()
    )


@kind(
    "appointment.reminder",
    category="reminders",
    channels=ALL,
    still_relevant=_upcoming_and_confirmed,
)
def reminder(data: dict, user: User) -> Message:
    appointment = _appointment(data)
    visit, details = _visit(appointment)
    return Message(
        subject=f"Reminder: {visit}",
        lines=[
            f"This is a reminder of your {visit[0].lower()}{visit[1:]}.",
            "If you cannot come, cancel or move it from the appointment page so that "
            "someone else can take the time.",
        ],
        action=_patient_link(appointment),
        details=details,
        sms=f"Carebook reminder: {appointment.doctor.name}, {_short(appointment)}.",
    )


# --- on-demand consults ---------------------------------------------------------------------


def _consult(data: dict) -> Consult:
    consult = db.session.get(Consult, data["consult_id"])
    if consult is None:
        raise Gone(f"consult {data['consult_id']} is gone")
    return consult


@kind("consult.accepted", category="appointments", essential=True)
def consult_accepted(data: dict, user: User) -> Message:
    consult = _consult(data)
    doctor = consult.accepted_by
    return Message(
        subject=f"{doctor.name} accepted your consult: join the video visit now",
        lines=[
            f"{doctor.name} accepted your {consult.specialty.name} consult and is waiting "
            "for you in the video visit.",
        ],
        action=("Join the video visit", absolute_url(f"/visits/{data['appointment_id']}")),
    )


@kind("consult.expired", category="appointments", essential=True)
def consult_expired(data: dict, user: User) -> Message:
    consult = _consult(data)
    lines = [f"No {consult.specialty.name} doctor could take your consult in time."]
    if consult.stripe_payment_intent_id:
        lines.append("Nothing was charged: the hold on your card has been released.")
    lines.append("You can ask again, or book a visit with a doctor.")
    return Message(
        subject="Your consult request expired",
        lines=lines,
        action=("Find a doctor", public_url("patient.search")),
    )


# --- payments -----------------------------------------------------------------------------


@kind("payment.refunded", category="payments", essential=True)
def refunded(data: dict, user: User) -> Message:
    appointment = _appointment(data)
    money = format_money(data["amount"], data.get("currency") or appointment.fee_currency)
    _, details = _visit(appointment)
    action = _patient_link(appointment)
    if data.get("refund_id"):
        action = (
            "Download the receipt",
            public_url("payments.refund_receipt", refund_id=data["refund_id"]),
        )
    return Message(
        subject=f"Refund issued: {money}",
        lines=[f"We refunded {money} to your card. Banks take a few days to show it."],
        action=action,
        details=details,
    )


@kind("payment.released", category="payments", essential=True)
def released(data: dict, user: User) -> Message:
    appointment = _appointment(data)
    _, details = _visit(appointment)
    return Message(
        subject="Card hold released: nothing was charged",
        lines=[
            f"The hold on your card for the visit of {_short(appointment)} has ended and "
            "nothing was charged. The visit is not booked.",
        ],
        action=("Book again", public_url("patient.doctor", doctor_id=appointment.doctor_id)),
        details=details,
    )


@kind("payment.refunded_slot_taken", category="payments", essential=True)
def refunded_slot_taken(data: dict, user: User) -> Message:
    appointment = _appointment(data)
    money = format_money(data["amount"], appointment.fee_currency)
    return Message(
        subject=f"Payment refunded: the time was taken ({money})",
        lines=[
            f"Your payment arrived after the hold on {_short(appointment)} ended and someone "
            f"else booked that time. We refund all of it ({money}).",
        ],
        action=("Pick another time", public_url("patient.doctor", doctor_id=appointment.doctor_id)),
    )


@kind("payment.not_recorded_refunded", category="payments", essential=True)
def not_recorded(data: dict, user: User) -> Message:
    appointment = _appointment(data)
    return Message(
        subject="Payment failed: your money is refunded",
        lines=[
            f"We could not complete your booking of {_short(appointment)}, so the payment "
            "was refunded in full. Please try booking again.",
        ],
        action=("Book again", public_url("patient.doctor", doctor_id=appointment.doctor_id)),
    )


# --- waitlist -----------------------------------------------------------------------------


@kind("waitlist.slot_free", category="waitlist", channels=ALL)
def slot_free(data: dict, user: User) -> Message:
    doctor = db.session.get(Doctor, data["doctor_id"])
    start = datetime.fromisoformat(data["start"])
    at = when(start, doctor.timezone)
    return Message(
        subject=f"A time came free with {doctor.name}: {at}",
        lines=[
            f"A time you were waiting for came free: {at} with {doctor.name}.",
            "It goes to whoever books first.",
        ],
        action=("Book it", public_url("patient.book", slot_id=data["slot_id"])),
        sms=f"Carebook: {doctor.name} has a free time {at}. First to book gets it.",
    )


# --- accounts -----------------------------------------------------------------------------


@kind("account.staff_created", category="account", essential=True, channels=EMAIL_ONLY)
def staff_created(data: dict, user: User) -> Message:
    return Message(
        subject="Choose your Carebook password",
        lines=[
            f"Hello {user.name},",
            "A Carebook account was opened for you. Choose your password with the link "
            f"below (it works once, within {data['hours']} hours).",
        ],
        action=("Choose a password", sealing.unseal(data["link_sealed"])),
    )


@kind("doctor_application.verified", category="account", essential=True, channels=EMAIL_ONLY)
def application_verified(data: dict, user: User) -> Message:
    return Message(
        subject="Welcome to Carebook: choose your password",
        lines=[
            f"Hello {user.name},",
            "Your application to join Carebook as a doctor was verified, and your account is "
            f"open. Choose your password with the link below (it works once, within "
            f"{data['hours']} hours); then set up your profile and your free times.",
        ],
        action=("Choose a password", sealing.unseal(data["link_sealed"])),
    )


@kind("doctor_application.declined", category="account", essential=True, channels=EMAIL_ONLY)
def application_declined(data: dict, user: User | None) -> Message:
    """To the applicant's address: there is no account (outbox.notify_address)."""
    return Message(
        subject="Your application to join Carebook",
        lines=[
            f"Hello {data['name']},",
            "Thank you for applying to join Carebook as a doctor. We could not verify your "
            "application, for this reason:",
            data["reason"],
            "You may apply again once this is resolved.",
        ],
        action=("Apply again", public_url("main.doctor_apply")),
    )


@kind("account.password_reset", category="account", essential=True, channels=EMAIL_ONLY)
def password_reset(data: dict, user: User) -> Message:
    return Message(
        subject="Reset your Carebook password",
        lines=[
            f"Hello {user.name},",
            f"To choose a new password, open the link below within {data['minutes']} minutes. "
            "It works once. If you did not ask for it, ignore this email: your password "
            "stays as it is.",
        ],
        action=("Choose a new password", sealing.unseal(data["link_sealed"])),
    )


@kind("account.password_changed", category="account", essential=True, channels=EMAIL_ONLY)
def password_changed(data: dict, user: User) -> Message:
    return Message(
        subject="Your Carebook password was changed",
        lines=[
            f"Hello {user.name},",
            "The password of your Carebook account was just changed and your other "
            "sessions were signed out. If this was not you, reset your password now and "
            "contact us.",
        ],
    )


@kind("account.email_changed", category="account", essential=True, channels=EMAIL_ONLY)
def email_changed(data: dict, user: User) -> Message:
    return Message(
        subject="Your Carebook email address was changed",
        lines=[
            f"Hello {user.name},",
            f"Your Carebook account now uses {data['new_email']}. If this was not you, "
            "contact us at once.",
        ],
    )


@kind("account.registration_attempt", category="account", essential=True, channels=EMAIL_ONLY)
def registration_attempt(data: dict, user: User) -> Message:
    return Message(
        subject="Someone tried to create a Carebook account with your email",
        lines=[
            "Hello,",
            "Someone (perhaps you) tried to create a new Carebook account with "
            f"{user.email}, which already has one. If it was you, sign in instead, or reset "
            "your password from the sign-in page if you forgot it. If it was not you, you "
            "can ignore this email: nothing has changed.",
        ],
    )


# --- reviews --------------------------------------------------------------------------------


def _not_reviewed_yet(data: dict) -> bool:
    appointment = db.session.get(Appointment, data["appointment_id"])
    return (
        appointment is not None
        and appointment.status is S.COMPLETED
        and not db.session.scalar(select(exists().where(Review.appointment_id == appointment.id)))
    )


@kind("review.request", category="reviews", still_relevant=_not_reviewed_yet)
def review_request(data: dict, user: User) -> Message:
    appointment = _appointment(data)
    visit, details = _visit(appointment)
    return Message(
        subject=f"How was your visit with {appointment.doctor.name}?",
        lines=[
            f"Thank you for your {visit[0].lower()}{visit[1:]}.",
            "A rating and a few words help other patients choose, and help the doctor. "
            "You can review the visit from its page (and change it for 14 days).",
        ],
        action=(
            "Review the visit",
            public_url("patient.appointment", appointment_id=appointment.id),
        ),
        details=details,
    )


def _review(data: dict) -> Review:
    review = db.session.get(Review, data["review_id"])
    if review is None:
        raise Gone(f"review {data['review_id']} is gone")
    return review


# Moderation is essential: the author hears what happened to what they wrote, and why.
@kind("review.hidden", category="reviews", essential=True)
def review_hidden(data: dict, user: User) -> Message:
    review = _review(data)
    return Message(
        subject=f"Your review of {review.doctor.name} was hidden",
        lines=[
            f"Our moderators hid your review of {review.doctor.name}: it no longer shows on "
            "the doctor's page nor counts in their rating.",
            f"The reason given: {data['reason']}",
        ],
        action=(
            "See the visit",
            public_url("patient.appointment", appointment_id=review.appointment_id),
        ),
    )


@kind("review.restored", category="reviews", essential=True)
def review_restored(data: dict, user: User) -> Message:
    review = _review(data)
    return Message(
        subject=f"Your review of {review.doctor.name} is shown again",
        lines=[
            f"Our moderators restored your review of {review.doctor.name}: it shows on the "
            "doctor's page and counts in their rating again.",
            *([f"The reason given: {data['reason']}"] if data.get("reason") else []),
        ],
        action=(
            "See the doctor's page",
            public_url("patient.doctor", doctor_id=review.doctor_id),
        ),
    )


# --- integrations ---------------------------------------------------------------------------


# Essential: an endpoint that stopped receiving events is something its owners must hear of.
@kind("webhook.disabled", category="integrations", essential=True)
def webhook_disabled(data: dict, user: User) -> Message:
    endpoint = db.session.get(WebhookEndpoint, data["endpoint_id"])
    if endpoint is None:
        raise Gone(f"webhook endpoint {data['endpoint_id']} is gone")
    return Message(
        subject=f"A webhook endpoint of {endpoint.clinic.name} was disabled",
        lines=[
            f"Carebook stopped sending events to {endpoint.url}: its last "
            f"{data['failures']} deliveries failed after a day of retries each.",
            f"The last error: {data.get('error') or 'none recorded'}",
            "Fix the receiver, enable the endpoint again and replay what it missed from the "
            "admin page.",
        ],
        action=("Open the endpoint", public_url("admin.webhook", endpoint_id=endpoint.id)),
    )
