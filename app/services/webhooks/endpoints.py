"""Managing a clinic's webhook endpoints (integrations.manage): register, edit, enable,
disable, delete, read the delivery log and replay a delivery. Every change is audited.

A URL is checked (addresses.check_url) when it is registered or changed, and again at each
delivery. The signing secret is generated here, stored sealed, and shown to managers on the
endpoint's page.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from datetime import datetime

from flask_babel import gettext, lazy_gettext
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.models import (
    Clinic,
    WebhookDelivery,
    WebhookDeliveryStatus,
    WebhookEndpoint,
    WebhookSubscription,
)
from app.services import access, audit, sealing
from app.services.errors import ClinicNotFound, Forbidden, InvalidInput, NotFound
from app.services.transaction import use_case
from app.services.webhooks import addresses
from app.services.webhooks.delivery import PERMISSION
from app.services.webhooks.events import EVENTS, NEW

MAX_DESCRIPTION = 200


class EndpointNotFound(NotFound):
    code = "webhook_endpoint_not_found"
    default_message = lazy_gettext("There is no such webhook endpoint.")


class DeliveryNotFound(NotFound):
    code = "webhook_delivery_not_found"
    default_message = lazy_gettext("There is no such webhook delivery.")


def _require_manager(actor_id: int) -> None:
    if not access.has_permission(access.load_actor(actor_id), PERMISSION):
        raise Forbidden(gettext("Only staff who manage integrations can do that."))


def _endpoint(endpoint_id: int, *, lock: bool = False) -> WebhookEndpoint:
    statement = select(WebhookEndpoint).where(WebhookEndpoint.id == endpoint_id)
    if lock:
        statement = statement.with_for_update()
    endpoint = db.session.scalar(statement)
    if endpoint is None:
        raise EndpointNotFound()
    return endpoint


def _events(events: Iterable[str]) -> list[str]:
    chosen = sorted(set(events))
    unknown = [e for e in chosen if e not in EVENTS]
    if unknown:
        raise InvalidInput(
            gettext("Unknown events: %(events)s.", events=", ".join(unknown)), field="events"
        )
    if not chosen:
        raise InvalidInput(gettext("Choose at least one event."), field="events")
    return chosen


def _description(description: str | None) -> str | None:
    text = (description or "").strip()
    if len(text) > MAX_DESCRIPTION:
        raise InvalidInput(
            gettext("The description is at most %(most)s characters.", most=MAX_DESCRIPTION),
            field="description",
        )
    return text or None


def _subscribe(endpoint: WebhookEndpoint, events: list[str]) -> None:
    """Keep the rows of events still chosen (a row deleted and added again in one flush
    would collide on its key), drop the others, add the new ones."""
    kept = [s for s in endpoint.subscriptions if s.event in events]
    have = {s.event for s in kept}
    endpoint.subscriptions = kept + [WebhookSubscription(event=e) for e in events if e not in have]


@use_case
def register_endpoint(
    *,
    actor_id: int,
    clinic_id: int,
    url: str,
    events: Iterable[str],
    description: str | None = None,
    now: datetime,
    ip: str | None = None,
) -> tuple[WebhookEndpoint, str]:
    """Register an endpoint of `clinic_id` for `events`; returns it and its signing secret.
    Raises Forbidden, ClinicNotFound, InvalidInput (events, description), UnsafeURL (the URL
    is malformed or resolves to an address webhooks may not reach)."""
    _require_manager(actor_id)
    if db.session.get(Clinic, clinic_id) is None:
        raise ClinicNotFound(field="clinic_id")
    chosen = _events(events)
    text = _description(description)
    target_url = url.strip()
    addresses.check_url(target_url)
    secret = "whsec_" + secrets.token_urlsafe(32)
    endpoint = WebhookEndpoint(
        clinic_id=clinic_id,
        url=target_url,
        description=text,
        secret_sealed=sealing.seal(secret),
        enabled=True,
        consecutive_failures=0,
        created_by_id=actor_id,
        created_at=now,
        updated_at=now,
    )
    _subscribe(endpoint, chosen)
    db.session.add(endpoint)
    db.session.flush()
    audit.record(
        "webhook.registered",
        actor_id=actor_id,
        target_type="webhook_endpoint",
        target_id=endpoint.id,
        data={"clinic_id": clinic_id, "url": target_url, "events": chosen},
        ip=ip,
    )
    return endpoint, secret


@use_case
def update_endpoint(
    *,
    actor_id: int,
    endpoint_id: int,
    url: str,
    events: Iterable[str],
    description: str | None = None,
    now: datetime,
    ip: str | None = None,
) -> WebhookEndpoint:
    """Change an endpoint's URL, events and description (the secret stays). Raises
    Forbidden, EndpointNotFound, InvalidInput, UnsafeURL."""
    _require_manager(actor_id)
    endpoint = _endpoint(endpoint_id, lock=True)
    chosen = _events(events)
    text = _description(description)
    target_url = url.strip()
    if target_url != endpoint.url:
        addresses.check_url(target_url)
    before = {"url": endpoint.url, "events": endpoint.events}
    endpoint.url, endpoint.description, endpoint.updated_at = target_url, text, now
    _subscribe(endpoint, chosen)
    audit.record(
        "webhook.updated",
        actor_id=actor_id,
        target_type="webhook_endpoint",
        target_id=endpoint.id,
        data={"before": before, "url": target_url, "events": chosen},
        ip=ip,
    )
    return endpoint


@use_case
def set_enabled(
    *, actor_id: int, endpoint_id: int, enabled: bool, now: datetime, ip: str | None = None
) -> WebhookEndpoint:
    """Enable (the failure count starts again) or disable an endpoint. Raises Forbidden,
    EndpointNotFound."""
    _require_manager(actor_id)
    endpoint = _endpoint(endpoint_id, lock=True)
    if endpoint.enabled == enabled:
        return endpoint
    endpoint.enabled = enabled
    endpoint.updated_at = now
    if enabled:
        endpoint.consecutive_failures = 0
        endpoint.disabled_at = endpoint.disabled_reason = None
    else:
        endpoint.disabled_at, endpoint.disabled_reason = now, "disabled by staff"
    audit.record(
        "webhook.enabled" if enabled else "webhook.disabled",
        actor_id=actor_id,
        target_type="webhook_endpoint",
        target_id=endpoint.id,
        ip=ip,
    )
    return endpoint


@use_case
def delete_endpoint(*, actor_id: int, endpoint_id: int, ip: str | None = None) -> None:
    """Remove an endpoint and its delivery log. Raises Forbidden, EndpointNotFound."""
    _require_manager(actor_id)
    endpoint = _endpoint(endpoint_id, lock=True)
    audit.record(
        "webhook.deleted",
        actor_id=actor_id,
        target_type="webhook_endpoint",
        target_id=endpoint.id,
        data={"clinic_id": endpoint.clinic_id, "url": endpoint.url},
        ip=ip,
    )
    db.session.delete(endpoint)


@use_case
def replay_delivery(
    *, actor_id: int, delivery_id: int, now: datetime, ip: str | None = None
) -> WebhookDelivery:
    """Send a delivery again: a new delivery of the same event (same id and body, so the
    receiver can tell a repeat) to the same endpoint, freshly signed when it goes. Raises
    Forbidden, DeliveryNotFound, InvalidInput (still pending; the endpoint is disabled)."""
    _require_manager(actor_id)
    original = db.session.get(WebhookDelivery, delivery_id)
    if original is None:
        raise DeliveryNotFound()
    if original.status is WebhookDeliveryStatus.PENDING:
        raise InvalidInput(gettext("Delivery %(id)s is still being tried.", id=original.id))
    if not original.endpoint.enabled:
        raise InvalidInput(gettext("Enable the endpoint before replaying its deliveries."))
    replay = WebhookDelivery(
        endpoint_id=original.endpoint_id,
        event_id=original.event_id,
        event=original.event,
        body=original.body,
        status=WebhookDeliveryStatus.PENDING,
        attempts=0,
        available_at=now,
        created_at=now,
        replay_of_id=original.id,
    )
    db.session.add(replay)
    db.session.flush()
    db.session.info.setdefault(NEW, []).append(replay.id)  # handed on after the commit
    audit.record(
        "webhook.replayed",
        actor_id=actor_id,
        target_type="webhook_delivery",
        target_id=original.id,
        data={"replay_id": replay.id, "endpoint_id": original.endpoint_id},
        ip=ip,
    )
    return replay


# --- reading --------------------------------------------------------------------------------


def list_endpoints(*, actor_id: int) -> list[WebhookEndpoint]:
    """Every endpoint, by clinic. Raises Forbidden."""
    _require_manager(actor_id)
    return list(
        db.session.scalars(
            select(WebhookEndpoint)
            .join(WebhookEndpoint.clinic)
            .options(selectinload(WebhookEndpoint.subscriptions))
            .order_by(Clinic.name, WebhookEndpoint.id)
        )
    )


def get_endpoint(*, actor_id: int, endpoint_id: int) -> WebhookEndpoint:
    """Raises Forbidden, EndpointNotFound."""
    _require_manager(actor_id)
    return _endpoint(endpoint_id)


def endpoint_secret(*, actor_id: int, endpoint_id: int) -> str:
    """The signing secret, for a manager setting up the receiver. Raises Forbidden,
    EndpointNotFound."""
    _require_manager(actor_id)
    return sealing.unseal(_endpoint(endpoint_id).secret_sealed)


def deliveries(*, actor_id: int, endpoint_id: int, page: int = 1, per_page: int = 25) -> Pagination:
    """The endpoint's deliveries, newest first, with their attempts. Raises Forbidden."""
    _require_manager(actor_id)
    statement = (
        select(WebhookDelivery)
        .where(WebhookDelivery.endpoint_id == endpoint_id)
        .options(selectinload(WebhookDelivery.attempt_log))
        .order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.id.desc())
    )
    return db.paginate(statement, page=max(page, 1), per_page=per_page, error_out=False)


def last_statuses(endpoint_ids: list[int]) -> dict[int, WebhookDelivery]:
    """The latest delivery of each endpoint (the list page's "last delivery" column)."""
    if not endpoint_ids:
        return {}
    latest = (
        select(func.max(WebhookDelivery.id))
        .where(WebhookDelivery.endpoint_id.in_(endpoint_ids))
        .group_by(WebhookDelivery.endpoint_id)
    )
    rows = db.session.scalars(select(WebhookDelivery).where(WebhookDelivery.id.in_(latest)))
    return {row.endpoint_id: row for row in rows}
