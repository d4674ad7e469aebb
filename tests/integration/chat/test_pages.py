"""The /messages pages: HTML in a message is text, the badge counts unread messages, the
"Message" buttons open the conversation, an auditor's opening is audited."""

from __future__ import annotations

import io
from datetime import UTC, datetime

from app.extensions import db
from app.models import Appointment, AuditLog, Role, UserPermission
from app.services.chat import messages
from tests.factories import make_payment, make_user
from tests.integration.chat.conftest import png_bytes


def _say(pair, sender, body):
    return messages.send_message(
        conversation_id=pair.conversation_id, sender_id=sender.id, body=body, now=datetime.now(UTC)
    )


def test_html_in_a_message_shows_as_text(client, auth, pair):
    _say(pair, pair.doctor_user, '<script>alert("x")</script><b>bold</b>')
    auth.login(pair.patient.email)
    page = client.get(f"/messages/{pair.conversation_id}").get_data(as_text=True)
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&lt;b&gt;bold&lt;/b&gt;" in page
    assert "<b>bold</b>" not in page


def test_the_badge_counts_unread_messages_and_reading_clears_it(client, auth, pair):
    _say(pair, pair.doctor_user, "one")
    _say(pair, pair.doctor_user, "two")
    auth.login(pair.patient.email)
    home = client.get("/").get_data(as_text=True)
    assert 'data-testid="messages-count" aria-hidden="true">2</span>' in home
    assert client.get("/messages/unread-count").get_json() == {"unread": 2}
    client.get(f"/messages/{pair.conversation_id}")
    assert client.get("/messages/unread-count").get_json() == {"unread": 0}
    # The conversation's in-app notification is read with it.
    assert client.get("/notifications/unread-count").get_json() == {"unread": 0}


def test_sending_from_the_page_with_a_file_and_the_receipt(client, auth, pair):
    auth.login(pair.patient.email)
    response = client.post(
        f"/messages/send?conversation_id={pair.conversation_id}",
        data={"body": "My scan", "file": (io.BytesIO(png_bytes()), "scan.png")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 303
    page = client.get(f"/messages/{pair.conversation_id}").get_data(as_text=True)
    assert "My scan" in page and "scan.png" in page
    assert 'data-testid="receipt">Sent<' in page
    auth.logout()
    auth.login(pair.doctor_user.email)
    client.get(f"/messages/{pair.conversation_id}")
    auth.logout()
    auth.login(pair.patient.email)
    page = client.get(f"/messages/{pair.conversation_id}").get_data(as_text=True)
    assert 'data-testid="receipt">Read<' in page


def test_a_refused_message_comes_back_with_its_reason(client, auth, pair):
    auth.login(pair.patient.email)
    response = client.post(
        f"/messages/send?conversation_id={pair.conversation_id}",
        data={"body": "", "file": (io.BytesIO(b"<html></html>"), "x.pdf")},
        content_type="multipart/form-data",
    )
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "this file is none of them" in page


def test_the_message_button_opens_the_conversation(client, auth, pair):
    auth.login(pair.doctor_user.email)
    response = client.post("/messages/start", data={"patient_id": pair.patient.id})
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/messages/{pair.conversation_id}")
    stranger = make_user(Role.PATIENT)
    response = client.post("/messages/start", data={"patient_id": stranger.id, "next": "/"})
    assert response.headers["Location"] == "/"


def test_a_strangers_page_and_file_are_404(client, auth, pair):
    message = messages.send_message(
        conversation_id=pair.conversation_id,
        sender_id=pair.patient.id,
        body="",
        upload=messages.attachments.Upload(png_bytes(), "a.png"),
        now=datetime.now(UTC),
    )
    auth.login(make_user(Role.PATIENT).email)
    assert client.get(f"/messages/{pair.conversation_id}").status_code == 404
    url = f"/messages/{pair.conversation_id}/files/{message.id}"
    assert client.get(url).status_code == 404


def test_an_auditor_opens_the_thread_read_only_and_it_is_audited(client, auth, pair):
    _say(pair, pair.patient, "a dispute")
    auditor = make_user(Role.HELPER)
    auditor.permissions.append(UserPermission(permission="conversations.audit"))
    db.session.commit()
    auth.login(auditor.email)
    page = client.get(f"/messages/{pair.conversation_id}").get_data(as_text=True)
    assert "a dispute" in page and 'data-testid="audit-notice"' in page
    assert 'data-testid="message-form"' not in page
    assert db.session.query(AuditLog).filter_by(action="conversation.audited").count() == 1
    assert messages.newest_id(pair.conversation_id) is not None


def test_a_disputed_payment_links_the_conversation_for_auditors_only(client, auth, pair):
    appointment = db.session.scalars(
        db.select(Appointment).filter_by(patient_id=pair.patient.id)
    ).first()
    payment = make_payment(appointment, dispute_id="dp_1", dispute_status="needs_response")
    link = f'href="/messages/{pair.conversation_id}" data-testid="audit-conversation"'

    def page_for(*permissions: str) -> str:
        staff = make_user(Role.HELPER)
        staff.permissions.extend(UserPermission(permission=p) for p in permissions)
        db.session.commit()
        auth.login(staff.email)
        page = client.get(f"/admin/payments/{payment.id}")
        assert page.status_code == 200
        client.post("/logout")
        return page.get_data(as_text=True)

    assert link in page_for("payments.view", "conversations.audit")
    assert link not in page_for("payments.view")
    assert db.session.query(AuditLog).filter_by(action="conversation.audited").count() == 0
