"""A doctor's photo: uploaded on their profile page, checked from its bytes, cleaned, resized,
served with long caching, replaced and removed; shown on search and on the doctor's page."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from app.extensions import db
from app.models import AuditLog, Role
from tests.factories import make_doctor, make_user


def image_bytes(fmt: str = "PNG", size=(400, 300), color=(200, 30, 30), **save) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, format=fmt, **save)
    return out.getvalue()


def upload(client, data: bytes, filename: str = "me.png", query: str = ""):
    # Encoded here, in memory: the test client spools a large body to a file it never closes.
    boundary, body = encode_multipart(
        MultiDict({"photo": FileStorage(io.BytesIO(data), filename), "submit": "Upload photo"})
    )
    return client.post(
        f"/doctor/profile/photo{query}",
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
    )


@pytest.fixture
def doctor(client, auth):
    doctor = make_doctor(name="Dr. Maya Chen")
    auth.login(doctor.user.email)
    return doctor


def test_an_uploaded_png_is_shown_on_the_profile_search_and_doctor_page(client, doctor):
    response = upload(client, image_bytes("PNG"))

    assert response.status_code == 302
    profile = client.get("/doctor/profile").get_data(as_text=True)
    assert "Photo saved" in profile
    db.session.refresh(doctor)
    assert doctor.photo_hash
    large = f"/media/doctors/{doctor.id}/{doctor.photo_hash}-256.webp"
    assert f'src="{large}" alt="Dr. Maya Chen"' in profile
    search = client.get("/doctors").get_data(as_text=True)
    small = f"/media/doctors/{doctor.id}/{doctor.photo_hash}-96.webp"
    assert f'src="{small}" alt="Dr. Maya Chen"' in search
    page = client.get(f"/doctors/{doctor.id}").get_data(as_text=True)
    assert f'src="{large}" alt="Dr. Maya Chen"' in page
    assert (
        db.session.scalar(db.select(AuditLog.action).where(AuditLog.target_id == str(doctor.id)))
        == "doctor.photo_set"
    )


def test_served_photo_is_a_square_webp_cached_for_good(client, doctor):
    upload(client, image_bytes("PNG", size=(640, 480)))
    db.session.refresh(doctor)

    for size in (256, 96):
        response = client.get(f"/media/doctors/{doctor.id}/{doctor.photo_hash}-{size}.webp")
        assert response.status_code == 200
        assert response.mimetype == "image/webp"
        assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert "Set-Cookie" not in response.headers
        etag = response.headers["ETag"]
        image = Image.open(io.BytesIO(response.data))
        assert (image.format, image.size) == ("WEBP", (size, size))
        again = client.get(
            f"/media/doctors/{doctor.id}/{doctor.photo_hash}-{size}.webp",
            headers={"If-None-Match": etag},
        )
        assert again.status_code == 304


def test_jpeg_is_turned_upright_and_loses_its_metadata(client, doctor):
    # 300x200 landscape, tagged "rotate": the left part of the picture is red, right blue.
    image = Image.new("RGB", (300, 200), (0, 0, 255))
    image.paste((255, 0, 0), (0, 0, 150, 200))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to view
    exif[0x010F] = "SecretCam"
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif, quality=95)

    assert upload(client, out.getvalue(), "me.jpg").status_code == 302
    db.session.refresh(doctor)
    served = client.get(f"/media/doctors/{doctor.id}/{doctor.photo_hash}-256.webp").data
    photo = Image.open(io.BytesIO(served))
    assert not photo.getexif()
    assert not {"exif", "xmp", "icc_profile"} & set(photo.info)
    assert b"SecretCam" not in served
    # Turned upright, the red half is on top and the blue half below.
    top, bottom = (
        photo.convert("RGB").getpixel((128, 20)),
        photo.convert("RGB").getpixel((128, 235)),
    )
    assert top[0] > 200 and top[2] < 60
    assert bottom[2] > 200 and bottom[0] < 60


def test_a_webp_upload_is_accepted(client, doctor):
    assert upload(client, image_bytes("WEBP"), "me.webp").status_code == 302


@pytest.mark.parametrize(
    ("data", "filename", "message"),
    [
        (b"GIF89a" + b"\0" * 200, "me.jpg", "must be a JPEG, PNG or WebP image"),
        (b"<?php echo 'hello'; ?>", "me.png", "must be a JPEG, PNG or WebP image"),
        (image_bytes("GIF"), "me.gif", "must be a JPEG, PNG or WebP image"),
        (image_bytes("PNG")[:120], "me.png", "could not be read"),
        (image_bytes("JPEG")[:400], "me.jpg", "could not be read"),
        (image_bytes("PNG", size=(40, 40)), "me.png", "too small"),
    ],
    ids=["gif-named-jpg", "script-named-png", "gif", "truncated-png", "truncated-jpeg", "tiny"],
)
def test_what_is_not_a_usable_photo_gets_a_form_error(client, doctor, data, filename, message):
    response = upload(client, data, filename)

    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    db.session.refresh(doctor)
    assert doctor.photo_hash is None


def test_a_photo_over_5_mb_gets_a_form_error(client, doctor):
    padded = image_bytes("PNG") + b"\0" * (5 * 1024 * 1024)  # PNG readers ignore the tail

    response = upload(client, padded)

    assert response.status_code == 422
    assert "larger than 5 MB" in response.get_data(as_text=True)


def test_a_file_far_over_the_limit_is_refused_before_reading_with_a_message(client, doctor):
    # Declared 8 MB (past the upload's own limit): nothing of the body is read.
    response = client.post(
        "/doctor/profile/photo",
        content_type="multipart/form-data; boundary=x",
        environ_overrides={"wsgi.input": io.BytesIO(), "CONTENT_LENGTH": str(8 * 1024 * 1024)},
    )

    assert response.status_code == 303
    assert response.headers["Location"].endswith("/doctor/profile")
    page = client.get("/doctor/profile").get_data(as_text=True)
    assert "larger than the 5 MB allowed" in page


def test_a_new_photo_has_new_urls_and_the_old_ones_are_gone(client, doctor):
    upload(client, image_bytes("PNG", color=(255, 0, 0)))
    db.session.refresh(doctor)
    first = f"/media/doctors/{doctor.id}/{doctor.photo_hash}-256.webp"

    upload(client, image_bytes("PNG", color=(0, 255, 0)))
    db.session.refresh(doctor)
    second = f"/media/doctors/{doctor.id}/{doctor.photo_hash}-256.webp"

    assert first != second
    assert client.get(second).status_code == 200
    assert client.get(first).status_code == 404


def test_removing_the_photo_shows_initials_and_the_file_is_gone(client, doctor):
    upload(client, image_bytes("PNG"))
    db.session.refresh(doctor)
    url = f"/media/doctors/{doctor.id}/{doctor.photo_hash}-96.webp"

    response = client.post("/doctor/profile/photo/remove", data={"submit": "Remove photo"})

    assert response.status_code == 302
    assert client.get(url).status_code == 404
    search = client.get("/doctors").get_data(as_text=True)
    assert 'data-testid="doctor-initials">MC</span>' in search
    assert "/media/doctors/" not in search


@pytest.mark.parametrize(
    "path",
    ["/media/doctors/1/0123456789abcdef-256.webp", "/media/doctors/1/x.webp", "/media/doctors/9/a"],
)
def test_unknown_photos_are_404(client, path):
    make_doctor()
    assert client.get(path).status_code == 404


def test_a_doctor_cannot_change_another_doctors_photo(client, auth):
    owner = make_doctor()
    other = make_doctor()
    auth.login(other.user.email)

    response = upload(client, image_bytes("PNG"), query=f"?doctor_id={owner.id}")
    removal = client.post(f"/doctor/profile/photo/remove?doctor_id={owner.id}")

    assert response.status_code == 403
    assert removal.status_code == 403
    db.session.refresh(owner)
    assert owner.photo_hash is None


def test_a_patient_cannot_upload_a_photo(client, auth):
    patient = make_user(Role.PATIENT)
    auth.login(patient.email)
    assert upload(client, image_bytes("PNG")).status_code == 403


def test_an_admin_sets_a_doctors_photo_from_the_doctor_pages(client, auth):
    doctor = make_doctor(name="Dr. Ana Silva")
    admin = make_user(Role.ADMIN)
    auth.login(admin.email)

    edit = client.get(f"/admin/doctors/{doctor.id}/edit").get_data(as_text=True)
    assert f"/doctor/profile?doctor_id={doctor.id}" in edit
    response = upload(client, image_bytes("JPEG"), "x.jpg", query=f"?doctor_id={doctor.id}")

    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/doctor/profile?doctor_id={doctor.id}")
    db.session.refresh(doctor)
    assert doctor.photo_hash
