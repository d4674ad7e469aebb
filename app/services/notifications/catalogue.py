"""What every notification says. Each renderer reads the row's data (ids, amounts), loads what
it needs and returns a Message; times are in the clinic's zone, the zone named."""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _
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
from app.services.l10n import format_dt
from app.services.links import absolute_url, public_url
from app.services.localtime import zone
from app.services.notifications.kinds import ALL, EMAIL_AND_APP, Gone, Message, kind
from app.services.payments.money import format_money
from app.services.scheduling.ics import appointment_ics

S = AppointmentStatus
EMAIL_ONLY = (EMAIL_AND_APP[0],)


def when(moment: datetime, timezone: str) -> str:
    """'Tue 08 Dec 2026, 09:30 CET (Europe/Madrid)' (Spanish: 'mar 8 dic 2026, 09:30 CET
    (Europe/Madrid)'): the recipient's language (delivery renders in it)."""
    shown = moment.astimezone(zone(timezone))
    return f"{format_dt(shown, '%a %d %b %Y, %H:%M')} {shown.tzname()} ({timezone})"


def _appointment(data: dict) -> Appointment:
    appointment = db.session.get(Appointment, data["appointment_id"])
    if appointment is None:
        raise Gone(f"appointment {data['appointment_id']} is gone")
    return appointment


def _is_video(appointment: Appointment) -> bool:
    return appointment.slot.mode is SlotMode.VIDEO


def _visit(appointment: Appointment) -> tuple[str, list[tuple[str, str]]]:
    """('Video visit with Dr Ann Lee on ...', detail rows) for either side."""
    doctor = appointment.doctor
    clinic = doctor.clinic
    video = _is_video(appointment)
    at = when(appointment.starts_at, doctor.timezone)
    details = [
        (_("When"), at),
        (_("Doctor"), doctor.name),
        (_("Patient"), appointment.patient.name),
    ]
    if clinic is not None:
        place = _("By video") if video else ", ".join(p for p in (clinic.address, clinic.city) if p)
        details.append((_("Clinic"), clinic.name))
        details.append((_("Where"), place or clinic.city))
    names = {"doctor": doctor.name, "when": at}
    if video:
        return _("Video visit with %(doctor)s on %(when)s", **names), details
    return _("Visit with %(doctor)s on %(when)s", **names), details


def _names(appointment: Appointment) -> dict[str, str]:
    """What the sentences about a visit fill in: the doctor, when, the patient, short when."""
    return {
        "doctor": appointment.doctor.name,
        "when": when(appointment.starts_at, appointment.doctor.timezone),
        "patient": appointment.patient.name,
        "short": _short(appointment),
    }


def _patient_link(appointment: Appointment) -> tuple[str, str]:
    return (
        _("See the appointment"),
        public_url("patient.appointment", appointment_id=appointment.id),
    )


def _doctor_link(appointment: Appointment) -> tuple[str, str]:
    return (
        _("Open the appointment"),
        public_url("doctor.appointment_page", appointment_id=appointment.id),
    )


def _invite(appointment: Appointment, user: User) -> bytes:
    return appointment_ics(appointment, now=utcnow(), invite_to=user.email)


def _short(appointment: Appointment) -> str:
    shown = appointment.starts_at.astimezone(zone(appointment.doctor.timezone))
    return f"{format_dt(shown, '%a %d %b, %H:%M')} {shown.tzname()}"


# --- appointments -------------------------------------------------------------------------
# Every text is gettext'ed when rendered: delivery renders in the recipient's language
# (app/i18n.py, recipient_locale), the inbox in the reader's.


@kind("appointment.confirmed", category="appointments")
def confirmed(data: dict, user: User) -> Message:
    appointment = _appointment(data)
    visit, details = _visit(appointment)
    names = _names(appointment)
    return Message(
        subject=_("Booked: %(visit)s", visit=visit),
        lines=[
            _("Your video visit with %(doctor)s on %(when)s is confirmed.", **names)
            if _is_video(appointment)
            else _("Your visit with %(doctor)s on %(when)s is confirmed.", **names),
            _("The calendar invitation attached keeps your calendar up to date if it changes."),
        ],
        action=_patient_link(appointment),
        details=details,
        ics=lambda: _invite(appointment, user),
    )


@kind("appointment.booked_for_doctor", category="appointments")
def booked_for_doctor(data: dict, user: User) -> Message:
    appointment = _appointment(data)
    _visit_title, details = _visit(appointment)
    names = _names(appointment)
    return Message(
        subject=_("New booking: %(patient)s, %(short)s", **names),
        lines=[_("%(patient)s booked %(short)s.", **names)],
        action=_doctor_link(appointment),
        details=details,
    )


@kind("appointment.awaiting_approval", category="appointments")
def awaiting_approval(data: dict, user: User) -> Message:
    appointment = _appointment(data)
    _visit_title, details = _visit(appointment)
    names = _names(appointment)
    return Message(
        subject=_("Booking request: %(patient)s, %(short)s", **names),
        lines=[
            _("%(patient)s asks to book %(short)s.", **names),
            _("Approve or decline it from your dashboard; the slot is held until you answer."),
        ],
        action=_doctor_link(appointment),
        details=details,
    )


@kind("appointment.approved", category="appointments")
def approved(data: dict, user: User) -> Message:
    appointment = _appointment(data)
    visit, details = _visit(appointment)
    return Message(
        subject=_("Approved: %(visit)s", visit=visit),
        lines=[
            _(
                "%(doctor)s approved your request. Your visit is confirmed.",
                doctor=appointment.doctor.name,
            )
        ],
        action=_patient_link(appointment),
        details=details,
        ics=lambda: _invite(appointment, user),
    )


@kind("appointment.rejected", category="appointments")
def rejected(data: dict, user: User) -> Message:
    appointment = _appointment(data)
    visit, details = _visit(appointment)
    lines = [_("%(doctor)s could not accept your request for %(short)s.", **_names(appointment))]
    if appointment.payment_method.value == "card":
        lines.append(_("Nothing was charged: the hold on your card has been released."))
    lines.append(_("You can book another time from the doctor's page."))
    return Message(
        subject=_("Request declined: %(visit)s", visit=visit),
        lines=lines,
        action=(
            _("Find another time"),
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
    short = _short(appointment)
    lines = [
        _("The visit moved to %(short)s (was %(before)s).", short=short, before=_short(old))
        if old is not None
        else _("The visit moved to %(short)s.", short=short)
    ]
    if is_patient:
        lines.append(_("The calendar invitation attached updates the event in your calendar."))
    return Message(
        subject=_("Moved: %(visit)s", visit=visit),
        lines=lines,
        action=_patient_link(appointment) if is_patient else _doctor_link(appointment),
        details=details,
        sms=_("Carebook: your visit moved to %(short)s.", short=short) if is_patient else None,
        ics=(lambda: _invite(appointment, user)) if is_patient else None,
    )


@kind("appointment.cancelled", category="appointments", essential=True, channels=ALL)
def cancelled(data: dict, user: User) -> Message:
    appointment = _appointment(data)
    visit, details = _visit(appointment)
    is_patient = user.id == appointment.patient_id
    by = data.get("by")
    short = _short(appointment)
    if by in ("patient", "doctor"):
        who = appointment.patient.name if by == "patient" else appointment.doctor.name
        lines = [_("%(who)s cancelled the visit of %(short)s.", who=who, short=short)]
    else:
        lines = [_("The clinic cancelled the visit of %(short)s.", short=short)]
    reason = appointment.cancellation_reason
    if by == "clinic" and reason and reason != "cancelled by clinic":
        lines.append(_("The reason given: %(reason)s", reason=reason))
    refund = data.get("refund_amount")
    if is_patient and refund:
        money = format_money(refund, appointment.fee_currency)
        lines.append(
            _("%(amount)s goes back to your card; banks take a few days to show it.", amount=money)
        )
    elif is_patient and appointment.payment_method.value == "card":
        lines.append(_("No refund is due under the clinic's cancellation policy."))
    return Message(
        subject=_("Cancelled: %(visit)s", visit=visit),
        lines=lines,
        action=_patient_link(appointment) if is_patient else _doctor_link(appointment),
        details=details,
        sms=_("Carebook: your visit of %(short)s was cancelled.", short=short)
        if is_patient
        else None,
        ics=(lambda: _invite(appointment, user)) if is_patient else None,
    )


@kind("appointment.approval_lapsed", category="appointments", essential=True)
def approval_lapsed(data: dict, user: User) -> Message:
    appointment = _appointment(data)
    visit, details = _visit(appointment)
    return Message(
        subject=_("Request not answered: %(visit)s", visit=visit),
        lines=[
            _(
                "%(doctor)s did not answer your request in time, so it was withdrawn. Nothing "
                "was charged.",
                doctor=appointment.doctor.name,
            ),
            _("You can book another time from the doctor's page."),
        ],
        action=(
            _("Find another time"),
            public_url("patient.doctor", doctor_id=appointment.doctor_id),
        ),
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
    names = _names(appointment)
    return Message(
        subject=_("Reminder: %(visit)s", visit=visit),
        lines=[
            _("This is a reminder of your video visit with %(doctor)s on %(when)s.", **names)
            if _is_video(appointment)
            else _("This is a reminder of your visit with %(doctor)s on %(when)s.", **names),
            _(
                "If you cannot come, cancel or move it from the appointment page so that "
                "someone else can take the time."
            ),
        ],
        action=_patient_link(appointment),
        details=details,
        sms=_("Carebook reminder: %(doctor)s, %(short)s.", **names),
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
        subject=_("%(doctor)s accepted your consult: join the video visit now", doctor=doctor.name),
        lines=[
            _(
                "%(doctor)s accepted your %(specialty)s consult and is waiting for you in the "
                "video visit.",
                doctor=doctor.name,
                specialty=consult.specialty.name,
            ),
        ],
        action=(_("Join the video visit"), absolute_url(f"/visits/{data['appointment_id']}")),
    )


@kind("consult.expired", category="appointments", essential=True)
def consult_expired(data: dict, user: User) -> Message:
    consult = _consult(data)
    lines = [
        _(
            "No %(specialty)s doctor could take your consult in time.",
            specialty=consult.specialty.name,
        )
    ]
    if consult.stripe_payment_intent_id:
        lines.append(_("Nothing was charged: the hold on your card has been released."))
    lines.append(_("You can ask again, or book a visit with a doctor."))
    return Message(
        subject=_("Your consult request expired"),
        lines=lines,
        action=(_("Find a doctor"), public_url("patient.search")),
    )


# --- payments -----------------------------------------------------------------------------


@kind("payment.refunded", category="payments", essential=True)
def refunded(data: dict, user: User) -> Message:
    appointment = _appointment(data)
    money = format_money(data["amount"], data.get("currency") or appointment.fee_currency)
    _visit_title, details = _visit(appointment)
    action = _patient_link(appointment)
    if data.get("refund_id"):
        action = (
            _("Download the receipt"),
            public_url("payments.refund_receipt", refund_id=data["refund_id"]),
        )
    return Message(
        subject=_("Refund issued: %(amount)s", amount=money),
        lines=[
            _(
                "We refunded %(amount)s to your card. Banks take a few days to show it.",
                amount=money,
            )
        ],
        action=action,
        details=details,
    )


@kind("payment.released", category="payments", essential=True)
def released(data: dict, user: User) -> Message:
    appointment = _appointment(data)
    _visit_title, details = _visit(appointment)
    return Message(
        subject=_("Card hold released: nothing was charged"),
        lines=[
            _(
                "The hold on your card for the visit of %(short)s has ended and nothing was "
                "charged. The visit is not booked.",
                short=_short(appointment),
            ),
        ],
        action=(_("Book again"), public_url("patient.doctor", doctor_id=appointment.doctor_id)),
        details=details,
    )


@kind("payment.refunded_slot_taken", category="payments", essential=True)
def refunded_slot_taken(data: dict, user: User) -> Message:
    appointment = _appointment(data)
    money = format_money(data["amount"], appointment.fee_currency)
    return Message(
        subject=_("Payment refunded: the time was taken (%(amount)s)", amount=money),
        lines=[
            _(
                "Your payment arrived after the hold on %(short)s ended and someone else booked "
                "that time. We refund all of it (%(amount)s).",
                short=_short(appointment),
                amount=money,
            ),
        ],
        action=(
            _("Pick another time"),
            public_url("patient.doctor", doctor_id=appointment.doctor_id),
        ),
    )


@kind("payment.not_recorded_refunded", category="payments", essential=True)
def not_recorded(data: dict, user: User) -> Message:
    appointment = _appointment(data)
    return Message(
        subject=_("Payment failed: your money is refunded"),
        lines=[
            _(
                "We could not complete your booking of %(short)s, so the payment was refunded "
                "in full. Please try booking again.",
                short=_short(appointment),
            ),
        ],
        action=(_("Book again"), public_url("patient.doctor", doctor_id=appointment.doctor_id)),
    )


# --- waitlist -----------------------------------------------------------------------------


@kind("waitlist.slot_free", category="waitlist", channels=ALL)
def slot_free(data: dict, user: User) -> Message:
    doctor = db.session.get(Doctor, data["doctor_id"])
    start = datetime.fromisoformat(data["start"])
    names = {"doctor": doctor.name, "when": when(start, doctor.timezone)}
    return Message(
        subject=_("A time came free with %(doctor)s: %(when)s", **names),
        lines=[
            _("A time you were waiting for came free: %(when)s with %(doctor)s.", **names),
            _("It goes to whoever books first."),
        ],
        action=(_("Book it"), public_url("patient.book", slot_id=data["slot_id"])),
        sms=_("Carebook: %(doctor)s has a free time %(when)s. First to book gets it.", **names),
    )


# --- accounts -----------------------------------------------------------------------------


@kind("account.staff_created", category="account", essential=True, channels=EMAIL_ONLY)
def staff_created(data: dict, user: User) -> Message:
    return Message(
        subject=_("Choose your Carebook password"),
        lines=[
            _("Hello %(name)s,", name=user.name),
            _(
                "A Carebook account was opened for you. Choose your password with the link "
                "below (it works once, within %(hours)s hours).",
                hours=data["hours"],
            ),
        ],
        action=(_("Choose a password"), sealing.unseal(data["link_sealed"])),
    )


@kind("doctor_application.verified", category="account", essential=True, channels=EMAIL_ONLY)
def application_verified(data: dict, user: User) -> Message:
    return Message(
        subject=_("Welcome to Carebook: choose your password"),
        lines=[
            _("Hello %(name)s,", name=user.name),
            _(
                "Your application to join Carebook as a doctor was verified, and your account "
                "is open. Choose your password with the link below (it works once, within "
                "%(hours)s hours); then set up your profile and your free times.",
                hours=data["hours"],
            ),
        ],
        action=(_("Choose a password"), sealing.unseal(data["link_sealed"])),
    )


@kind("doctor_application.declined", category="account", essential=True, channels=EMAIL_ONLY)
def application_declined(data: dict, user: User | None) -> Message:
    """To the applicant's address: there is no account (outbox.notify_address)."""
    return Message(
        subject=_("Your application to join Carebook"),
        lines=[
            _("Hello %(name)s,", name=data["name"]),
            _(
                "Thank you for applying to join Carebook as a doctor. We could not verify your "
                "application, for this reason:"
            ),
            data["reason"],
            _("You may apply again once this is resolved."),
        ],
        action=(_("Apply again"), public_url("main.doctor_apply")),
    )


@kind("account.password_reset", category="account", essential=True, channels=EMAIL_ONLY)
def password_reset(data: dict, user: User) -> Message:
    return Message(
        subject=_("Reset your Carebook password"),
        lines=[
            _("Hello %(name)s,", name=user.name),
            _(
                "To choose a new password, open the link below within %(minutes)s minutes. It "
                "works once. If you did not ask for it, ignore this email: your password stays "
                "as it is.",
                minutes=data["minutes"],
            ),
        ],
        action=(_("Choose a new password"), sealing.unseal(data["link_sealed"])),
    )


@kind("account.password_changed", category="account", essential=True, channels=EMAIL_ONLY)
def password_changed(data: dict, user: User) -> Message:
    return Message(
        subject=_("Your Carebook password was changed"),
        lines=[
            _("Hello %(name)s,", name=user.name),
            _(
                "The password of your Carebook account was just changed and your other "
                "sessions were signed out. If this was not you, reset your password now and "
                "contact us."
            ),
        ],
    )


@kind("account.email_changed", category="account", essential=True, channels=EMAIL_ONLY)
def email_changed(data: dict, user: User) -> Message:
    return Message(
        subject=_("Your Carebook email address was changed"),
        lines=[
            _("Hello %(name)s,", name=user.name),
            _(
                "Your Carebook account now uses %(email)s. If this was not you, contact us at "
                "once.",
                email=data["new_email"],
            ),
        ],
    )


@kind("account.registration_attempt", category="account", essential=True, channels=EMAIL_ONLY)
def registration_attempt(data: dict, user: User) -> Message:
    return Message(
        subject=_("Someone tried to create a Carebook account with your email"),
        lines=[
            _("Hello,"),
            _(
                "Someone (perhaps you) tried to create a new Carebook account with %(email)s, "
                "which already has one. If it was you, sign in instead, or reset your password "
                "from the sign-in page if you forgot it. If it was not you, you can ignore this "
                "email: nothing has changed.",
                email=user.email,
            ),
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
    _visit_title, details = _visit(appointment)
    names = _names(appointment)
    return Message(
        subject=_("How was your visit with %(doctor)s?", **names),
        lines=[
            _("Thank you for your video visit with %(doctor)s on %(when)s.", **names)
            if _is_video(appointment)
            else _("Thank you for your visit with %(doctor)s on %(when)s.", **names),
            _(
                "A rating and a few words help other patients choose, and help the doctor. You "
                "can review the visit from its page (and change it for 14 days)."
            ),
        ],
        action=(
            _("Review the visit"),
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
        subject=_("Your review of %(doctor)s was hidden", doctor=review.doctor.name),
        lines=[
            _(
                "Our moderators hid your review of %(doctor)s: it no longer shows on the "
                "doctor's page nor counts in their rating.",
                doctor=review.doctor.name,
            ),
            _("The reason given: %(reason)s", reason=data["reason"]),
        ],
        action=(
            _("See the visit"),
            public_url("patient.appointment", appointment_id=review.appointment_id),
        ),
    )


@kind("review.restored", category="reviews", essential=True)
def review_restored(data: dict, user: User) -> Message:
    review = _review(data)
    return Message(
        subject=_("Your review of %(doctor)s is shown again", doctor=review.doctor.name),
        lines=[
            _(
                "Our moderators restored your review of %(doctor)s: it shows on the doctor's "
                "page and counts in their rating again.",
                doctor=review.doctor.name,
            ),
            *(
                [_("The reason given: %(reason)s", reason=data["reason"])]
                if data.get("reason")
                else []
            ),
        ],
        action=(
            _("See the doctor's page"),
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
        subject=_("A webhook endpoint of %(clinic)s was disabled", clinic=endpoint.clinic.name),
        lines=[
            _(
                "Carebook stopped sending events to %(url)s: its last %(failures)s deliveries "
                "failed after a day of retries each.",
                url=endpoint.url,
                failures=data["failures"],
            ),
            _("The last error: %(error)s", error=data.get("error") or _("none recorded")),
            _(
                "Fix the receiver, enable the endpoint again and replay what it missed from the "
                "admin page."
            ),
        ],
        action=(_("Open the endpoint"), public_url("admin.webhook", endpoint_id=endpoint.id)),
    )
