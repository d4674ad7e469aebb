"""Forms of the patient pages: a GET search form and the CSRF-protected booking forms."""

from __future__ import annotations

from flask_babel import gettext, lazy_gettext, lazy_ngettext
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    FloatField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from app.services.languages import language_choices

MAX_PAGE = 10_000  # far beyond any real listing; keeps OFFSET within the database's range


def optional_int(value) -> int | None:
    """'' (any) becomes None; anything else must be an integer."""
    if value in (None, "", "None"):
        return None
    return int(value)


class SearchForm(FlaskForm):
    """Read from the query string: a search changes nothing, so it has no CSRF token."""

    class Meta:
        csrf = False

    specialty = SelectField(
        lazy_gettext("Specialty"),
        choices=[SelectChoice("", lazy_gettext("Any specialty"))],
        default="",
    )
    clinic = SelectField(
        lazy_gettext("Clinic"),
        coerce=optional_int,
        choices=[SelectChoice("", lazy_gettext("Any clinic"))],
    )
    city = StringField(lazy_gettext("City"), validators=[Optional(), Length(max=120)])
    q = StringField(lazy_gettext("Doctor's name"), validators=[Optional(), Length(max=120)])
    available_on = DateField(lazy_gettext("Free on"), validators=[Optional()])
    lat = FloatField(
        lazy_gettext("Latitude"),
        validators=[Optional(), NumberRange(-90, 90)],
        render_kw={"step": "any"},
    )
    lng = FloatField(
        lazy_gettext("Longitude"),
        validators=[Optional(), NumberRange(-180, 180)],
        render_kw={"step": "any"},
    )
    radius_km = FloatField(
        lazy_gettext("Within (km)"),
        validators=[Optional()],
        render_kw={"step": "any", "min": "1", "placeholder": "25"},
    )
    # Unknown values are the search service's to refuse, with its own clear message.
    language = SelectField(
        lazy_gettext("Speaks"),
        choices=[SelectChoice("", lazy_gettext("Any language"))]
        + [SelectChoice(code, name) for code, name in language_choices()],
        default="",
        validate_choice=False,
    )
    sort = SelectField(
        lazy_gettext("Sort by"),
        choices=[
            SelectChoice("relevance", lazy_gettext("Best match")),
            SelectChoice("price", lazy_gettext("Price: low to high")),
            SelectChoice("price_desc", lazy_gettext("Price: high to low")),
            SelectChoice("earliest", lazy_gettext("Earliest available")),
            SelectChoice("rating", lazy_gettext("Best rated")),
        ],
        default="relevance",
        validate_choice=False,
    )
    page = IntegerField(
        lazy_gettext("Page"), validators=[Optional(), NumberRange(min=1, max=MAX_PAGE)]
    )

    def set_choices(self, specialties, clinics) -> None:
        self.specialty.choices = [SelectChoice("", gettext("Any specialty"))] + [
            SelectChoice(s.slug, s.name) for s in specialties
        ]
        self.clinic.choices = [SelectChoice("", gettext("Any clinic"))] + [
            SelectChoice(str(c.id), c.name) for c in clinics
        ]
        # The languages' names in the reader's language ('inglés'), sorted in it.
        self.language.choices = [SelectChoice("", gettext("Any language"))] + [
            SelectChoice(code, name) for code, name in language_choices()
        ]

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        if not (self.lat.errors or self.lng.errors) and (self.lat.data is None) != (
            self.lng.data is None
        ):
            self.lat.errors = [*self.lat.errors, gettext("Give both latitude and longitude.")]
            ok = False
        if self.radius_km.data is not None and self.near is None:
            self.radius_km.errors = [
                *self.radius_km.errors,
                "A distance needs a place: use your location or give latitude and longitude.",
            ]
            ok = False
        return ok

    @property
    def near(self) -> tuple[float, float] | None:
        if self.lat.data is None or self.lng.data is None:
            return None
        return (self.lat.data, self.lng.data)


class WaitlistForm(FlaskForm):
    day = DateField(lazy_gettext("Day"), validators=[InputRequired()])
    submit = SubmitField(lazy_gettext("Join the waitlist"))


class BookForm(FlaskForm):
    # The page offers cash only where the clinic takes it; the booking service checks too.
    payment_method = RadioField(
        lazy_gettext("Payment"),
        choices=[
            SelectChoice("card", lazy_gettext("Pay by card now")),
            SelectChoice("cash", lazy_gettext("Pay at the clinic (cash)")),
        ],
        default="card",
    )
    notes = TextAreaField(
        lazy_gettext("Notes for the doctor (optional)"), validators=[Optional(), Length(max=2000)]
    )
    acknowledge_policy = BooleanField(
        lazy_gettext("I understand this time is inside the clinic's no-change window")
    )
    submit = SubmitField(lazy_gettext("Confirm booking"))


class CancelForm(FlaskForm):
    submit = SubmitField(lazy_gettext("Cancel appointment"))


class RescheduleForm(FlaskForm):
    slot_id = IntegerField(
        lazy_gettext("New time"),
        validators=[InputRequired(message=lazy_gettext("Pick a new time."))],
    )
    acknowledge_policy = BooleanField(
        lazy_gettext("I understand this time is inside the clinic's no-change window")
    )
    submit = SubmitField(lazy_gettext("Move my appointment"))


class WeekForm(FlaskForm):
    """?week=YYYY-MM-DD (and ?reviews_page=) on the doctor page."""

    class Meta:
        csrf = False

    week = DateField(lazy_gettext("Week starting"), validators=[Optional()])
    reviews_page = IntegerField(
        lazy_gettext("Reviews page"), validators=[Optional(), NumberRange(1, 10_000)]
    )


class ReviewForm(FlaskForm):
    """A review of a completed visit (also its change within the edit window)."""

    rating = RadioField(
        lazy_gettext("Rating"),
        choices=[
            SelectChoice(str(n), lazy_ngettext("%(num)d star", "%(num)d stars", n))
            for n in range(5, 0, -1)
        ],
        validators=[InputRequired(message=lazy_gettext("Choose a rating from 1 to 5 stars."))],
    )
    comment = TextAreaField(
        lazy_gettext("Comment (optional)"),
        validators=[
            Optional(),
            Length(max=2000, message=lazy_gettext("At most 2,000 characters.")),
        ],
        render_kw={"maxlength": 2000, "rows": 5},
    )
    submit = SubmitField(lazy_gettext("Publish the review"))


class ConsultForm(FlaskForm):
    """Ask for an on-demand video consult ("See a doctor now")."""

    specialty = SelectField(
        lazy_gettext("Specialty"), validators=[InputRequired(lazy_gettext("Choose a specialty."))]
    )
    reason = TextAreaField(
        lazy_gettext("What is it about? (optional)"),
        validators=[Optional(), Length(max=500)],
        render_kw={"maxlength": 500, "rows": 3},
    )
    payment_method = RadioField(
        lazy_gettext("Pay by"),
        choices=[
            SelectChoice("card", lazy_gettext("Card (held now, charged when a doctor accepts)")),
            SelectChoice("cash", lazy_gettext("Cash")),
        ],
        default="card",
        validators=[InputRequired(lazy_gettext("Choose how you pay."))],
    )
    card_token = StringField(validators=[Optional(), Length(max=255)])
    submit = SubmitField(lazy_gettext("Ask for a doctor now"))
