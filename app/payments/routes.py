"""Checkout pages (card entry, 3-D Secure, confirmation) and the Stripe webhook."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user
from flask_wtf import FlaskForm

from app.extensions import csrf
from app.models import Role
from app.payments import bp
from app.rbac import login_required, public, roles_required
from app.services.errors import DomainError
from app.services.payments import cards, events, receipts, settle
from app.services.scheduling import booking
from app.services.scheduling.policy import window_terms


def _now() -> datetime:
    return datetime.now(UTC)


def _checkout_url(appointment_id: int) -> str:
    return url_for("payments.checkout", appointment_id=appointment_id)


def _flash_error(exc: DomainError):
    if exc.status_code == 404:
        raise exc  # someone else's appointment: the 404 page, no hint it exists
    flash(exc.message, "error")


@bp.get("/checkout/<int:appointment_id>")
@roles_required(Role.PATIENT)
def checkout(appointment_id: int):
    """The held slot, its countdown and fee, and the card form."""
    try:
        session = cards.begin_checkout(
            appointment_id=appointment_id, patient_id=current_user.id, now=_now()
        )
    except settle.PaymentProviderUnavailable as exc:
        return render_template("payments/unavailable.html", message=exc.message), 503
    if session.status is cards.CheckoutStatus.CONFIRMED:
        return redirect(url_for("payments.done", appointment_id=appointment_id))
    return render_template(
        "payments/checkout.html",
        checkout=session,
        appointment=session.appointment,
        policy=window_terms(session.appointment.doctor.clinic),
        stripe_js_url=current_app.config["STRIPE_JS_URL"],
        form=FlaskForm(),
    )


@bp.post("/checkout/<int:appointment_id>/pay")
@roles_required(Role.PATIENT)
def pay(appointment_id: int):
    """The card form posts a Stripe.js token here; 3-D Secure continues on the page."""
    if not FlaskForm().validate():
        abort(400, gettext("The form has expired: please reload the page."))
    try:
        result = cards.pay_with_card(
            appointment_id=appointment_id,
            patient_id=current_user.id,
            card_token=request.form.get("card_token", ""),
            now=_now(),
        )
    except DomainError as exc:
        _flash_error(exc)
        return redirect(_checkout_url(appointment_id))
    if result.status is cards.CheckoutStatus.CONFIRMED:
        return redirect(url_for("payments.done", appointment_id=appointment_id))
    return redirect(_checkout_url(appointment_id))


@bp.post("/checkout/<int:appointment_id>/confirm")
@roles_required(Role.PATIENT)
def confirm(appointment_id: int):
    """The page's return call once Stripe.js has finished (the twin of the API's)."""
    if not FlaskForm().validate():
        abort(400, gettext("The form has expired: please reload the page."))
    try:
        cards.confirm_paid(appointment_id=appointment_id, actor_id=current_user.id, now=_now())
    except DomainError as exc:
        _flash_error(exc)
        return redirect(_checkout_url(appointment_id))
    return redirect(url_for("payments.done", appointment_id=appointment_id))


@bp.post("/checkout/<int:appointment_id>/abandon")
@roles_required(Role.PATIENT)
def abandon(appointment_id: int):
    """Give up the hold: the slot is free again and the card is not charged."""
    if not FlaskForm().validate():
        abort(400, gettext("The form has expired: please reload the page."))
    try:
        booking.cancel_appointment(
            appointment_id=appointment_id,
            actor_id=current_user.id,
            now=_now(),
            reason="checkout abandoned",
        )
    except DomainError as exc:
        _flash_error(exc)
        return redirect(_checkout_url(appointment_id))
    flash(gettext("Your hold is released: you have not been charged."), "success")
    return redirect(url_for("main.home"))


@bp.get("/checkout/<int:appointment_id>/done")
@roles_required(Role.PATIENT)
def done(appointment_id: int):
    """The confirmation page: the appointment, what was paid and any refunds."""
    appointment = booking.get_appointment(appointment_id=appointment_id, viewer_id=current_user.id)
    return render_template(
        "payments/done.html",
        appointment=appointment,
        payment=settle.latest_payment(appointment_id),
    )


@bp.get("/receipts/payments/<int(max=2147483647):payment_id>")
@login_required
def payment_receipt(payment_id: int):
    """A printable receipt of a card payment (the patient's own, or for payments staff)."""
    receipt = receipts.payment_receipt(payment_id=payment_id, viewer_id=current_user.id)
    return render_template("payments/receipt.html", receipt=receipt)


@bp.get("/receipts/refunds/<int(max=2147483647):refund_id>")
@login_required
def refund_receipt(refund_id: int):
    """A printable receipt of one refund."""
    receipt = receipts.refund_receipt(refund_id=refund_id, viewer_id=current_user.id)
    return render_template("payments/receipt.html", receipt=receipt)


@bp.post("/webhooks/stripe")
@public
@csrf.exempt
def stripe_webhook():
    """Stripe's events: signature checked on the raw body, each event applied once."""
    result = events.handle_webhook(
        payload=request.get_data(cache=False),
        signature=request.headers.get("Stripe-Signature"),
        now=_now(),
    )
    return jsonify({"received": True, "result": result})
