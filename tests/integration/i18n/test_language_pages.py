"""Languages on pages: a Spanish browser reads Spanish (words, dates, money); the account's
setting overrides the browser; the footer's switch; English is unchanged."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from app.extensions import db
from app.models import User
from tests.factories import make_clinic, make_doctor, make_slot, make_user

MADRID = ZoneInfo("Europe/Madrid")
SPANISH = {"Accept-Language": "es-ES,es;q=0.9,en;q=0.5"}


def _day(days: int) -> date:
    return datetime.now(MADRID).date() + timedelta(days=days)


def _madrid_doctor():
    clinic = make_clinic(
        name="Clínica Sol", city="Madrid", timezone="Europe/Madrid", currency="EUR"
    )
    return make_doctor(clinic=clinic, name="Dra. Lucía Ruiz", fee_amount=4500)


def test_a_spanish_browser_reads_the_doctor_page_in_spanish(client):
    doctor = _madrid_doctor()
    make_slot(doctor, start=datetime.combine(_day(3), time(9), tzinfo=MADRID).astimezone(UTC))

    response = client.get(f"/doctors/{doctor.id}", headers=SPANISH)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<html lang="es">' in page
    assert "Horarios libres" in page and "Free times" not in page
    assert "45,00\xa0€" in page
    assert "Tarifa" in page
