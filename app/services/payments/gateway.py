"""The one door to Stripe: PaymentIntents (manual capture), capture, cancel, refunds, webhooks.

Everything here talks to Stripe through the official `stripe` library and returns plain values
(`Intent`, `RefundResult`), so the payments service never handles Stripe objects. The calls stay
inside the subset a Stripe-compatible test server (localstripe) accepts: see ARCHITECTURE.md,
known pitfalls. Configuration is read from the Flask app: STRIPE_SECRET_KEY, STRIPE_API_BASE,
STRIPE_PUBLISHABLE_KEY, STRIPE_WEBHOOK_SECRET, STRIPE_TIMEOUT_SECONDS.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import stripe
from flask import current_app
from flask_babel import gettext

WEBHOOK_TOLERANCE_SECONDS = 300


class GatewayError(Exception):
    """Stripe refused the request (a bug or a state we did not expect)."""


class GatewayUnavailable(GatewayError):
    """Stripe could not be reached or failed on its side: retrying later may work."""


class CardRefused(GatewayError):
    """The card was declined; `message` is Stripe's text for the payer."""

    def __init__(self, message: str, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.code = code


class BadSignature(GatewayError):
    """A webhook whose Stripe-Signature header is missing, wrong or too old."""


@dataclass(frozen=True)
class Intent:
    """What we need to know about a PaymentIntent, re-read from Stripe."""

    id: str
    status: str
    amount: int
    currency: str
    client_secret: str | None
    metadata: dict
    charge_id: str | None = None
    amount_captured: int = 0
    amount_refunded: int = 0
    refunds: tuple[tuple[str, int], ...] = ()  # (refund id, amount)
    fee: int | None = None
    error_message: str | None = None
    extra: dict = field(default_factory=dict)


@dataclass(frozen=True)
class RefundResult:
    id: str
    amount: int
    status: str


def _client() -> stripe.StripeClient:
    config = current_app.config
    key = config.get("STRIPE_SECRET_KEY")
    if not key:
        raise GatewayUnavailable("Card payments are not configured (STRIPE_SECRET_KEY).")
    cache = current_app.extensions.setdefault("stripe_clients", {})
    base = config.get("STRIPE_API_BASE")
    timeout = config.get("STRIPE_TIMEOUT_SECONDS", 10.0)
    client = cache.get((key, base, timeout))
    if client is None:
        # A stalled Stripe raises APIConnectionError after `timeout` (GatewayUnavailable).
        http = stripe.RequestsClient(timeout=timeout)
        client = stripe.StripeClient(
            key,
            base_addresses={"api": base} if base else None,
            max_network_retries=0 if base else 2,
            http_client=http,
        )
        cache[(key, base, timeout)] = client
    return client


def is_configured() -> bool:
    """Whether card payments can be taken at all (a secret key is set)."""
    return bool(current_app.config.get("STRIPE_SECRET_KEY"))


def publishable_key() -> str | None:
    return current_app.config.get("STRIPE_PUBLISHABLE_KEY")


def is_test_server() -> bool:
    """True when STRIPE_API_BASE points at a Stripe-compatible server such as localstripe."""
    return bool(current_app.config.get("STRIPE_API_BASE"))


def _call(fn, *args, **kwargs):
    """Run one Stripe call, turning its errors into ours."""
    try:
        return fn(*args, **kwargs)
    except stripe.CardError as exc:
        raise CardRefused(exc.user_message or gettext("Your card was declined."), exc.code) from exc
    except (stripe.APIConnectionError, stripe.RateLimitError) as exc:
        raise GatewayUnavailable(str(exc)) from exc
    except stripe.APIError as exc:
        raise GatewayUnavailable(str(exc)) from exc
    except stripe.StripeError as exc:
        if (exc.http_status or 0) >= 500:
            raise GatewayUnavailable(str(exc)) from exc
        raise GatewayError(str(exc)) from exc


def _plain(obj) -> dict:
    return obj.to_dict() if hasattr(obj, "to_dict") else dict(obj)


def _get(obj, name, default=None):
    if not isinstance(obj, dict):
        return default
    value = obj.get(name)
    return default if value is None else value


def _intent(pi) -> Intent:
    pi = _plain(pi)
    charge = _get(pi, "latest_charge")
    if isinstance(charge, str):  # Stripe sends an id unless expanded; localstripe the object
        params = None if is_test_server() else {"expand": ["refunds", "balance_transaction"]}
        charge = _plain(_call(_client().v1.charges.retrieve, charge, params=params))
    error = _get(pi, "last_payment_error")
    captured = refunded = 0
    refunds: list[tuple[str, int]] = []
    fee = None
    if charge is not None and _get(charge, "status") == "succeeded":
        if _get(charge, "captured"):
            captured = int(_get(charge, "amount_captured", _get(charge, "amount", 0)) or 0)
        refunded = int(_get(charge, "amount_refunded", 0) or 0)
        refund_list = _get(charge, "refunds")
        for refund in _get(refund_list, "data", []) or []:
            refunds.append((refund["id"], int(refund["amount"])))
        txn = _get(charge, "balance_transaction")
        if txn is not None and not isinstance(txn, str):
            fee = _get(txn, "fee")
    return Intent(
        id=pi["id"],
        status=pi["status"],
        amount=int(pi["amount"]),
        currency=str(pi["currency"]).upper(),
        client_secret=_get(pi, "client_secret"),
        metadata=dict(_get(pi, "metadata", {}) or {}),
        charge_id=_get(charge, "id"),
        amount_captured=captured,
        amount_refunded=refunded,
        refunds=tuple(refunds),
        fee=fee,
        error_message=_get(error, "message"),
    )


def create_intent(
    *, amount: int, currency: str, appointment_id: int, attempt: int, idempotency_key: str
) -> Intent:
    """A manual-capture card PaymentIntent for an appointment (same key, same intent)."""
    return create_hold(
        amount=amount,
        currency=currency,
        metadata={"appointment_id": str(appointment_id), "attempt": str(attempt)},
        idempotency_key=idempotency_key,
    )


def create_hold(*, amount: int, currency: str, metadata: dict, idempotency_key: str) -> Intent:
    """A manual-capture card PaymentIntent (same key, same intent): what `metadata` says it
    is for (an appointment, an on-demand consult)."""
    pi = _call(
        _client().v1.payment_intents.create,
        params={
            "amount": amount,
            "currency": currency.lower(),
            "capture_method": "manual",
            "payment_method_types": ["card"],
            "metadata": metadata,
        },
        options={"idempotency_key": idempotency_key},
    )
    return _intent(pi)


def retrieve_intent(intent_id: str) -> Intent:
    return _intent(_call(_client().v1.payment_intents.retrieve, intent_id))


def attach_card_token(intent_id: str, token: str) -> None:
    """Put the card of a Stripe.js token (`tok_...`) on the intent.

    localstripe takes the token's card as the payment method; Stripe turns the token into a
    PaymentMethod first.
    """
    client = _client()
    if is_test_server():
        method = _call(client.v1.tokens.retrieve, token)["card"]["id"]
    else:
        method = _call(
            client.v1.payment_methods.create, params={"type": "card", "card": {"token": token}}
        )["id"]
    _call(client.v1.payment_intents.update, intent_id, params={"payment_method": method})


def confirm_intent(intent_id: str) -> Intent:
    """Confirm without arguments (the payment method is already set). Raises CardRefused."""
    return _intent(_call(_client().v1.payment_intents.confirm, intent_id))


def capture_intent(intent_id: str) -> Intent:
    """Capture an authorized intent; an already captured one is returned as it is."""
    current = retrieve_intent(intent_id)
    if current.status != "requires_capture":
        return current
    return _intent(
        _call(
            _client().v1.payment_intents.capture,
            intent_id,
            options={"idempotency_key": f"carebook-capture-{intent_id}"},
        )
    )


def cancel_intent(intent_id: str) -> Intent:
    """Release an uncaptured intent; cancelling twice (or a captured one) changes nothing."""
    current = retrieve_intent(intent_id)
    if current.status in ("canceled", "succeeded", "processing"):
        return current
    return _intent(_call(_client().v1.payment_intents.cancel, intent_id))


def refund(*, intent_id: str, amount: int, idempotency_key: str) -> RefundResult:
    """Refund part or all of a captured intent."""
    result = _call(
        _client().v1.refunds.create,
        params={"payment_intent": intent_id, "amount": amount},
        options={"idempotency_key": idempotency_key},
    )
    return RefundResult(id=result["id"], amount=int(result["amount"]), status=result["status"])


def charge_intent_id(charge_id: str) -> str | None:
    """The PaymentIntent a charge belongs to."""
    return _get(_plain(_call(_client().v1.charges.retrieve, charge_id)), "payment_intent")


def verify_webhook(payload: bytes, signature: str | None) -> dict:
    """The event in a webhook body, once its signature is verified (tolerance 300 s)."""
    secret = current_app.config.get("STRIPE_WEBHOOK_SECRET")
    if not secret:
        raise BadSignature("Webhooks are not configured (STRIPE_WEBHOOK_SECRET).")
    if not signature:
        raise BadSignature("The Stripe-Signature header is missing.")
    try:
        text = payload.decode("utf-8")
        stripe.WebhookSignature.verify_header(
            text, signature, secret, tolerance=WEBHOOK_TOLERANCE_SECONDS
        )
        event = json.loads(text)
    except (stripe.SignatureVerificationError, ValueError, RecursionError) as exc:
        raise BadSignature("The webhook signature is not valid.") from exc
    if not isinstance(event, dict) or not event.get("id") or not event.get("type"):
        raise BadSignature("The webhook body is not a Stripe event.")
    return event
