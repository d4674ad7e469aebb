"""The chat's REST contract: conversations, history paged by before_id, sending, read
receipts and unread counts, the rate limit, attachments and their downloads, the audit."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from app.extensions import db
from app.models import AuditLog, Role, UserPermission
from app.services.chat import messages
from tests.factories import make_doctor, make_user
from tests.integration.api.helpers import assert_error
from tests.integration.chat.conftest import PDF, png_bytes, visit

MESSAGE_KEYS = {"id", "conversation_id", "sender_id", "body", "attachment", "created_at", "read_at"}


def _send(client, headers, conversation_id, body):
    return client.post(
        f"/api/v1/conversations/{conversation_id}/messages", json={"body": body}, headers=headers
    )


def test_list_open_send_history_and_read_as_the_contract_says(client, pair, bearer):
    patient, doctor = bearer(pair.patient), bearer(pair.doctor_user)
    opened = client.post(
        "/api/v1/conversations", json={"doctor_id": pair.doctor.id}, headers=patient
    )
    assert opened.status_code == 200  # the fixture opened it already
    assert opened.get_json()["id"] == pair.conversation_id
    again = client.post(
        "/api/v1/conversations", json={"patient_id": pair.patient.id}, headers=doctor
    )
    assert again.status_code == 200 and again.get_json()["id"] == pair.conversation_id

    sent = _send(client, patient, pair.conversation_id, "<b>Hello</b> doctor")
    assert sent.status_code == 201
    message = sent.get_json()
    assert set(message) == MESSAGE_KEYS
    assert message["body"] == "<b>Hello</b> doctor"  # stored as written
    assert message["sender_id"] == pair.patient.id
    assert message["attachment"] is None and message["read_at"] is None

    listing = client.get("/api/v1/conversations", headers=doctor).get_json()
    (item,) = listing["items"]
    assert item["patient"] == {"id": pair.patient.id, "name": "Pat Doe"}
    assert item["doctor"] == {"id": pair.doctor.id, "name": "Dr. Ana Ruiz"}
    assert item["last_message"]["id"] == message["id"]
    assert item["unread"] == 1

    read = client.post(
        f"/api/v1/conversations/{pair.conversation_id}/read",
        json={"up_to_id": message["id"]},
        headers=doctor,
    )
    assert read.status_code == 200
    assert read.get_json()["marked"] == 1 and read.get_json()["unread"] == 0
    history = client.get(
        f"/api/v1/conversations/{pair.conversation_id}/messages", headers=patient
    ).get_json()
    assert history["items"][0]["read_at"] is not None  # the sender sees the receipt
    assert client.get("/api/v1/conversations", headers=doctor).get_json()["items"][0]["unread"] == 0


def test_a_new_conversation_is_201_and_without_a_shared_visit_403(client, ctx, bearer, pair):
    other = make_doctor(name="Dr. Other")
    response = client.post(
        "/api/v1/conversations", json={"doctor_id": other.id}, headers=bearer(pair.patient)
    )
    assert_error(response, 403, "no_shared_appointment")
    visit(other, pair.patient, days=6)
    response = client.post(
        "/api/v1/conversations", json={"doctor_id": other.id}, headers=bearer(pair.patient)
    )
    assert response.status_code == 201
    assert response.get_json()["unread"] == 0 and response.get_json()["last_message"] is None


def test_someone_elses_conversation_is_404_everywhere(client, pair, bearer):
    stranger = bearer(make_user(Role.PATIENT))
    other_doctor = bearer(make_doctor().user)
    base = f"/api/v1/conversations/{pair.conversation_id}"
    for headers in (stranger, other_doctor):
        assert_error(client.get(f"{base}/messages", headers=headers), 404, "conversation_not_found")
        assert_error(_send(client, headers, pair.conversation_id, "hi"), 404)
        assert_error(client.post(f"{base}/read", json={"up_to_id": 1}, headers=headers), 404)
        assert client.get("/api/v1/conversations", headers=headers).get_json()["items"] == []
    assert_error(client.get("/api/v1/conversations/999999/messages", headers=stranger), 404)


def test_history_is_newest_first_and_pages_with_before_id(client, pair, bearer):
    now = datetime.now(UTC)
    ids = [
        messages.send_message(
            conversation_id=pair.conversation_id,
            sender_id=pair.doctor_user.id,
            body=f"note {n}",
            now=now + timedelta(seconds=n),
        ).id
        for n in range(7)
    ]
    base = f"/api/v1/conversations/{pair.conversation_id}/messages"
    headers = bearer(pair.patient)
    first = client.get(f"{base}?limit=3", headers=headers).get_json()["items"]
    assert [m["id"] for m in first] == ids[::-1][:3]
    second = client.get(f"{base}?limit=3&before_id={first[-1]['id']}", headers=headers)
    assert [m["id"] for m in second.get_json()["items"]] == ids[::-1][3:6]
    assert_error(client.get(f"{base}?limit=101", headers=headers), 422)
    assert_error(client.get(f"{base}?limit=0", headers=headers), 422)


def test_unread_counts_per_conversation_and_in_total(client, pair, bearer):
    other = make_doctor(name="Dr. Two")
    visit(other, pair.patient, days=6)
    second = client.post(
        "/api/v1/conversations", json={"doctor_id": other.id}, headers=bearer(pair.patient)
    ).get_json()["id"]
    for _ in range(2):
        _send(client, bearer(pair.doctor_user), pair.conversation_id, "a")
    last = _send(client, bearer(other.user), second, "b").get_json()
    listing = client.get("/api/v1/conversations", headers=bearer(pair.patient)).get_json()
    assert {i["id"]: i["unread"] for i in listing["items"]} == {pair.conversation_id: 2, second: 1}
    assert listing["unread"] == 3
    assert listing["items"][0]["id"] == second  # the most recent message first
    client.post(
        f"/api/v1/conversations/{second}/read",
        json={"up_to_id": last["id"]},
        headers=bearer(pair.patient),
    )
    assert (
        client.get("/api/v1/conversations", headers=bearer(pair.patient)).get_json()["unread"] == 2
    )


def test_the_21st_message_in_10_seconds_is_a_429_with_a_message(client, pair, bearer):
    headers = bearer(pair.patient)
    for n in range(20):
        assert _send(client, headers, pair.conversation_id, f"m{n}").status_code == 201
    response = _send(client, headers, pair.conversation_id, "one too many")
    error = assert_error(response, 429, "too_many_messages")
    assert "wait" in error["message"]
    assert int(response.headers["Retry-After"]) >= 1
    # The other side is counted apart.
    assert _send(client, bearer(pair.doctor_user), pair.conversation_id, "ok").status_code == 201


def test_the_rate_limit_holds_under_concurrent_sends(app, pair):
    from concurrent.futures import ThreadPoolExecutor

    from app.services.chat.errors import TooManyMessages

    now = datetime.now(UTC)

    def send(n):
        with app.app_context():
            try:
                messages.send_message(
                    conversation_id=pair.conversation_id,
                    sender_id=pair.patient.id,
                    body=f"c{n}",
                    now=now,
                )
                return True
            except TooManyMessages:
                return False
            finally:
                db.session.remove()

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(send, range(30)))
    assert results.count(True) == 20


@pytest.mark.parametrize("body,code", [("", "invalid_message"), ("x" * 4001, "invalid_message")])
def test_empty_and_too_long_messages_are_refused(client, pair, bearer, body, code):
    assert_error(_send(client, bearer(pair.patient), pair.conversation_id, body), 422, code)
    assert _send(client, bearer(pair.patient), pair.conversation_id, "x" * 4000).status_code == 201


def _upload(client, headers, conversation_id, data, filename, content_type, body="see file"):
    # Encoded here, in memory: the test client spools a large body to a file it never closes.
    boundary, encoded = encode_multipart(
        MultiDict(
            {
                "body": body,
                "file": FileStorage(io.BytesIO(data), filename, content_type=content_type),
            }
        )
    )
    return client.post(
        f"/api/v1/conversations/{conversation_id}/messages",
        data=encoded,
        content_type=f"multipart/form-data; boundary={boundary}",
        headers=headers,
    )


@pytest.mark.parametrize(
    "data,name,detected",
    [(png_bytes(), "scan.png", "image/png"), (PDF, "report.pdf", "application/pdf")],
)
def test_a_png_and_a_pdf_are_accepted_and_downloaded_as_attachments(
    client, pair, bearer, data, name, detected
):
    response = _upload(
        client, bearer(pair.patient), pair.conversation_id, data, name, "application/octet-stream"
    )
    assert response.status_code == 201, response.get_json()
    attachment = response.get_json()["attachment"]
    assert attachment["content_type"] == detected
    assert attachment["name"] == name and attachment["size"] == len(data)
    download = client.get(attachment["url"], headers=bearer(pair.doctor_user))
    assert download.status_code == 200
    assert download.data == data
    assert download.headers["Content-Type"].startswith(detected)
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    for stranger in (make_user(Role.PATIENT), make_doctor().user):
        assert_error(client.get(attachment["url"], headers=bearer(stranger)), 404)


@pytest.mark.parametrize(
    "data,name,declared",
    [
        (b"MZ\x90\x00\x03" + b"\x00" * 200, "holiday.png", "image/png"),
        (b"<html><script>alert(1)</script></html>", "report.pdf", "application/pdf"),
    ],
)
def test_a_renamed_executable_or_html_file_is_refused(client, pair, bearer, data, name, declared):
    response = _upload(client, bearer(pair.patient), pair.conversation_id, data, name, declared)
    error = assert_error(response, 422, "invalid_attachment")
    assert "PDF" in error["message"]


def test_a_file_over_10_mb_is_refused_with_a_clear_message(client, pair, bearer):
    big = png_bytes() + b"\x00" * (10 * 1024 * 1024)
    response = _upload(
        client, bearer(pair.patient), pair.conversation_id, big, "big.png", "image/png"
    )
    error = assert_error(response, 413, "attachment_too_large")
    assert "10 MB" in error["message"]
    # Declared 12 MB (past the upload's body limit): refused before anything is read.
    response = client.post(
        f"/api/v1/conversations/{pair.conversation_id}/messages",
        content_type="multipart/form-data; boundary=x",
        headers=bearer(pair.patient),
        environ_overrides={"wsgi.input": io.BytesIO(), "CONTENT_LENGTH": str(12 * 1024 * 1024)},
    )
    assert_error(response, 413)


def test_an_auditor_reads_a_conversation_and_the_opening_is_audited(client, pair, bearer):
    _send(client, bearer(pair.patient), pair.conversation_id, "private")
    plain_helper = make_user(Role.HELPER)
    auditor = make_user(Role.HELPER)
    auditor.permissions.append(UserPermission(permission="conversations.audit"))
    db.session.commit()
    base = f"/api/v1/conversations/{pair.conversation_id}/messages"
    assert_error(client.get(base, headers=bearer(plain_helper)), 404)
    response = client.get(base, headers=bearer(auditor))
    assert response.status_code == 200
    assert response.get_json()["items"][0]["body"] == "private"
    entry = db.session.query(AuditLog).filter_by(action="conversation.audited").one()
    assert (entry.actor_id, entry.target_id) == (auditor.id, str(pair.conversation_id))
    # Reading is all an auditor does: no writing, no read receipts.
    assert_error(_send(client, bearer(auditor), pair.conversation_id, "hi"), 404)
    listing = client.get("/api/v1/conversations", headers=bearer(pair.doctor_user)).get_json()
    assert listing["items"][0]["unread"] == 1


def test_the_chat_endpoints_are_in_the_openapi_document(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    for path in (
        "/api/v1/conversations",
        "/api/v1/conversations/{conversation_id}/messages",
        "/api/v1/conversations/{conversation_id}/read",
    ):
        assert path in paths
