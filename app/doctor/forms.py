"""Forms of the doctor's pages: times are clinic-local wall times, turned into UTC here."""

from __future__ import annotations

import re
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from flask_babel import gettext, lazy_gettext
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    DateField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
    TimeField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from app.models import SlotMode
from app.services.errors import DomainError
from app.services.localtime import local_to_utc
from app.services.scheduling.availability import MAX_SLOT_MINUTES, MIN_SLOT_MINUTES, WeeklyPattern
from app.services.scheduling.visit_notes import MAX_NOTE_CHARS

MODE_CHOICES = [
    SelectChoice(SlotMode.IN_PERSON.value, lazy_gettext("In person")),
    SelectChoice(SlotMode.VIDEO.value, lazy_gettext("Video")),
]
WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
GAP_MESSAGE = lazy_gettext("This time does not exist on that day (the clocks change).")
# Dates far outside this range overflow when converted between zones.
FIRST_YEAR, LAST_YEAR = 2000, 2100
_BREAK = re.compile(r"^(\d{1,2}:\d{2})\s*[-–]\s*(\d{1,2}:\d{2})$")


def _sane_date(_form, field) -> None:
    if field.data and not FIRST_YEAR <= field.data.year <= LAST_YEAR:
        raise ValidationError(f"Enter a date between {FIRST_YEAR} and {LAST_YEAR}.")


def _clock(text: str) -> time:
    return datetime.strptime(text, "%H:%M").time()


def _parts(text: str | None) -> list[str]:
    return [part.strip() for part in (text or "").split(",") if part.strip()]


def parse_breaks(text: str | None) -> list[tuple[time, time]]:
    """'12:00-13:00, 15:00-15:15' -> [(12:00, 13:00), (15:00, 15:15)]. Raises ValueError."""
    breaks = []
    for part in _parts(text):
        match = _BREAK.match(part)
        try:
            breaks.append((_clock(match[1]), _clock(match[2])))
        except (TypeError, ValueError):
            raise ValueError(
                f"“{part}” is not a break: write HH:MM-HH:MM, e.g. 12:00-13:00."
            ) from None
    return breaks


def parse_dates(text: str | None) -> set[date]:
    """'2031-03-05, 2031-03-06' -> two dates. Raises ValueError."""
    days = set()
    for part in _parts(text):
        try:
            days.add(datetime.strptime(part, "%Y-%m-%d").date())
        except ValueError:
            raise ValueError(f"“{part}” is not a date: write YYYY-MM-DD.") from None
    return days


def add_domain_error(form: FlaskForm, exc: DomainError) -> None:
    """Show a service's refusal on the field it names, or above the form."""
    field = form._fields.get((exc.details or {}).get("field", ""))
    if field is not None and field.type not in ("SubmitField", "CSRFTokenField"):
        field.errors = [*field.errors, exc.message]
    else:
        form.form_errors.append(exc.message)


class ReasonForm(FlaskForm):
    """Cancel or reject an appointment, with an optional reason."""

    reason = StringField(
        lazy_gettext("Reason (optional)"), validators=[Optional(), Length(max=255)]
    )


class VisitNoteForm(FlaskForm):
    """A private note on a visit (the service seals it)."""

    text = TextAreaField(
        lazy_gettext("Private note"), validators=[InputRequired(), Length(max=MAX_NOTE_CHARS)]
    )
    submit = SubmitField(lazy_gettext("Save note"))


class SlotForm(FlaskForm):
    date = DateField(lazy_gettext("Date"), validators=[InputRequired(), _sane_date])
    start = TimeField(lazy_gettext("Start time"), validators=[InputRequired()])
    end = TimeField(lazy_gettext("End time"), validators=[InputRequired()])
    mode = SelectField(lazy_gettext("Mode"), choices=MODE_CHOICES, default=SlotMode.IN_PERSON.value)
    submit = SubmitField(lazy_gettext("Save slot"))

    def utc_times(self, tz: ZoneInfo) -> tuple[datetime, datetime] | None:
        """The slot's UTC start and end; None (with field errors) when a time does not exist."""
        start = local_to_utc(self.date.data, self.start.data, tz)
        end = local_to_utc(self.date.data, self.end.data, tz)
        if start is None:
            self.start.errors = [*self.start.errors, str(GAP_MESSAGE)]
        if end is None:
            self.end.errors = [*self.end.errors, str(GAP_MESSAGE)]
        return (start, end) if start and end else None


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class WeeklyPatternForm(FlaskForm):
    weekdays = MultiCheckboxField(
        lazy_gettext("Weekdays"),
        choices=[SelectChoice(i, day) for i, day in enumerate(WEEKDAYS)],
        coerce=int,
        default=[0, 1, 2, 3, 4],
    )
    day_start = TimeField(lazy_gettext("Day starts"), validators=[InputRequired()], default=time(9))
    day_end = TimeField(lazy_gettext("Day ends"), validators=[InputRequired()], default=time(17))
    slot_minutes = IntegerField(
        lazy_gettext("Slot length (minutes)"),
        validators=[InputRequired(), NumberRange(MIN_SLOT_MINUTES, MAX_SLOT_MINUTES)],
        default=30,
    )
    breaks = StringField(
        lazy_gettext("Breaks"),
        validators=[Optional(), Length(max=500)],
        description="e.g. 12:00-13:00, 15:00-15:15",
    )
    start_date = DateField(lazy_gettext("From"), validators=[InputRequired(), _sane_date])
    end_date = DateField(lazy_gettext("To (inclusive)"), validators=[InputRequired(), _sane_date])
    skip_dates = StringField(
        lazy_gettext("Skip dates"),
        validators=[Optional(), Length(max=2000)],
        description=lazy_gettext("YYYY-MM-DD, separated by commas"),
    )
    mode = SelectField(lazy_gettext("Mode"), choices=MODE_CHOICES, default=SlotMode.IN_PERSON.value)
    preview = SubmitField(lazy_gettext("Preview"))
    create = SubmitField(lazy_gettext("Create slots"))

    def validate_weekdays(self, field) -> None:
        if not field.data:
            raise ValidationError(gettext("Choose at least one weekday."))

    def validate_breaks(self, field) -> None:
        try:
            parse_breaks(field.data)
        except ValueError as exc:
            raise ValidationError(str(exc)) from None

    def validate_skip_dates(self, field) -> None:
        try:
            parse_dates(field.data)
        except ValueError as exc:
            raise ValidationError(str(exc)) from None

    def pattern(self) -> WeeklyPattern:
        """The validated form as the service's pattern."""
        return WeeklyPattern(
            weekdays=frozenset(self.weekdays.data),
            day_start=self.day_start.data,
            day_end=self.day_end.data,
            slot_minutes=self.slot_minutes.data,
            start_date=self.start_date.data,
            end_date=self.end_date.data,
            breaks=tuple(parse_breaks(self.breaks.data)),
            skip_dates=frozenset(parse_dates(self.skip_dates.data)),
            mode=SlotMode(self.mode.data),
        )


class LanguagesForm(FlaskForm):
    # Choices come from services/languages.py; the service says which code it does not know.
    languages = MultiCheckboxField(
        lazy_gettext("Languages you speak with patients"), validate_choice=False
    )
    submit = SubmitField(lazy_gettext("Save languages"))


class PhotoForm(FlaskForm):
    # The type is read from the bytes by services/photos.py, never from the name: `accept`
    # only helps the browser's file picker.
    photo = FileField(
        lazy_gettext("Photo (JPEG, PNG or WebP)"),
        validators=[FileRequired(lazy_gettext("Choose a photo to upload."))],
        render_kw={"accept": "image/jpeg,image/png,image/webp"},
    )
    submit = SubmitField(lazy_gettext("Upload photo"))


class RemovePhotoForm(FlaskForm):
    submit = SubmitField(lazy_gettext("Remove photo"))


class ReplyForm(FlaskForm):
    """The doctor's reply to a review (also its change)."""

    body = TextAreaField(
        lazy_gettext("Your reply"),
        validators=[
            InputRequired(message=lazy_gettext("Write the reply.")),
            Length(max=2000, message=lazy_gettext("At most 2,000 characters.")),
        ],
        render_kw={"maxlength": 2000, "rows": 3},
    )
    submit = SubmitField(lazy_gettext("Publish the reply"))
