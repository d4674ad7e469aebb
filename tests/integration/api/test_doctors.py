"""GET /api/v1/doctors and /api/v1/doctors/{id}: finding a doctor."""

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from app.extensions import db
from app.models import DoctorLanguage, Specialty
from tests.factories import make_appointment, make_clinic, make_doctor, make_slot
from tests.integration.api.helpers import assert_error, hours_ahead, iso


def _doctor_in(city: str, lat: float, lng: float, **fields):
    clinic = make_clinic(name=f"{city} Clinic", city=city, latitude=lat, longitude=lng)
    return make_doctor(clinic=clinic, **fields)


def test_search_shows_each_doctor_with_fee_clinic_and_next_free_slot(client):
    heart = Specialty(name="Cardiology", slug="cardiology")
    db.session.add(heart)
    doctor = make_doctor(name="Dr. Ada Heart", fee_amount=12500, bio="Hearts.", specialties=[heart])
    taken = make_slot(doctor, start=hours_ahead(20))
    make_appointment(taken)
    free = make_slot(doctor, start=hours_ahead(30))

    response = client.get("/api/v1/doctors")

    assert response.status_code == 200
    assert response.get_json() == {
        "items": [
            {
                "id": doctor.id,
                "name": "Dr. Ada Heart",
                "specialties": ["Cardiology"],
                "clinic": {
                    "id": doctor.clinic.id,
                    "name": doctor.clinic.name,
                    "city": "New York",
                    "timezone": "America/New_York",
                },
                "fee": {"amount": 12500, "currency": "USD"},
                "next_available": iso(free.start_at),
                "distance_km": None,
                "rating": {"average": None, "count": 0},
                "requires_approval": False,
                "bio": "Hearts.",
                "languages": [],
                "photo_url": None,
                "photo_thumbnail_url": None,
            }
        ],
        "page": 1,
        "per_page": 20,
        "total": 1,
        "pages": 1,
    }


def test_search_filters_by_specialty_city_and_name(client):
    skin = Specialty(name="Dermatology", slug="dermatology")
    db.session.add(skin)
    london = _doctor_in("London", 51.5, -0.12, name="Dr. Skin London")
    london.specialties.append(skin)
    db.session.commit()
    _doctor_in("Sydney", -33.86, 151.21, name="Dr. Other Sydney")

    def names(query: str) -> list[str]:
        response = client.get(f"/api/v1/doctors?{query}")
        assert response.status_code == 200
        return [item["name"] for item in response.get_json()["items"]]

    assert names("specialty=dermatology") == ["Dr. Skin London"]
    assert names("city=sydney") == ["Dr. Other Sydney"]
    assert names("q=skin") == ["Dr. Skin London"]
    assert names(f"clinic_id={london.clinic_id}") == ["Dr. Skin London"]
    assert names("q=nobody") == []


def test_near_keeps_doctors_within_the_radius_nearest_first(client):
    _doctor_in("Brooklyn", 40.68, -73.94, name="Dr. Brooklyn")
    _doctor_in("Manhattan", 40.71, -74.0, name="Dr. Manhattan")
    _doctor_in("London", 51.5, -0.12, name="Dr. London")

    response = client.get("/api/v1/doctors?near=40.71,-74.0&radius_km=20")

    items = response.get_json()["items"]
    assert [i["name"] for i in items] == ["Dr. Manhattan", "Dr. Brooklyn"]
    assert items[0]["distance_km"] == pytest.approx(0, abs=0.01)
    assert 4 < items[1]["distance_km"] < 8


def test_available_on_finds_doctors_with_a_free_slot_that_clinic_day(client):
    slot_start = hours_ahead(72)
    free_doctor = make_doctor(name="Dr. Free")
    make_slot(free_doctor, start=slot_start)
    booked_doctor = make_doctor(name="Dr. Booked")
    make_appointment(make_slot(booked_doctor, start=slot_start))
    make_doctor(name="Dr. No Slots")
    new_york_day = slot_start.astimezone(ZoneInfo("America/New_York")).date()

    on_the_day = client.get(f"/api/v1/doctors?available_on={new_york_day}")
    day_after = client.get(f"/api/v1/doctors?available_on={new_york_day + timedelta(days=1)}")

    assert [i["name"] for i in on_the_day.get_json()["items"]] == ["Dr. Free"]
    assert day_after.get_json()["items"] == []


def test_one_doctor_has_the_same_shape_as_in_search(client):
    doctor = make_doctor(name="Dr. Solo", requires_approval=True)
    slot = make_slot(doctor, start=hours_ahead(50))

    one = client.get(f"/api/v1/doctors/{doctor.id}")
    listed = client.get("/api/v1/doctors").get_json()["items"][0]

    assert one.status_code == 200
    assert one.get_json() == listed
    assert one.get_json()["next_available"] == iso(slot.start_at)
    assert one.get_json()["requires_approval"] is True


def test_one_doctor_without_free_slots_has_no_next_available(client):
    doctor = make_doctor()
    assert client.get(f"/api/v1/doctors/{doctor.id}").get_json()["next_available"] is None


@pytest.mark.parametrize("doctor_id", ["999", "99999999999999999999999"])
def test_unknown_doctor_is_a_json_404(client, doctor_id):
    assert_error(client.get(f"/api/v1/doctors/{doctor_id}"), 404)


def test_deactivated_doctor_is_not_found(client):
    doctor = make_doctor()
    doctor.user.is_active = False
    db.session.commit()
    assert_error(client.get(f"/api/v1/doctors/{doctor.id}"), 404)
    assert client.get("/api/v1/doctors").get_json()["total"] == 0


def test_pages_split_the_results(client):
    for n in range(3):
        make_doctor(name=f"Dr. {n}")
    response = client.get("/api/v1/doctors?page=2&per_page=2")
    body = response.get_json()
    assert [i["name"] for i in body["items"]] == ["Dr. 2"]
    assert (body["page"], body["per_page"], body["total"], body["pages"]) == (2, 2, 3, 2)


@pytest.mark.parametrize(
    "query",
    [
        "near=abc",
        "near=40.7",
        "near=40.7,-74,1",
        "near=nan,0",
        "near=91,0",
        "radius_km=5",
        "near=40.7,-74&radius_km=-1",
        "near=40.7,-74&radius_km=100000",
        "page=0",
        "page=-1",
        "page=abc",
        "page=99999999999999",
        "per_page=0",
        "per_page=1000",
        "clinic_id=abc",
        "clinic_id=99999999999",
        "available_on=2030-13-01",
        "available_on=tomorrow",
        "available_on=9999-12-31",
        "q=" + "x" * 500,
    ],
)
def test_bad_search_input_is_a_422_with_a_message(client, query):
    error = assert_error(client.get(f"/api/v1/doctors?{query}"), 422)
    assert error["code"] in {"invalid_input", "unprocessable_entity"}


def _sortable_doctors():
    """Three doctors: fees 150, 90, 120; next free in 50 h, none, 20 h."""
    cheap = make_doctor(name="Dr. B Cheap", fee_amount=9000)
    dear = make_doctor(name="Dr. A Dear", fee_amount=15000)
    middle = make_doctor(name="Dr. C Middle", fee_amount=12000)
    make_slot(dear, start=hours_ahead(50))
    make_slot(middle, start=hours_ahead(20))
    taken = make_slot(cheap, start=hours_ahead(10))
    make_appointment(taken)  # cheap has no free time at all
    return cheap, dear, middle


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("", ["Dr. A Dear", "Dr. B Cheap", "Dr. C Middle"]),
        ("relevance", ["Dr. A Dear", "Dr. B Cheap", "Dr. C Middle"]),
        ("price", ["Dr. B Cheap", "Dr. C Middle", "Dr. A Dear"]),
        ("price_desc", ["Dr. A Dear", "Dr. C Middle", "Dr. B Cheap"]),
        ("earliest", ["Dr. C Middle", "Dr. A Dear", "Dr. B Cheap"]),
    ],
)
def test_search_sorts_by_price_and_earliest_free_time(client, sort, expected):
    _sortable_doctors()
    response = client.get(f"/api/v1/doctors?sort={sort}" if sort else "/api/v1/doctors")
    assert response.status_code == 200
    assert [item["name"] for item in response.get_json()["items"]] == expected


def test_earliest_sort_pages_in_the_database(client):
    _sortable_doctors()
    first = client.get("/api/v1/doctors?sort=earliest&per_page=1&page=1").get_json()
    last = client.get("/api/v1/doctors?sort=earliest&per_page=1&page=3").get_json()
    assert [i["name"] for i in first["items"]] == ["Dr. C Middle"]
    assert [i["name"] for i in last["items"]] == ["Dr. B Cheap"]
    assert last["items"][0]["next_available"] is None


def test_price_sort_keeps_currencies_apart(client):
    pounds = make_clinic(name="London Clinic", city="London", currency="GBP")
    make_doctor(name="Dr. Pound", clinic=pounds, fee_amount=5000)
    make_doctor(name="Dr. Dollar High", fee_amount=20000)
    make_doctor(name="Dr. Dollar Low", fee_amount=3000)
    names = [i["name"] for i in client.get("/api/v1/doctors?sort=price").get_json()["items"]]
    assert names == ["Dr. Pound", "Dr. Dollar Low", "Dr. Dollar High"]


def test_search_filters_by_language_and_shows_languages_and_photo(client):
    speaker = make_doctor(name="Dr. Habla")
    speaker.spoken_languages = [DoctorLanguage(code="es"), DoctorLanguage(code="en")]
    speaker.photo_hash = "0123456789abcdef"
    db.session.commit()
    make_doctor(name="Dr. English Only").spoken_languages = [DoctorLanguage(code="en")]
    db.session.commit()

    spanish = client.get("/api/v1/doctors?language=es").get_json()["items"]
    english = client.get("/api/v1/doctors?language=en").get_json()["items"]

    assert [item["name"] for item in spanish] == ["Dr. Habla"]
    assert [item["name"] for item in english] == ["Dr. English Only", "Dr. Habla"]
    assert spanish[0]["languages"] == [
        {"code": "en", "name": "English"},
        {"code": "es", "name": "Spanish"},
    ]
    base = f"http://127.0.0.1:5000/media/doctors/{speaker.id}/0123456789abcdef"
    assert spanish[0]["photo_url"] == f"{base}-256.webp"
    assert spanish[0]["photo_thumbnail_url"] == f"{base}-96.webp"
    one = client.get(f"/api/v1/doctors/{speaker.id}").get_json()
    assert one["languages"] == spanish[0]["languages"]
    assert one["photo_url"] == spanish[0]["photo_url"]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("sort=stars", "sort is one of relevance, price, price_desc, earliest, rating."),
        ("sort=PRICE", "sort is one of relevance, price, price_desc, earliest, rating."),
        ("language=xx", "language is an ISO 639-1 code we list"),
        ("language=english", "language is an ISO 639-1 code we list"),
    ],
)
def test_invalid_sort_or_language_is_a_422_naming_the_choices(client, query, message):
    error = assert_error(client.get(f"/api/v1/doctors?{query}"), 422)
    field = query.split("=")[0]
    assert message in error["details"]["query"][field][0]
