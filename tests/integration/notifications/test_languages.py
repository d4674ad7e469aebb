"""Mail and texts are in the recipient's language, whoever's request (or worker) sends them:
the account's setting, else the language the browser asked for at the last sign-in."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from app.extensions import db
from app.i18n import speaking
from app.models import User
from app.services.notifications.kinds import KINDS
from app.services.scheduling import booking
from tests.factories import (
    PASSWORD,
    make_appointment,
    make_clinic,
    make_doctor,
    make_slot,
    make_user,
)
from tests.integration.notifications.conftest import future_slot, run_worker

SPANISH = {"Accept-Language": "es-ES,es;q=0.9"}


def test_a_spanish_browser_gets_its_booking_confirmation_in_spanish(
    client, mail_config, inbox, doctor, patient
):
    slot = future_slot(doctor)
    signed_in = client.post(
        "/login", data={"email": patient.email, "password": PASSWORD}, headers=SPANISH
    )
    assert signed_in.status_code == 302
    assert db.session.get(User, patient.id).browser_locale == "es"

    booked = client.post(f"/book/{slot.id}", data={"payment_method": "cash"}, headers=SPANISH)
    assert booked.status_code == 302

    [mail] = inbox.to("pat@example.com")
    assert mail.subject.startswith("Reservada: Consulta con Dr. Ana Ruiz el ")
    assert "Su consulta con Dr. Ana Ruiz el " in mail.body
    assert "está confirmada." in mail.body
    assert "Cuándo: " in mail.body and "Ver la cita: http" in mail.body
    html = mail.message.get_body(preferencelist=("html",)).get_content()
    assert '<html lang="es">' in html
    # The doctor has no language of their own: English, though a Spanish request sent it.
    [note] = inbox.to(doctor.user.email)
    assert note.subject.startswith("New booking: Pat Doe, ")


def test_a_worker_writes_in_the_accounts_language(queued, inbox, doctor, patient):
    patient.locale = "es"
    db.session.commit()
    appointment = booking.book_slot(
        patient_id=patient.id,
        slot_id=future_slot(doctor).id,
        payment_method="cash",
        notes=None,
        now=datetime.now(UTC),
    )
    run_worker(queued)
    [mail] = inbox.to("pat@example.com")
    starts = appointment.starts_at.astimezone(ZoneInfo("Europe/Madrid"))
    months = ["ene", "feb", "mar", "abr", "may", "jun", "jul", "ago", "sept", "oct", "nov", "dic"]
    assert f"{starts.day} {months[starts.month - 1]} {starts.year}" in mail.subject


def test_the_account_setting_wins_over_the_browser(client, mail_config, inbox, doctor):
    english = make_user(email="en@example.com", name="Eve", locale="en", browser_locale="es")
    booking.book_slot(
        patient_id=english.id,
        slot_id=future_slot(doctor).id,
        payment_method="cash",
        notes=None,
        now=datetime.now(UTC),
    )
    [mail] = inbox.to("en@example.com")
    assert mail.subject.startswith("Booked: Visit with Dr. Ana Ruiz on ")


def test_spanish_money_in_a_refund_notice(ctx):
    clinic = make_clinic(timezone="Europe/Madrid", city="Madrid", currency="EUR")
    doctor = make_doctor(clinic=clinic, name="Dra. Lucía Ruiz", fee_amount=4500)
    appointment = make_appointment(make_slot(doctor))
    data = {"appointment_id": appointment.id, "amount": 4500, "currency": "EUR"}
    with speaking("es"):
        message = KINDS["payment.refunded"].render(data, appointment.patient)
    assert message.subject == "Reembolso emitido: 45,00\xa0€"
    message = KINDS["payment.refunded"].render(data, appointment.patient)
    assert message.subject == "Refund issued: EUR 45.00"
