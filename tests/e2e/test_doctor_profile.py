"""In Chromium: a doctor sets their photo and languages on the Profile page, and a patient
finds them on the search page with its sort select and language filter."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from playwright.sync_api import expect

from tests.e2e.conftest import sign_in
from tests.factories import make_doctor

pytestmark = pytest.mark.e2e


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (480, 360), (0, 105, 92)).save(out, format="PNG")
    return out.getvalue()


def _loaded(image) -> int:
    """The picture's natural width once the browser has decoded it (0: blocked or broken)."""
    return image.evaluate("img => img.decode().then(() => img.naturalWidth, () => 0)")


def test_doctor_sets_photo_and_languages_and_patients_find_them(page, ctx):
    doctor = make_doctor(name="Dr. Sofia Rivera", fee_amount=15000)
    make_doctor(name="Dr. Aaron Cheap", fee_amount=8000)
    sign_in(page, doctor.user.email)

    page.get_by_role("link", name="Profile").click()
    expect(page.get_by_role("heading", name="Profile")).to_be_visible()
    expect(page.locator("[data-testid=doctor-initials]")).to_have_text("SR")
    page.get_by_label("Spanish").check()
    page.get_by_label("English").check()
    page.get_by_role("button", name="Save languages").click()
    expect(page.get_by_role("status")).to_contain_text("Languages saved.")
    page.get_by_label("Photo (JPEG, PNG or WebP)").set_input_files(
        {"name": "me.png", "mimeType": "image/png", "buffer": _png()}
    )
    page.get_by_role("button", name="Upload photo").click()
    expect(page.get_by_role("status")).to_contain_text("Photo saved")
    photo = page.get_by_role("img", name="Dr. Sofia Rivera")
    expect(photo).to_be_visible()
    assert _loaded(photo) == 256  # served under the site's CSP (img-src 'self')

    page.get_by_role("button", name="Sign out").click()
    page.goto("/doctors")
    sort = page.get_by_label("Sort by")
    expect(sort).to_be_visible()
    names = page.locator("[data-testid=doctor-result] h3 a")
    expect(names).to_have_text(["Dr. Aaron Cheap", "Dr. Sofia Rivera"])
    sort.select_option(label="Price: high to low")
    page.get_by_role("button", name="Search").click()
    expect(names).to_have_text(["Dr. Sofia Rivera", "Dr. Aaron Cheap"])
    rivera = page.locator("[data-testid=doctor-result]").first
    expect(rivera.locator("[data-testid=languages]")).to_have_text("English, Spanish")
    thumbnail = rivera.get_by_role("img", name="Dr. Sofia Rivera")
    expect(thumbnail).to_be_visible()
    assert _loaded(thumbnail) == 96

    page.get_by_label("Speaks").select_option(label="Spanish")
    page.get_by_role("button", name="Search").click()
    expect(names).to_have_text(["Dr. Sofia Rivera"])
    expect(page.get_by_label("Sort by")).to_have_value("price_desc")
