"""A video visit in two Chromium contexts with fake camera and microphone (issue 11): doctor
and patient join the room, each decodes the other's video (getStats: inbound-rtp
framesDecoded), the patient hangs up and rejoins and the call resumes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from app.models import Role, SlotMode
from app.services.chat import conversations
from tests.e2e.conftest import launch, signed_in_context
from tests.factories import PASSWORD, make_appointment, make_doctor, make_slot, make_user

pytestmark = pytest.mark.e2e

MEDIA_FLAGS = [
    "--use-fake-device-for-media-stream",  # a test pattern and a beep instead of devices
    "--use-fake-ui-for-media-stream",  # the permission prompt answers yes
    "--allow-loopback-in-peer-connection",  # both browsers are on 127.0.0.1
    "--disable-features=WebRtcHideLocalIpsWithMdns",  # candidates with plain addresses
]
MY_MICROPHONE_ON = (
    "() => document.querySelector('video.visit-local').srcObject.getAudioTracks()[0].enabled"
)
FRAMES = "() => window.carebookVisit && window.carebookVisit.framesDecoded()"


@pytest.fixture(scope="module")
def media_browser(playwright_driver):
    browser = launch(playwright_driver, *MEDIA_FLAGS)
    yield browser
    browser.close()


def _frames_decoded_above(page, floor: int, timeout: float = 20_000) -> int:
    page.wait_for_function(f"async () => (await ({FRAMES})()) > {floor}", timeout=timeout)
    return page.evaluate(f"({FRAMES})()")


def test_both_see_each_other_then_a_hang_up_and_rejoin_resumes_the_call(
    media_browser, one_process_server, ctx
):
    doctor = make_doctor(name="Dr. Amara Obi")
    patient = make_user(Role.PATIENT, email="nell@example.com", name="Nell Ward")
    start = (datetime.now(UTC) + timedelta(minutes=2)).replace(second=0, microsecond=0)
    appointment = make_appointment(make_slot(doctor, start=start, mode=SlotMode.VIDEO), patient)
    conversations.open_conversation(actor_id=patient.id, doctor_id=doctor.id, now=datetime.now(UTC))
    room = f"/visits/{appointment.id}"

    patient_context, patient_page = _open(media_browser, one_process_server, patient.email, room)
    expect(patient_page.get_by_test_id("visit-status")).to_have_text("Waiting for the doctor…")
    expect(patient_page.get_by_test_id("thread")).to_be_visible()  # the chat beside the video

    doctor_context, doctor_page = _open(
        media_browser, one_process_server, doctor.user.email, "/doctor/"
    )
    row = doctor_page.get_by_test_id("visit-room-row")
    expect(row.get_by_test_id("visit-waiting")).to_have_text("is waiting for you")
    row.get_by_test_id("visit-join").click()
    expect(doctor_page).to_have_url(f"{one_process_server}{room}")

    for page, other in ((patient_page, "Dr. Amara Obi"), (doctor_page, "Nell Ward")):
        expect(page.get_by_test_id("visit-status")).to_have_text(f"In the call with {other}.")
        _frames_decoded_above(page, 0)
    expect(patient_page.get_by_test_id("media-error")).to_be_hidden()

    patient_page.get_by_test_id("mute").click()
    expect(patient_page.get_by_test_id("mute")).to_have_attribute("aria-pressed", "true")
    assert patient_page.evaluate(MY_MICROPHONE_ON) is False

    patient_page.get_by_test_id("hangup").click()
    expect(patient_page.get_by_test_id("rejoin")).to_be_visible()
    expect(doctor_page.get_by_test_id("visit-status")).to_contain_text("Nell Ward left the call")

    patient_page.get_by_test_id("rejoin").click()
    for page, other in ((patient_page, "Dr. Amara Obi"), (doctor_page, "Nell Ward")):
        expect(page.get_by_test_id("visit-status")).to_have_text(f"In the call with {other}.")
        resumed = _frames_decoded_above(page, 0)
        _frames_decoded_above(page, resumed)  # frames keep coming on the new connection

    # The patient's connection to Carebook drops: the socket reconnects, rejoins the room by
    # itself and the call is set up again.
    patient_page.evaluate("() => window.carebookLive.user().io.engine.close()")
    expect(doctor_page.get_by_test_id("visit-status")).to_contain_text("Nell Ward left the call")
    for page, other in ((patient_page, "Dr. Amara Obi"), (doctor_page, "Nell Ward")):
        expect(page.get_by_test_id("visit-status")).to_have_text(f"In the call with {other}.")
        _frames_decoded_above(page, 0)

    doctor_context.close()
    patient_context.close()


REFUSE_MEDIA = """
navigator.mediaDevices.getUserMedia = () =>
  Promise.reject(new DOMException("Permission denied", "NotAllowedError"));
"""


def test_a_refused_camera_and_microphone_is_said_plainly_and_the_room_still_opens(
    media_browser, one_process_server, ctx
):
    doctor = make_doctor(name="Dr. Amara Obi")
    patient = make_user(Role.PATIENT, email="ivo@example.com", name="Ivo Lind")
    start = (datetime.now(UTC) + timedelta(minutes=2)).replace(second=0, microsecond=0)
    appointment = make_appointment(make_slot(doctor, start=start, mode=SlotMode.VIDEO), patient)

    context = media_browser.new_context(base_url=one_process_server)
    context.set_default_timeout(15_000)
    context.add_init_script(REFUSE_MEDIA)  # as when the person clicks "Block"
    page = context.new_page()
    page.goto("/login")
    page.get_by_label("Email").fill(patient.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_test_id("signed-in-as")).to_be_attached()
    page.goto(f"/visits/{appointment.id}")

    error = page.get_by_test_id("media-error")
    expect(error).to_be_visible()
    expect(error).to_contain_text("Carebook may not use your camera and microphone")
    expect(error).to_contain_text("Allow them for this site")
    # Still in the waiting room: the doctor can be seen and heard when they come.
    expect(page.get_by_test_id("visit-status")).to_have_text("Waiting for the doctor…")
    expect(page.get_by_test_id("hangup")).to_be_enabled()
    expect(page.get_by_test_id("mute")).to_be_disabled()
    context.close()


def _open(browser, base_url: str, email: str, path: str):
    context, page = signed_in_context(browser, base_url, email, timeout=15_000)
    page.goto(path)
    return context, page
