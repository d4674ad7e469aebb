"""What the OpenAPI document says about every operation alike, in one place: the error
answers the API really gives (instead of flask-smorest's catch-all `default`), and the links
from a response that names a resource to the operations on it.

An apispec plugin: `operation_helper` sees each operation as flask-smorest documents it;
`add_links` runs once every blueprint is registered, when all the targets are known.
"""

from __future__ import annotations

import re
from typing import Any

from apispec import BasePlugin
from flask import Flask

ERROR_REF = {"$ref": "#/components/schemas/Error"}
_BODY_METHODS = ("post", "put", "patch")
_PATH_PARAM = re.compile(r"{(\w+)}")

# Where a 2xx body of each schema names a resource: path parameter -> JSON pointer.
ID_SOURCES: dict[str, dict[str, str]] = {
    "Appointment": {"appointment_id": "/id"},
    "BookingResult": {"appointment_id": "/id"},
    "AcceptedConsult": {"appointment_id": "/id"},
    "Checkout": {"appointment_id": "/appointment_id"},
    "Confirmed": {"appointment_id": "/id", "payment_id": "/payment/id"},
    "AppointmentPage": {"appointment_id": "/items/0/id"},
    "Payment": {"payment_id": "/id", "appointment_id": "/appointment_id"},
    "Slot": {"slot_id": "/id"},
    "SlotList": {"slot_id": "/items/0/id"},
    "BulkResult": {"slot_id": "/slots/0/id"},
    "Doctor": {"doctor_id": "/id"},
    "DoctorPage": {"doctor_id": "/items/0/id"},
    "Consult": {"consult_id": "/id"},
    "RequestedConsult": {"consult_id": "/id"},
    "ConsultList": {"consult_id": "/items/0/id"},
    "Conversation": {"conversation_id": "/id"},
    "ConversationList": {"conversation_id": "/items/0/id"},
    # Not "Message", the answer of a send: a message sent without a file has no attachment.
    "MessageList": {"conversation_id": "/items/0/conversation_id", "message_id": "/items/0/id"},
    "Notification": {"notification_id": "/id"},
    "NotificationPage": {"notification_id": "/items/0/id"},
    "Review": {"review_id": "/id", "appointment_id": "/appointment_id"},
    "ReviewPage": {"review_id": "/items/0/id"},
}

# Operations no link leads to: a message's file exists only for a message sent with one, so
# the newest message of a list (what a link could name) may have none: a 404 that is right.
UNLINKED: set[tuple[str, str]] = {
    ("/api/v1/conversations/{conversation_id}/messages/{message_id}/attachment", "get"),
}

# Links whose target takes the id in its body: (source schema, target path, method, body).
_FIRST = "$response.body#/items/0/id"
BODY_LINKS: list[tuple[str, str, str, dict]] = [
    ("SlotList", "/api/v1/appointments", "post", {"slot_id": _FIRST, "payment_method": "cash"}),
    ("SpecialtyList", "/api/v1/consults", "post", {"specialty": _FIRST, "payment_method": "cash"}),
    ("Doctor", "/api/v1/conversations", "post", {"doctor_id": "$response.body#/id"}),
    ("DoctorPage", "/api/v1/conversations", "post", {"doctor_id": _FIRST}),
    ("Appointment", "/api/v1/conversations", "post", {"patient_id": "$response.body#/patient/id"}),
    ("MessageList", "/api/v1/conversations/{conversation_id}/read", "post", {"up_to_id": _FIRST}),
]


def _error(description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": ERROR_REF}}}


class ApiDocumentPlugin(BasePlugin):
    """Documents the answers every view shares and links operations by the ids they return."""

    def __init__(self, app: Flask) -> None:
        super().__init__()
        self.app = app
        self.operations: list[tuple[str, str, dict]] = []

    def operation_helper(self, path=None, operations=None, **kwargs: Any) -> None:
        rule = kwargs.get("rule")
        view = self.app.view_functions.get(rule.endpoint) if rule is not None else None
        access = getattr(view, "access_rule", "public")
        for method, operation in (operations or {}).items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            self._document_errors(path, method, operation, access)
            self.operations.append((path, method, operation))

    def _document_errors(self, path: str, method: str, operation: dict, access: str) -> None:
        responses = operation.setdefault("responses", {})

        def add(status: int, description: str) -> None:
            responses.setdefault(str(status), _error(description))

        if access != "public":
            add(401, "The access token is missing, invalid or expired")
            # The role rule, a permission, or the service's own (not the doctor of it...).
            add(403, "The caller may not do this")
        if _PATH_PARAM.search(path):
            add(404, "No such resource (or not one the caller may see)")
        if method in _BODY_METHODS:  # app.api.require_json_body refuses any other format
            add(415, "The body is not JSON (Content-Type: application/json)")
        if "requestBody" in operation:
            add(400, "The body is not valid JSON")
        if "requestBody" in operation or operation.get("parameters"):
            add(422, "Some of the input is not valid (details name the fields)")

    def add_links(self) -> None:
        """Link each 2xx response that names a resource to the operations taking its id."""
        targets = [
            (path, method, set(_PATH_PARAM.findall(path)))
            for path, method, _ in self.operations
            if _PATH_PARAM.search(path) and (path, method) not in UNLINKED
        ]
        for source_path, source_method, operation in self.operations:
            for status, response in operation.get("responses", {}).items():
                if not status.startswith("2"):
                    continue
                name = _schema_name(response)
                ids = ID_SOURCES.get(name, {})
                links = {
                    _link_name(path, method): {
                        "operationRef": _operation_ref(path, method),
                        "parameters": {param: f"$response.body#{ids[param]}" for param in needs},
                    }
                    for path, method, needs in targets
                    if needs <= ids.keys() and (path, method) != (source_path, source_method)
                }
                for source, path, method, body in BODY_LINKS:
                    if source != name:
                        continue
                    link = links.setdefault(
                        _link_name(path, method), {"operationRef": _operation_ref(path, method)}
                    )
                    link["requestBody"] = body
                if links:
                    response["links"] = links


def _schema_name(response: dict) -> str | None:
    schema = response.get("content", {}).get("application/json", {}).get("schema")
    ref = schema.get("$ref") if isinstance(schema, dict) else schema
    return ref.rsplit("/", 1)[-1] if isinstance(ref, str) else None


def _operation_ref(path: str, method: str) -> str:
    return "#/paths/" + path.replace("~", "~0").replace("/", "~1") + "/" + method


def _link_name(path: str, method: str) -> str:
    words = [part for part in path.removeprefix("/api/v1/").split("/") if "{" not in part]
    return method.upper() + "_" + "_".join(words).replace("-", "_")
