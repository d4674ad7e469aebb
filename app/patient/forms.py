"""Forms of the patient pages: a GET search form and the CSRF-protected booking forms."""

from __future__ import annotations

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

    specialty = SelectField("Specialty", choices=[SelectChoice("", "Any specialty")], default="")
    clinic = SelectField("Clinic", coerce=optional_int, choices=[SelectChoice("", "Any clinic")])
    city = StringField("City", validators=[Optional(), Length(max=120)])
    q = StringField("Doctor's name", validators=[Optional(), Length(max=120)])
    available_on = DateField("Free on", validators=[Optional()])
    lat = FloatField(
        "Latitude", validators=[Optional(), NumberRange(-90, 90)], render_kw={"step": "any"}
    )
    lng = FloatField(
        "Longitude", validators=[Optional(), NumberRange(-180, 180)], render_kw={"step": "any"}
    )
    radius_km = FloatField(
        "Within (km)",
        validators=[Optional()],
        render_kw={"step": "any", "min": "1", "placeholder": "25"},
    )
    # Unknown values are the search service's to refuse, with its own clear message.
    language = SelectField(
        "Speaks",
        choices=[SelectChoice("", "Any language")]
        + [SelectChoice(code, name) for code, name in language_choices()],
        default="",
        validate_choice=False,
    )
    sort = SelectField(
        "Sort by",
        choices=[
            SelectChoice("relevance", "Best match"),
            SelectChoice("price", "Price: low to high"),
            SelectChoice("price_desc", "Price: high to low"),
            SelectChoice("earliest", "Earliest available"),
            SelectChoice("rating", "Best rated"),
        ],
        default="relevance",
        validate_choice=False,
    )
    page = IntegerField("Page", validators=[Optional(), NumberRange(min=1, max=MAX_PAGE)])

    def set_choices(self, specialties, clinics) -> None:
        self.specialty.choices = [SelectChoice("", "Any specialty")] + [
            SelectChoice(s.slug, s.name) for s in specialties
        ]
        self.clinic.choices = [SelectChoice("", "Any clinic")] + [
            SelectChoice(str(c.id), c.name) for c in clinics
        ]

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        if not (self.lat.errors or self.lng.errors) and (self.lat.data is None) != (
            self.lng.data is None
        ):
            self.lat.errors = [*self.lat.errors, "Give both latitude and longitude."]
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
    day = DateField("Day", validators=[InputRequired()])
    submit = SubmitField("Join the waitlist")


class BookForm(FlaskForm):
    # The page offers cash only where the clinic takes it; the booking service checks too.
    payment_method = RadioField(
        "Payment",
        choices=[
            SelectChoice("card", "Pay by card now"),
            SelectChoice("cash", "Pay at the clinic (cash)"),
        ],
        default="card",
    )
    notes = TextAreaField(
        "Notes for the doctor (optional)", validators=[Optional(), Length(max=2000)]
    )
    acknowledge_policy = BooleanField(
        "I understand this time is inside the clinic's no-change window"
    )
    submit = SubmitField("Confirm booking")


class CancelForm(FlaskForm):
    submit = SubmitField("Cancel appointment")


class RescheduleForm(FlaskForm):
    slot_id = IntegerField("New time", validators=[InputRequired(message="Pick a new time.")])
    acknowledge_policy = BooleanField(
        "I understand this time is inside the clinic's no-change window"
    )
    submit = SubmitField("Move my appointment")


class WeekForm(FlaskForm):
    """?week=YYYY-MM-DD (and ?reviews_page=) on the doctor page."""

    class Meta:
        csrf = False

    week = DateField("Week starting", validators=[Optional()])
    reviews_page = IntegerField("Reviews page", validators=[Optional(), NumberRange(1, 10_000)])


class ReviewForm(FlaskForm):
    """A review of a completed visit (also its change within the edit window)."""

    rating = RadioField(
        "Rating",
        choices=[SelectChoice(str(n), f"{n} star{'s' if n > 1 else ''}") for n in range(5, 0, -1)],
        validators=[InputRequired(message="Choose a rating from 1 to 5 stars.")],
    )
    comment = TextAreaField(
        "Comment (optional)",
        validators=[Optional(), Length(max=2000, message="At most 2,000 characters.")],
        render_kw={"maxlength": 2000, "rows": 5},
    )
    submit = SubmitField("Publish the review")


class ConsultForm(FlaskForm):
    """Ask for an on-demand video consult ("See a doctor now")."""

    specialty = SelectField("Specialty", validators=[InputRequired("Choose a specialty.")])
    reason = TextAreaField(
        "What is it about? (optional)",
        validators=[Optional(), Length(max=500)],
        render_kw={"maxlength": 500, "rows": 3},
    )
    payment_method = RadioField(
        "Pay by",
        choices=[
            SelectChoice("card", "Card (held now, charged when a doctor accepts)"),
            SelectChoice("cash", "Cash"),
        ],
        default="card",
        validators=[InputRequired("Choose how you pay.")],
    )
    card_token = StringField(validators=[Optional(), Length(max=255)])
    submit = SubmitField("Ask for a doctor now")
