"""Languages on pages: a Spanish browser reads Spanish (words, dates, money); the account's
setting overrides the browser; the footer's switch; English is unchanged."""

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from app.extensions import db
from app.models import Role, User
from tests.factories import PASSWORD, make_clinic, make_doctor, make_slot, make_user

MADRID = ZoneInfo("Europe/Madrid")
SPANISH = {"Accept-Language": "es-ES,es;q=0.9,en;q=0.5"}
ENGLISH = {"Accept-Language": "en-GB,en;q=0.9"}
MONTHS = ["ene", "feb", "mar", "abr", "may", "jun", "jul", "ago", "sept", "oct", "nov", "dic"]
DAYS = ["lun", "mar", "mié", "jue", "vie", "sáb", "dom"]


def _day(days: int) -> date:
    return datetime.now(MADRID).date() + timedelta(days=days)


def _madrid_doctor():
    clinic = make_clinic(
        name="Clínica Sol", city="Madrid", timezone="Europe/Madrid", currency="EUR"
    )
    return make_doctor(clinic=clinic, name="Dra. Lucía Ruiz", fee_amount=4500)


def _page(client, path, headers=SPANISH) -> str:
    response = client.get(path, headers=headers)
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def test_a_spanish_browser_reads_the_doctor_page_in_spanish(client):
    doctor = _madrid_doctor()
    day = _day(3)
    make_slot(doctor, start=datetime.combine(day, time(9), tzinfo=MADRID).astimezone(UTC))

    page = _page(client, f"/doctors/{doctor.id}?week={day.isoformat()}")
    assert '<html lang="es">' in page
    assert "Horarios libres" in page and "Free times" not in page
    assert "45,00\xa0€" in page  # money as Spanish writes it
    assert f"{DAYS[day.weekday()]} {day.day} {MONTHS[day.month - 1]}" in page  # a day heading
    assert "Tarifa" in page and "Todavía no hay reseñas." in page


def test_a_spanish_browser_reads_home_and_search_in_spanish(client):
    doctor = _madrid_doctor()
    start = datetime.combine(_day(2), time(10), tzinfo=MADRID)
    make_slot(doctor, start=start.astimezone(UTC))

    home = _page(client, "/")
    assert "Encuentre un médico y reserve una consulta" in home
    assert "Crear una cuenta" in home and "Iniciar sesión" in home

    results = _page(client, "/doctors?city=Madrid")
    assert "1 médico encontrado" in results
    assert "Próximo horario libre" in results
    assert f"{start.day} {MONTHS[start.month - 1]} {start.year}, 10:00 CE" in results
    assert "45,00\xa0€" in results


def test_english_is_unchanged(client):
    doctor = _madrid_doctor()
    page = _page(client, f"/doctors/{doctor.id}", headers=ENGLISH)
    assert '<html lang="en">' in page
    assert "Free times" in page and "EUR 45.00" in page
    assert "Horarios libres" not in page
    # No language asked for at all: English.
    assert '<html lang="en">' in _page(client, "/", headers={})


def test_an_unknown_language_falls_back_to_english(client):
    page = _page(client, "/", headers={"Accept-Language": "fr-FR,fr;q=0.9,de;q=0.5"})
    assert '<html lang="en">' in page and "Find a doctor and book a visit" in page


def test_the_accounts_setting_wins_over_the_browser(client):
    user = make_user(email="ana@example.com", name="Ana")
    client.post("/login", data={"email": user.email, "password": PASSWORD}, headers=SPANISH)
    assert '<html lang="es">' in _page(client, "/")

    saved = client.post("/language", data={"locale": "en", "next": "/account"}, headers=SPANISH)
    assert saved.status_code == 302 and saved.headers["Location"].endswith("/account")
    assert db.session.get(User, user.id).locale == "en"
    page = _page(client, "/account")  # a Spanish browser, an English account
    assert '<html lang="en">' in page and "Your account" in page

    client.post("/language", data={"locale": "", "next": "/"}, headers=SPANISH)
    assert db.session.get(User, user.id).locale is None  # back to the browser's
    assert '<html lang="es">' in _page(client, "/")


def test_the_footer_switch_sets_a_cookie_for_visitors(client):
    english = _page(client, "/", headers=ENGLISH)
    assert 'data-testid="language-switch"' in english and 'value="es"' in english

    switched = client.post("/language", data={"locale": "es", "next": "/help"}, headers=ENGLISH)
    assert switched.status_code == 302 and switched.headers["Location"].endswith("/help")
    assert "carebook_lang=es" in switched.headers["Set-Cookie"]
    page = _page(client, "/help", headers=ENGLISH)  # the choice beats the browser's
    assert '<html lang="es">' in page and "Ayuda" in page


def test_the_switch_refuses_an_unknown_language_and_a_foreign_next(client):
    refused = client.post("/language", data={"locale": "xx", "next": "/help"})
    assert refused.status_code == 302
    assert "carebook_lang" not in refused.headers.get("Set-Cookie", "")
    away = client.post("/language", data={"locale": "es", "next": "https://evil.example/"})
    assert away.headers["Location"] in ("/", "http://localhost/")


def test_a_signed_in_switch_needs_the_csrf_token_a_visitors_does_not(make_app, database_url, ctx):
    app = make_app(database_url, WTF_CSRF_ENABLED=True)
    visitor = app.test_client()
    # A visitor's switch changes only that browser's cookie: no token, so that public pages
    # set no session cookie and stay cacheable.
    switched = visitor.post("/language", data={"locale": "es"})
    assert switched.status_code == 302 and "carebook_lang=es" in switched.headers["Set-Cookie"]
    assert "csrf_token" not in visitor.get("/doctors").get_data(as_text=True).split("footer")[-1]

    user = make_user(Role.PATIENT)
    member = app.test_client()
    page = member.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    member.post("/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token})
    assert member.post("/language", data={"locale": "es"}).status_code == 400


def test_the_account_page_offers_the_language_setting(client, auth):
    user = make_user(email="bo@example.com", name="Bo", locale="es")
    auth.login(user.email)
    page = _page(client, "/account", headers=ENGLISH)
    assert '<html lang="es">' in page
    assert 'data-testid="account-locale"' in page
    assert '<option value="es" lang="es" selected>Español</option>' in page


def test_the_api_stays_english_for_a_spanish_client(client):
    response = client.get("/api/v1/doctors/999999", headers=SPANISH)
    assert response.status_code == 404
    assert response.get_json()["error"]["message"] == "There is no such doctor."


def test_scripts_get_the_page_language_strings(client):
    spanish = _page(client, "/")
    assert '<meta name="carebook-strings" content="{&#34;' in spanish
    assert "Buscando su ubicaci" in spanish
    english = _page(client, "/", headers=ENGLISH)
    assert '<meta name="carebook-strings" content="{}">' in english
