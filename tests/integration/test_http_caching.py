"""Public reads are cacheable (ETag, Cache-Control, 304), HTML and JSON go gzip-compressed
to clients that take it, and static files have fingerprinted, immutable URLs; nothing
personal is ever marked cacheable."""

from __future__ import annotations

import gzip
import re

from tests.factories import make_clinic, make_doctor, make_specialty

GZIP = {"Accept-Encoding": "gzip"}


def test_public_reads_carry_an_etag_and_answer_304_when_unchanged(client):
    for n in range(12):
        make_doctor(name=f"Dr. Etag {n}")
    for path, cache_control in (
        ("/api/v1/doctors", "public, no-cache"),
        ("/api/v1/specialties", "public, max-age=300"),
        ("/api/v1/clinics", "public, max-age=300"),
        ("/doctors?q=etag", "public, no-cache"),
        ("/", "public, no-cache"),
    ):
        first = client.get(path)
        assert first.status_code == 200
        assert first.headers["Cache-Control"] == cache_control, path
        etag = first.headers["ETag"]
        again = client.get(path, headers={"If-None-Match": etag})
        assert (again.status_code, again.data) == (304, b""), path
    # A change is a new ETag.
    before = client.get("/api/v1/specialties").headers["ETag"]
    make_specialty("Nephrology", "nephrology")
    changed = client.get("/api/v1/specialties", headers={"If-None-Match": before})
    assert changed.status_code == 200 and b"Nephrology" in changed.data


def test_a_doctors_page_is_cacheable_for_visitors_not_for_signed_in_users(client, auth):
    doctor = make_doctor()
    page = client.get(f"/doctors/{doctor.id}")
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "public, no-cache" and "ETag" in page.headers
    assert "Set-Cookie" not in page.headers  # no session for a visitor: nothing personal
    from app.models import Role
    from tests.factories import make_user

    patient = make_user(Role.PATIENT)
    auth.login(patient.email)
    mine = client.get(f"/doctors/{doctor.id}")
    assert mine.headers["Cache-Control"] == "no-store" and "ETag" not in mine.headers


def test_bearer_token_answers_are_never_marked_cacheable(client, auth):
    from app.models import Role
    from tests.factories import make_user

    make_doctor()
    token = auth.token(make_user(Role.PATIENT).email)
    answer = client.get("/api/v1/doctors", headers={"Authorization": f"Bearer {token}"})
    assert answer.headers["Cache-Control"] == "no-store" and "ETag" not in answer.headers


def test_html_and_json_over_a_kilobyte_are_gzipped_for_clients_that_take_it(client):
    clinic = make_clinic()
    for n in range(15):
        make_doctor(clinic=clinic, name=f"Dr. Zip {n}")
    plain = client.get("/api/v1/doctors")
    zipped = client.get("/api/v1/doctors", headers=GZIP)
    assert "Content-Encoding" not in plain.headers
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(zipped.data) == plain.data
    assert len(zipped.data) < len(plain.data) / 2
    assert "Accept-Encoding" in zipped.headers["Vary"]
    assert zipped.headers["ETag"] != plain.headers["ETag"]  # two representations
    assert client.get("/api/v1/doctors", headers={**GZIP, "If-None-Match": zipped.headers[
        "ETag"]}).status_code == 304  # fmt: skip
    page = client.get("/doctors?q=zip", headers=GZIP)
    assert page.headers["Content-Encoding"] == "gzip" and b"Dr. Zip" in gzip.decompress(page.data)
    refused = client.get("/api/v1/doctors", headers={"Accept-Encoding": "gzip;q=0, br"})
    assert "Content-Encoding" not in refused.headers
    # Small answers are not worth it.
    small = client.get("/healthz", headers=GZIP)
    assert "Content-Encoding" not in small.headers


def test_static_files_have_fingerprinted_urls_cached_for_good(client):
    page = client.get("/login").get_data(as_text=True)
    urls = re.findall(r'(/static/[^"]+\?v=[0-9a-f]{12})', page)
    assert urls, "no fingerprinted static URL on the page"
    url = urls[0].replace("&amp;", "&")
    with client.get(url) as fresh:
        assert fresh.status_code == 200
        assert fresh.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    with client.get(url.split("?")[0] + "?v=000000000000") as stale:
        assert "immutable" not in stale.headers.get("Cache-Control", "")
