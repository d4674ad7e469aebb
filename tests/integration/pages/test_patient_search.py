"""Finding a doctor: the home page's form and the search page with its filters."""

import re
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from app.extensions import db
from app.models import DoctorLanguage, Role, Specialty
from tests.factories import make_appointment, make_clinic, make_doctor, make_slot, make_user

NEW_YORK = ZoneInfo("America/New_York")


def _specialty(name: str, slug: str) -> Specialty:
    specialty = Specialty(name=name, slug=slug)
    db.session.add(specialty)
    db.session.commit()
    return specialty


def _at_local(days: int, hour: int, tz=NEW_YORK) -> datetime:
    day = datetime.now(tz).date() + timedelta(days=days)
    return datetime.combine(day, time(hour), tzinfo=tz).astimezone(UTC)


def test_home_page_leads_into_search(client):
    _specialty("Cardiology", "cardiology")
    page = client.get("/").get_data(as_text=True)
    assert 'action="/doctors"' in page
    assert 'method="get"' in page
    assert '<option value="cardiology">Cardiology</option>' in page
    assert 'name="city"' in page and 'name="q"' in page


def test_search_is_public_and_lists_doctors_with_their_details(client):
    clinic = make_clinic(name="Harbor Health", city="New York", timezone="America/New_York")
    doctor = make_doctor(clinic=clinic, name="Dr. Maya Chen", fee_amount=9000)
    doctor.specialties = [_specialty("General Practice", "general-practice")]
    db.session.commit()
    make_slot(doctor, start=_at_local(3, 9))

    response = client.get("/doctors")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Dr. Maya Chen" in page
    assert "General Practice" in page
    assert "Harbor Health · New York" in page
    assert "USD 90.00" in page
    assert ", 09:00 E" in page  # next free slot, in the clinic's zone with EST/EDT
    assert "not yet rated" in page
    assert f'href="/doctors/{doctor.id}"' in page


def test_filters_by_specialty_city_and_name(client):
    cardio = _specialty("Cardiology", "cardiology")
    london = make_clinic(name="Thames", city="London", timezone="Europe/London")
    ny = make_clinic(name="Harbor", city="New York")
    heart = make_doctor(clinic=london, name="Dr. Niamh Walsh")
    heart.specialties = [cardio]
    db.session.commit()
    make_doctor(clinic=ny, name="Dr. Sofia Rivera")
    make_doctor(clinic=london, name="Dr. Oliver Hughes")

    by_specialty = client.get("/doctors?specialty=cardiology").get_data(as_text=True)
    assert "Dr. Niamh Walsh" in by_specialty
    assert "Dr. Oliver Hughes" not in by_specialty and "Dr. Sofia Rivera" not in by_specialty

    by_city = client.get("/doctors?city=london").get_data(as_text=True)
    assert "Dr. Niamh Walsh" in by_city and "Dr. Oliver Hughes" in by_city
    assert "Dr. Sofia Rivera" not in by_city

    by_name = client.get("/doctors?q=rive").get_data(as_text=True)
    assert "Dr. Sofia Rivera" in by_name
    assert "1 doctor found" in by_name


def test_available_on_keeps_doctors_free_that_local_day(client):
    clinic = make_clinic(timezone="America/New_York")
    free = make_doctor(clinic=clinic, name="Dr. Free")
    taken = make_doctor(clinic=clinic, name="Dr. Taken")
    other_day = make_doctor(clinic=clinic, name="Dr. Otherday")
    make_slot(free, start=_at_local(4, 10))
    make_appointment(make_slot(taken, start=_at_local(4, 10)))
    make_slot(other_day, start=_at_local(5, 10))
    day = (datetime.now(NEW_YORK).date() + timedelta(days=4)).isoformat()

    page = client.get(f"/doctors?available_on={day}").get_data(as_text=True)
    assert "Dr. Free" in page
    assert "Dr. Taken" not in page
    assert "Dr. Otherday" not in page


def test_near_me_orders_by_distance_and_shows_it(client):
    near = make_clinic(name="Near", city="London", latitude=51.51, longitude=-0.13)
    farther = make_clinic(name="Farther", city="Watford", latitude=51.66, longitude=-0.40)
    far = make_clinic(name="Far", city="Oxford", latitude=51.75, longitude=-1.26)
    make_doctor(clinic=farther, name="Dr. Aaron Farther")
    make_doctor(clinic=near, name="Dr. Zed Near")
    make_doctor(clinic=far, name="Dr. Far Away")

    response = client.get("/doctors?lat=51.5&lng=-0.12&radius_km=50")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert page.index("Dr. Zed Near") < page.index("Dr. Aaron Farther")
    assert "Dr. Far Away" not in page
    assert "1.3 km away" in page


def test_results_are_paginated_and_pages_keep_the_filters(client):
    clinic = make_clinic(city="Boston")
    for n in range(23):
        make_doctor(clinic=clinic, name=f"Dr. Page {n:02d}")

    first = client.get("/doctors?city=Boston").get_data(as_text=True)
    assert "23 doctors found" in first
    assert "Dr. Page 00" in first and "Dr. Page 19" in first
    assert "Dr. Page 20" not in first
    assert "Page 1 of 2" in first
    assert 'href="/doctors?page=2&amp;city=Boston"' in first

    second = client.get("/doctors?city=Boston&page=2").get_data(as_text=True)
    assert "Dr. Page 20" in second and "Dr. Page 22" in second
    assert "Dr. Page 00" not in second
    assert "Page 2 of 2" in second


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("page=abc", "Not a valid integer value."),
        ("page=0", "Number must be between 1 and 10000."),
        ("page=99999999999999", "Number must be between 1 and 10000."),
        ("radius_km=5", "A distance needs a place"),
        ("lat=51.5", "Give both latitude and longitude."),
        ("lat=123&lng=0", "Number must be between -90 and 90."),
        ("lat=nan&lng=0", "Number must be between -90 and 90."),
        ("lat=51&lng=0&radius_km=9000", "radius_km is between 0 and 500"),
        ("available_on=tomorrow", "Not a valid date value."),
        ("specialty=no-such-thing", "Not a valid choice."),
        ("clinic=abc", "Invalid Choice: could not coerce."),
    ],
)
def test_bad_filters_are_form_errors_with_422(client, query, message):
    response = client.get(f"/doctors?{query}")
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)


def test_search_page_works_for_every_role(client, auth):
    make_doctor(name="Dr. Visible")
    for role in (Role.PATIENT, Role.DOCTOR):
        user = make_user(role)
        auth.login(user.email)
        assert "Dr. Visible" in client.get("/doctors").get_data(as_text=True)
        auth.logout()


def _names_in_order(page: str) -> list[str]:
    return re.findall(r'<h3><a href="/doctors/\d+">([^<]+)</a>', page)


def test_search_page_sorts_by_price_and_earliest_and_keeps_the_sort_on_pages(client):
    cheap = make_doctor(name="Dr. B Cheap", fee_amount=9000)
    dear = make_doctor(name="Dr. A Dear", fee_amount=15000)
    make_slot(dear, start=_at_local(2, 10))
    make_slot(cheap, start=_at_local(5, 10))

    page = client.get("/doctors").get_data(as_text=True)
    assert '<select id="sort" name="sort">' in page
    assert '<option selected value="relevance">Best match</option>' in page
    assert _names_in_order(page) == ["Dr. A Dear", "Dr. B Cheap"]
    by_price = client.get("/doctors?sort=price").get_data(as_text=True)
    assert _names_in_order(by_price) == ["Dr. B Cheap", "Dr. A Dear"]
    assert '<option selected value="price">Price: low to high</option>' in by_price
    by_price_desc = client.get("/doctors?sort=price_desc").get_data(as_text=True)
    assert _names_in_order(by_price_desc) == ["Dr. A Dear", "Dr. B Cheap"]
    earliest = client.get("/doctors?sort=earliest").get_data(as_text=True)
    assert _names_in_order(earliest) == ["Dr. A Dear", "Dr. B Cheap"]
    make_slot(cheap, start=_at_local(1, 10))
    earliest = client.get("/doctors?sort=earliest").get_data(as_text=True)
    assert _names_in_order(earliest) == ["Dr. B Cheap", "Dr. A Dear"]


def test_the_sort_is_kept_in_page_links(client):
    for n in range(21):
        make_doctor(name=f"Dr. Sorted {n:02d}", fee_amount=1000 + n)
    page = client.get("/doctors?sort=price_desc").get_data(as_text=True)
    assert 'href="/doctors?page=2&amp;sort=price_desc"' in page
    assert _names_in_order(page)[0] == "Dr. Sorted 20"


def test_search_page_filters_by_language_and_shows_them(client):
    speaker = make_doctor(name="Dr. Habla")
    speaker.spoken_languages = [DoctorLanguage(code="es"), DoctorLanguage(code="en")]
    make_doctor(name="Dr. Sam Silent")
    db.session.commit()

    page = client.get("/doctors?language=es").get_data(as_text=True)

    assert _names_in_order(page) == ["Dr. Habla"]
    assert '<option selected value="es">Spanish</option>' in page
    assert '<dd data-testid="languages">English, Spanish</dd>' in page
    everyone = client.get("/doctors").get_data(as_text=True)
    assert 'data-testid="doctor-initials">SS</span>' in everyone


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("sort=stars", "sort is one of relevance, price, price_desc, earliest, rating."),
        ("language=xx", "is not a language we list"),
    ],
)
def test_unknown_sort_or_language_is_a_form_error(client, query, message):
    make_doctor()
    response = client.get(f"/doctors?{query}")
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
