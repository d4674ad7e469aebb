"""A patient reviews a completed visit from its page in a real browser, and the rating and
the comment (as text) appear on the doctor's public page."""

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import sign_in
from tests.factories import make_completed_visit, make_doctor, make_user

pytestmark = pytest.mark.e2e


def test_patient_reviews_a_completed_visit_and_the_rating_shows_on_the_doctors_page(ctx, page):
    doctor = make_doctor(name="Dr Rated Rivera")
    visit = make_completed_visit(doctor, make_user(name="Robin Quill"))
    sign_in(page, visit.patient.email)

    page.goto(f"/appointments/{visit.id}")
    panel = page.get_by_test_id("review-panel")
    expect(panel.get_by_text("How was your visit?")).to_be_visible()
    panel.get_by_label("4 stars").check()
    panel.get_by_label("Comment (optional)").fill("Clear <b>advice</b>\nand on time.")
    panel.get_by_role("button", name="Publish the review").click()

    expect(page.get_by_text("Thank you: your review is published")).to_be_visible()
    expect(page.get_by_test_id("my-rating")).to_have_attribute("aria-label", "4 out of 5 stars")
    expect(page.get_by_text("Change your review (until")).to_be_visible()

    page.get_by_role("link", name="Dr Rated Rivera").first.click()
    expect(page.get_by_test_id("rating").first).to_contain_text("4.0")
    expect(page.get_by_test_id("rating").first).to_contain_text("(1 review)")
    review = page.get_by_test_id("review")
    expect(review).to_have_count(1)
    expect(review.get_by_test_id("review-comment")).to_have_text(
        "Clear <b>advice</b>\nand on time."
    )
    expect(review).to_contain_text("Robin Q.")
    assert review.locator("b").count() == 0  # the comment's markup is text, not HTML
