"""GET /api/v1/specialties and /api/v1/clinics: the public directory."""

from app.extensions import db
from app.models import Specialty
from tests.factories import make_clinic


def test_specialties_are_listed_by_name_without_a_token(client):
    db.session.add_all(
        [
            Specialty(name="Dermatology", slug="dermatology"),
            Specialty(name="Cardiology", slug="cardio"),
        ]
    )
    db.session.commit()
    response = client.get("/api/v1/specialties")
    assert response.status_code == 200
    items = response.get_json()["items"]
    assert [(s["name"], s["slug"]) for s in items] == [
        ("Cardiology", "cardio"),
        ("Dermatology", "dermatology"),
    ]
    assert set(items[0]) == {"id", "name", "slug"}


def test_clinics_show_location_currency_and_cancellation_policy(client):
    clinic = make_clinic(
        name="Harbour Clinic",
        city="Sydney",
        address="1 Quay St",
        timezone="Australia/Sydney",
        latitude=-33.86,
        longitude=151.21,
        currency="AUD",
        cancellation_window_hours=12,
        late_cancellation_refund_percent=40,
        accepts_cash=False,
    )
    response = client.get("/api/v1/clinics")
    assert response.status_code == 200
    assert response.get_json() == {
        "items": [
            {
                "id": clinic.id,
                "name": "Harbour Clinic",
                "city": "Sydney",
                "address": "1 Quay St",
                "timezone": "Australia/Sydney",
                "latitude": -33.86,
                "longitude": 151.21,
                "currency": "AUD",
                "cancellation_window_hours": 12,
                "late_cancellation_refund_percent": 40,
                "accepts_cash": False,
            }
        ]
    }
