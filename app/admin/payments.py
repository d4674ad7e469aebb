"""Admin pages for payments: search, a payment with its refunds, staff refunds, disputes."""

from datetime import UTC, datetime

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user

from app.admin import bp, form_error
from app.admin.forms import PaymentSearchForm, RefundForm
from app.models import PaymentStatus
from app.rbac import permission_required
from app.services.access import has_permission
from app.services.chat import conversations
from app.services.chat.rules import AUDIT_PERMISSION
from app.services.errors import DomainError
from app.services.l10n import format_number
from app.services.payments import refunds, reports
from app.services.payments.money import to_major, to_minor
from app.services.payments.settle import PaymentProviderUnavailable


@bp.route("/payments")
@permission_required("payments.view")
def payments():
    form = PaymentSearchForm(request.args)
    if not form.validate():
        return render_template("admin/payments.html", form=form, results=None), 422
    try:
        results = reports.search_payments(
            reports.PaymentQuery(
                patient=form.patient.data,
                appointment_id=form.appointment_id.data,
                payment_intent_id=form.payment_intent_id.data,
                status=PaymentStatus(form.status.data) if form.status.data else None,
                since=form.since.data,
                until=form.until.data,
            ),
            page=form.page.data or 1,
        )
    except DomainError as exc:
        form_error(form, exc)
        return render_template("admin/payments.html", form=form, results=None), exc.status_code
    return render_template("admin/payments.html", form=form, results=results)


@bp.route("/payments/disputes")
@permission_required("payments.view")
def disputes():
    return render_template("admin/disputes.html", payments=reports.open_disputes())


@bp.route("/payments/<int(max=2147483647):payment_id>")
@permission_required("payments.view")
def payment(payment_id: int):
    shown = reports.get_payment(payment_id)
    left = refunds.refundable_amount(shown)
    form = RefundForm(formdata=None, amount=to_major(left) if left else None)
    return _payment_page(shown, form)


@bp.route("/payments/<int(max=2147483647):payment_id>/refunds", methods=["POST"])
@permission_required("payments.refund")
def refund(payment_id: int):
    form = RefundForm()
    if not form.validate_on_submit():
        return _payment_page(reports.get_payment(payment_id), form, 422)
    try:
        refunded = refunds.refund_payment(
            payment_id=payment_id,
            amount=to_minor(form.amount.data),
            reason=form.reason.data,
            actor_id=current_user.id,
            now=datetime.now(UTC),
        )
    except PaymentProviderUnavailable as exc:
        # The refund is decided and recorded: reconciliation sends it once Stripe answers.
        flash(exc.message, "error")
        return redirect(url_for("admin.payment", payment_id=payment_id))
    except DomainError as exc:
        form_error(form, exc)
        return _payment_page(reports.get_payment(payment_id), form, exc.status_code)
    flash(
        gettext(
            "Refunded %(amount)s %(currency)s to %(name)s.",
            amount=format_number(form.amount.data, "#,##0.00"),
            currency=refunded.currency,
            name=refunded.appointment.patient.name,
        ),
        "success",
    )
    return redirect(url_for("admin.payment", payment_id=payment_id))


def _payment_page(payment, form, status: int = 200):
    # A disputed payment links the patient's conversation with the doctor for staff who may
    # audit it (the evidence of what was agreed); the opening itself is audited.
    conversation_id = None
    if payment.dispute_id and has_permission(current_user, AUDIT_PERMISSION):
        appointment = payment.appointment
        conversation_id = conversations.conversation_id_between(
            appointment.patient_id, appointment.doctor_id
        )
    return render_template(
        "admin/payment.html",
        payment=payment,
        form=form,
        refundable=refunds.refundable_amount(payment),
        can_refund=has_permission(current_user, "payments.refund"),
        conversation_id=conversation_id,
    ), status
