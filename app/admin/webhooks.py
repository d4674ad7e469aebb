"""Clinics' webhooks (integrations.manage): endpoints, their delivery log, replays."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext
from wtforms.fields.choices import SelectChoice

from app.admin import acting, actor_and_ip, bp, form_error
from app.admin.forms import ConfirmForm, WebhookEndpointForm
from app.rbac import permission_required
from app.services import directory
from app.services.errors import DomainError
from app.services.webhooks import endpoints
from app.services.webhooks.delivery import PERMISSION
from app.services.webhooks.events import EVENT_LABELS

ID = "int(max=2147483647)"


@bp.route("/webhooks")
@permission_required(PERMISSION)
def webhooks():
    actor_id = actor_and_ip()["actor_id"]
    listed = endpoints.list_endpoints(actor_id=actor_id)
    return render_template(
        "admin/webhooks.html",
        endpoints=listed,
        last=endpoints.last_statuses([e.id for e in listed]),
    )


def _form(endpoint=None) -> WebhookEndpointForm:
    form = WebhookEndpointForm(obj=endpoint)
    if endpoint is not None and request.method == "GET":
        form.clinic_id.data = str(endpoint.clinic_id)
        form.events.data = endpoint.events
    form.clinic_id.choices = [SelectChoice(str(c.id), c.name) for c in directory.list_clinics()]
    return form


def _form_page(form, endpoint, status: int = 200):
    return render_template("admin/webhook_form.html", form=form, endpoint=endpoint), status


@bp.route("/webhooks/new", methods=["GET", "POST"])
@permission_required(PERMISSION)
def new_webhook():
    form = _form()
    if not form.validate_on_submit():
        return _form_page(form, None, 422 if form.errors else 200)
    try:
        endpoint, _ = endpoints.register_endpoint(
            clinic_id=int(form.clinic_id.data),
            url=form.url.data,
            events=form.events.data,
            description=form.description.data,
            **acting(),
        )
    except DomainError as exc:
        form_error(form, exc)
        return _form_page(form, None, exc.status_code)
    flash(gettext("Endpoint registered. Copy its signing secret into the receiver."), "success")
    return redirect(url_for("admin.webhook", endpoint_id=endpoint.id))


@bp.route(f"/webhooks/<{ID}:endpoint_id>/edit", methods=["GET", "POST"])
@permission_required(PERMISSION)
def edit_webhook(endpoint_id: int):
    actor_id = actor_and_ip()["actor_id"]
    endpoint = endpoints.get_endpoint(actor_id=actor_id, endpoint_id=endpoint_id)
    form = _form(endpoint)
    del form.clinic_id  # an endpoint stays with its clinic
    if not form.validate_on_submit():
        return _form_page(form, endpoint, 422 if form.errors else 200)
    try:
        endpoints.update_endpoint(
            endpoint_id=endpoint_id,
            url=form.url.data,
            events=form.events.data,
            description=form.description.data,
            **acting(),
        )
    except DomainError as exc:
        form_error(form, exc)
        return _form_page(form, endpoint, exc.status_code)
    flash(gettext("Endpoint saved."), "success")
    return redirect(url_for("admin.webhook", endpoint_id=endpoint_id))


@bp.route(f"/webhooks/<{ID}:endpoint_id>")
@permission_required(PERMISSION)
def webhook(endpoint_id: int):
    actor_id = actor_and_ip()["actor_id"]
    endpoint = endpoints.get_endpoint(actor_id=actor_id, endpoint_id=endpoint_id)
    return render_template(
        "admin/webhook.html",
        endpoint=endpoint,
        secret=endpoints.endpoint_secret(actor_id=actor_id, endpoint_id=endpoint_id),
        deliveries=endpoints.deliveries(
            actor_id=actor_id, endpoint_id=endpoint_id, page=request.args.get("page", 1, int)
        ),
        labels=EVENT_LABELS,
    )


def _confirmed_post(endpoint_id: int, action, done: str):
    back = url_for("admin.webhook", endpoint_id=endpoint_id)
    if not ConfirmForm().validate():
        flash(gettext("The form expired: try again."), "error")
        return redirect(back)
    try:
        action()
    except DomainError as exc:
        flash(exc.message, "error")
    else:
        flash(done, "success")
    return redirect(back)


@bp.route(f"/webhooks/<{ID}:endpoint_id>/enable", methods=["POST"])
@permission_required(PERMISSION)
def enable_webhook(endpoint_id: int):
    return _confirmed_post(
        endpoint_id,
        lambda: endpoints.set_enabled(endpoint_id=endpoint_id, enabled=True, **acting()),
        gettext("Endpoint enabled: new events go to it again."),
    )


@bp.route(f"/webhooks/<{ID}:endpoint_id>/disable", methods=["POST"])
@permission_required(PERMISSION)
def disable_webhook(endpoint_id: int):
    return _confirmed_post(
        endpoint_id,
        lambda: endpoints.set_enabled(endpoint_id=endpoint_id, enabled=False, **acting()),
        gettext("Endpoint disabled: no events go to it."),
    )


@bp.route(f"/webhooks/<{ID}:endpoint_id>/delete", methods=["POST"])
@permission_required(PERMISSION)
def delete_webhook(endpoint_id: int):
    if not ConfirmForm().validate():
        flash(gettext("The form expired: try again."), "error")
        return redirect(url_for("admin.webhook", endpoint_id=endpoint_id))
    try:
        endpoints.delete_endpoint(endpoint_id=endpoint_id, **actor_and_ip())
    except DomainError as exc:
        flash(exc.message, "error")
        return redirect(url_for("admin.webhooks"))
    flash(gettext("Endpoint deleted, with its delivery log."), "success")
    return redirect(url_for("admin.webhooks"))


@bp.route(f"/webhooks/deliveries/<{ID}:delivery_id>/replay", methods=["POST"])
@permission_required(PERMISSION)
def replay_webhook(delivery_id: int):
    endpoint_id = request.args.get("endpoint", type=int)
    back = (
        url_for("admin.webhook", endpoint_id=endpoint_id)
        if endpoint_id
        else url_for("admin.webhooks")
    )
    if not ConfirmForm().validate():
        flash(gettext("The form expired: try again."), "error")
        return redirect(back)
    try:
        replay = endpoints.replay_delivery(delivery_id=delivery_id, **acting())
    except DomainError as exc:
        flash(exc.message, "error")
    else:
        flash(
            gettext(
                "Delivery %(id)s is sent again as delivery %(replay)s.",
                id=delivery_id,
                replay=replay.id,
            ),
            "success",
        )
    return redirect(back)
