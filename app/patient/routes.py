"""Finding a doctor: the search page, a doctor's page with a week of free slots, the waitlist."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user

from app.httpcache import cacheable
from app.models import Role
from app.patient import bp
from app.patient.forms import SearchForm, WaitlistForm, WeekForm
from app.patient.presenters import by_local_day, closed_slot_ids, waitlist_days, week_days
from app.rbac import public, roles_required
from app.services import catalogue
from app.services.errors import DomainError, InvalidInput
from app.services.l10n import format_dt
from app.services.localtime import day_bounds, zone
from app.services.reviews import listing as review_listing
from app.services.scheduling import booking
from app.services.scheduling.appointments import public_doctor
from app.services.scheduling.search import DoctorSearch, search_doctors, slot_listing

# How far ahead the week browser goes (keeps dates far from date.max).
FURTHEST_WEEK = timedelta(days=3660)
# The service's field names, where they differ from the form's.
SEARCH_FIELDS = {"near": "lat", "per_page": "page"}


def _criteria(form: SearchForm) -> DoctorSearch:
    return DoctorSearch(
        specialty=form.specialty.data or None,
        clinic_id=form.clinic.data,
        city=form.city.data or None,
        q=form.q.data or None,
        available_on=form.available_on.data,
        near=form.near,
        radius_km=form.radius_km.data,
        language=form.language.data or None,
        sort=form.sort.data or "relevance",
        page=form.page.data or 1,
    )


def _show_on_form(form: SearchForm, exc: InvalidInput) -> None:
    name = exc.details.get("field", "")
    field = getattr(form, SEARCH_FIELDS.get(name, name), None) if name else None
    if field is not None and hasattr(field, "errors"):
        field.errors = [*field.errors, exc.message]
    else:
        form.form_errors.append(exc.message)


@bp.get("/doctors")
@public
@cacheable()
def search():
    form = SearchForm(formdata=request.args)
    form.set_choices(catalogue.specialties(), catalogue.clinics())
    results, status = None, 200
    if form.validate():
        try:
            results = search_doctors(_criteria(form), now=datetime.now(UTC))
        except InvalidInput as exc:
            _show_on_form(form, exc)
            status = exc.status_code
    else:
        status = 422
    # Pagination links keep the filters (and only the filters that were given).
    query = {k: v for k, v in request.args.items() if k != "page" and v.strip()}
    return render_template("patient/search.html", form=form, results=results, query=query), status


@bp.get("/doctors/<int:doctor_id>")
@public
@cacheable()
def doctor(doctor_id: int):
    now = datetime.now(UTC)
    doctor = public_doctor(doctor_id)
    tz = zone(doctor.timezone)
    today = now.astimezone(tz).date()
    week_form = WeekForm(formdata=request.args)
    if not week_form.validate():
        if week_form.reviews_page.errors:
            abort(422, gettext("The page of reviews is a number from 1 to 10000."))
        abort(422, gettext("The week is a date such as 2031-03-07."))
    first = max(week_form.week.data or today, today)  # past weeks have nothing to book
    if first > today + FURTHEST_WEEK:
        abort(422, gettext("Pick a week within the next ten years."))
    days = week_days(first)
    start, _ = day_bounds(days[0], tz)
    _, end = day_bounds(days[-1], tz)
    # Taken slots too: a day whose times are all taken is the one a waitlist is for.
    listing = slot_listing(
        doctor_id=doctor.id, start=max(start, now), end=end, available_only=False, now=now
    )
    free = [slot for slot, available in listing if available]
    can_wait = current_user.is_authenticated and current_user.role is Role.PATIENT
    return render_template(
        "patient/doctor.html",
        doctor=doctor,
        week=by_local_day(free, tz, days),
        closed=closed_slot_ids(free, doctor.clinic, now),
        waitlist_days=waitlist_days(listing, tz),
        chosen_day=week_form.week.data,
        prev_week=max(first - timedelta(days=7), today) if first > today else None,
        next_week=first + timedelta(days=7),
        # Only a patient is offered the waitlist: only they get its form and CSRF token (which
        # would give every visitor a session cookie, and the page could not be cached).
        waitlist_form=WaitlistForm() if can_wait else None,
        can_wait=can_wait,
        reviews=review_listing.visible_reviews(
            doctor_id=doctor.id, page=week_form.reviews_page.data or 1
        ),
        review_author=review_listing.author_name,
    )


@bp.post("/doctors/<int:doctor_id>/waitlist")
@roles_required(Role.PATIENT)
def join_waitlist(doctor_id: int):
    form = WaitlistForm()
    if not form.validate():
        abort(422, gettext("Pick the day you would like to wait for."))
    day = form.day.data
    try:
        booking.join_waitlist(
            patient_id=current_user.id, doctor_id=doctor_id, day=day, now=datetime.now(UTC)
        )
    except DomainError as exc:
        if exc.status_code == 404:
            raise
        flash(exc.message, "error")
    else:
        flash(
            # A freed slot records a notice for the first patients waiting (booking's
            # _free_slot_side_effects); nothing delivers it yet, so promise only the place.
            gettext(
                "You are on the waitlist for %(day)s: we keep your place. We cannot tell you yet "
                "when a time comes free, so check this page again.",
                day=format_dt(day, "%A %d %B"),
            ),
            "success",
        )
    return redirect(url_for("patient.doctor", doctor_id=doctor_id, week=day.isoformat()))
