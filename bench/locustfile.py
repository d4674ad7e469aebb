"""The mixed load of `bench/bench_mix.py`: simulated patients browsing, searching, opening
doctor pages, booking and cancelling, each with a think time between steps.

Run through bench_mix.py (it prepares the patients, their tokens and the doctors and starts
the server); the environment carries what it prepared:
  MIX_TOKENS      file with one bearer token per line (one simulated patient each)
  MIX_DOCTORS     file with one "doctor_id,clinic_id" per line (doctors that take cash)
  MIX_DAY         a day (YYYY-MM-DD) with free slots, for available_on and the slot listings
"""

from __future__ import annotations

import itertools
import os
import random
import threading
from datetime import date, timedelta
from pathlib import Path

from locust import FastHttpUser, between, task

TOKENS = Path(os.environ["MIX_TOKENS"]).read_text().split()
DOCTORS = [
    tuple(map(int, line.split(","))) for line in Path(os.environ["MIX_DOCTORS"]).read_text().split()
]
DAY = date.fromisoformat(os.environ["MIX_DAY"])
# Parts of the bench database's names (bench/seed_large.py) and its specialties' slugs.
NAMES = ("ada", "gar", "ngu", "ros", "elena", "hiro", "tan", "ben")
SPECIALTIES = ("cardiology", "dermatology", "pediatrics", "neurology", "psychiatry")
_next_token = itertools.count()
_lock = threading.Lock()


class Patient(FastHttpUser):
    """One patient: mostly reading, now and then a booking that is cancelled again."""

    wait_time = between(1, 3)

    def on_start(self) -> None:
        with _lock:
            token = TOKENS[next(_next_token) % len(TOKENS)]
        self.bearer = {"Authorization": f"Bearer {token}"}

    def _day(self) -> date:
        return DAY + timedelta(days=random.randrange(7))

    def _one_day(self) -> str:
        day = self._day()
        return f"from={day.isoformat()}&to={(day + timedelta(days=1)).isoformat()}"

    @task(1)
    def floor(self) -> None:
        """The reference of the same run: the framework's floor (reads nothing)."""
        self.client.get("/healthz", name="reference: /healthz")

    @task(2)
    def home(self) -> None:
        self.client.get("/", name="page: home")

    @task(3)
    def search_page(self) -> None:
        self.client.get(
            f"/doctors?specialty={random.choice(SPECIALTIES)}", name="page: search by specialty"
        )

    @task(3)
    def search_api(self) -> None:
        choice = random.random()
        if choice < 0.4:
            self.client.get(
                f"/api/v1/doctors?available_on={self._day().isoformat()}",
                name="api: doctors available_on",
            )
        elif choice < 0.7:
            self.client.get(f"/api/v1/doctors?q={random.choice(NAMES)}", name="api: doctors q")
        else:
            _, clinic_id = random.choice(DOCTORS)
            self.client.get(f"/api/v1/doctors?clinic_id={clinic_id}", name="api: doctors clinic")

    @task(3)
    def doctor_page(self) -> None:
        doctor_id, _ = random.choice(DOCTORS)
        self.client.get(f"/doctors/{doctor_id}", name="page: doctor")

    @task(2)
    def slots_api(self) -> None:
        doctor_id, _ = random.choice(DOCTORS)
        self.client.get(
            f"/api/v1/doctors/{doctor_id}/slots?{self._one_day()}&available=true",
            name="api: a doctor's slots for a day",
        )

    @task(1)
    def book_and_cancel(self) -> None:
        """Book one of a doctor's free slots with cash, then cancel it (409: somebody was
        quicker, which the mix counts as a success: it is the right answer)."""
        doctor_id, _ = random.choice(DOCTORS)
        listing = self.client.get(
            f"/api/v1/doctors/{doctor_id}/slots?{self._one_day()}&available=true",
            name="api: a doctor's slots for a day",
        )
        slots = listing.json().get("items", []) if listing.status_code == 200 else []
        if not slots:
            return
        slot = random.choice(slots)
        with self.client.post(
            "/api/v1/appointments",
            # A slot inside the clinic's no-change window needs the policy acknowledged (422
            # policy_not_acknowledged otherwise), as the booking page asks a patient to.
            json={"slot_id": slot["id"], "payment_method": "cash", "acknowledge_policy": True},
            headers=self.bearer,
            name="api: book",
            catch_response=True,
        ) as booked:
            if booked.status_code == 409:
                booked.success()
                return
            if booked.status_code != 201:
                booked.failure(f"{booked.status_code}: {booked.text[:200]}")
                return
        appointment_id = booked.json()["id"]
        self.client.post(
            f"/api/v1/appointments/{appointment_id}/cancel",
            json={},
            headers=self.bearer,
            name="api: cancel",
        )
