"""Admin forms: they parse and check the shape of input; the services check the rules."""

from decimal import Decimal

from flask_babel import gettext, lazy_gettext
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    EmailField,
    FloatField,
    IntegerField,
    SearchField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
    URLField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    StopValidation,
)
from wtforms.widgets import CheckboxInput, ListWidget

from app.models import (
    AppointmentStatus,
    NotificationChannel,
    NotificationStatus,
    PaymentStatus,
    Role,
)
from app.services.access import GRANTABLE_PERMISSIONS, permission_label
from app.services.webhooks.events import EVENT_LABELS, EVENTS

ROLE_CHOICES = [SelectChoice(r.value, r.value.title()) for r in Role]


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class UserSearchForm(FlaskForm):
    class Meta:
        csrf = False  # a GET search changes nothing

    q = SearchField(lazy_gettext("Name or email"), validators=[Optional(), Length(max=254)])
    role = SelectField(
        lazy_gettext("Role"),
        choices=[SelectChoice("", lazy_gettext("Any role")), *ROLE_CHOICES],
        default="",
    )
    page = IntegerField(
        lazy_gettext("Page"), validators=[Optional(), NumberRange(min=1, max=100_000)]
    )


class NewStaffForm(FlaskForm):
    role = SelectField(
        lazy_gettext("Account type"),
        choices=[
            SelectChoice("doctor", lazy_gettext("Doctor")),
            SelectChoice("helper", lazy_gettext("Helper")),
        ],
    )
    name = StringField(lazy_gettext("Full name"), validators=[DataRequired(), Length(max=120)])
    email = EmailField(lazy_gettext("Email"), validators=[DataRequired(), Length(max=254)])
    phone = StringField(lazy_gettext("Phone (optional)"), validators=[Optional(), Length(max=32)])
    clinic_id = SelectField(lazy_gettext("Clinic (doctors)"), coerce=str, choices=[], default="")
    submit = SubmitField(lazy_gettext("Create account and send the set-password link"))


class RoleForm(FlaskForm):
    role = SelectField(lazy_gettext("Role"), choices=ROLE_CHOICES)
    submit = SubmitField(lazy_gettext("Change role"))


class PermissionsForm(FlaskForm):
    permissions = MultiCheckboxField(
        lazy_gettext("Permissions"),
        choices=[SelectChoice(p, permission_label(p)) for p in GRANTABLE_PERMISSIONS],
    )
    submit = SubmitField(lazy_gettext("Save permissions"))


class ConfirmForm(FlaskForm):
    """A bare POST (CSRF token only) for one-button actions."""

    submit = SubmitField(lazy_gettext("Confirm"))


class ClinicForm(FlaskForm):
    name = StringField(lazy_gettext("Name"), validators=[DataRequired(), Length(max=160)])
    address = StringField(lazy_gettext("Address"), validators=[Optional(), Length(max=255)])
    city = StringField(lazy_gettext("City"), validators=[DataRequired(), Length(max=120)])
    latitude = FloatField(lazy_gettext("Latitude"), validators=[Optional(), NumberRange(-90, 90)])
    longitude = FloatField(
        lazy_gettext("Longitude"), validators=[Optional(), NumberRange(-180, 180)]
    )
    phone = StringField(lazy_gettext("Phone"), validators=[Optional(), Length(max=32)])
    email = EmailField(lazy_gettext("Email"), validators=[Optional(), Length(max=254)])
    website = URLField(lazy_gettext("Website"), validators=[Optional(), Length(max=255)])
    timezone = StringField(
        lazy_gettext("Time zone (IANA)"), validators=[DataRequired(), Length(max=64)], default="UTC"
    )
    currency = StringField(
        lazy_gettext("Currency"), validators=[DataRequired(), Length(min=3, max=3)]
    )
    cancellation_window_hours = IntegerField(
        lazy_gettext("Cancellation window (hours)"),
        validators=[InputRequired(), NumberRange(0, 720)],
        default=24,
    )
    late_cancellation_refund_percent = IntegerField(
        lazy_gettext("Late cancellation refund (%)"), validators=[Optional(), NumberRange(0, 100)]
    )
    accepts_cash = BooleanField(lazy_gettext("Accepts cash"), default=True)
    reminder_hours = StringField(
        lazy_gettext("Reminders (hours before the visit)"),
        validators=[Length(max=64)],
        default="24, 2",
    )
    chat_days_after_visit = IntegerField(
        lazy_gettext("Messages after a visit (days)"),
        validators=[Optional(), NumberRange(0, 365)],
        default=14,
    )
    meeting_url_template = StringField(
        lazy_gettext("External meeting link (video visits)"),
        validators=[Optional(), Length(max=500)],
    )
    submit = SubmitField(lazy_gettext("Save clinic"))


class SpecialtyForm(FlaskForm):
    name = StringField(lazy_gettext("Name"), validators=[DataRequired(), Length(max=80)])
    submit = SubmitField(lazy_gettext("Save"))


def _cents(_form, field) -> None:
    """An amount of money in major units: finite, at most two decimals (runs before ranges:
    comparing NaN would raise)."""
    if field.data is None:
        return
    if not field.data.is_finite():
        raise StopValidation(gettext("Enter an amount such as 12.50."))
    if field.data.as_tuple().exponent < -2:
        raise StopValidation(gettext("Use at most two decimals, e.g. 12.50."))


class DoctorForm(FlaskForm):
    clinic_id = SelectField(lazy_gettext("Clinic"), coerce=str, choices=[], default="")
    specialty_ids = MultiCheckboxField(lazy_gettext("Specialties"), coerce=int, choices=[])
    fee = DecimalField(
        lazy_gettext("Fee"),
        places=2,
        validators=[InputRequired(), _cents, NumberRange(min=0, max=100_000)],
    )
    licence_number = StringField(
        lazy_gettext("Licence number"), validators=[Optional(), Length(max=64)]
    )
    bio = TextAreaField(lazy_gettext("Bio"), validators=[Optional(), Length(max=5000)])
    requires_approval = BooleanField(lazy_gettext("Bookings need the doctor's approval"))
    submit = SubmitField(lazy_gettext("Save doctor"))


class AuditSearchForm(FlaskForm):
    class Meta:
        csrf = False

    actor = SearchField(
        lazy_gettext("Actor (name or email)"), validators=[Optional(), Length(max=254)]
    )
    action = SearchField(lazy_gettext("Action"), validators=[Optional(), Length(max=64)])
    target_type = SearchField(lazy_gettext("Target type"), validators=[Optional(), Length(max=40)])
    target_id = SearchField(lazy_gettext("Target id"), validators=[Optional(), Length(max=64)])
    since = DateField(lazy_gettext("From"), validators=[Optional()])
    until = DateField(lazy_gettext("To"), validators=[Optional()])
    page = IntegerField(
        lazy_gettext("Page"), validators=[Optional(), NumberRange(min=1, max=100_000)]
    )


class PaymentSearchForm(FlaskForm):
    class Meta:
        csrf = False  # a GET search changes nothing

    patient = SearchField(
        lazy_gettext("Patient (name or email)"), validators=[Optional(), Length(max=254)]
    )
    appointment_id = IntegerField(
        lazy_gettext("Appointment id"), validators=[Optional(), NumberRange(min=1, max=2**31 - 1)]
    )
    payment_intent_id = SearchField(
        lazy_gettext("PaymentIntent id"), validators=[Optional(), Length(max=255)]
    )
    status = SelectField(
        lazy_gettext("Status"),
        choices=[SelectChoice("", lazy_gettext("Any status"))]
        + [SelectChoice(s.value, s.value.replace("_", " ")) for s in PaymentStatus],
        default="",
    )
    since = DateField(lazy_gettext("From"), validators=[Optional()])
    until = DateField(lazy_gettext("To"), validators=[Optional()])
    page = IntegerField(
        lazy_gettext("Page"), validators=[Optional(), NumberRange(min=1, max=100_000)]
    )


class RefundForm(FlaskForm):
    amount = DecimalField(
        lazy_gettext("Amount to refund"),
        places=2,
        validators=[InputRequired(), _cents, NumberRange(min=Decimal("0.01"), max=10_000_000)],
    )
    reason = StringField(lazy_gettext("Reason"), validators=[Optional(), Length(max=255)])
    submit = SubmitField(lazy_gettext("Refund"))


class NotificationLogForm(FlaskForm):
    """The notification log's filters; `kind.choices` are set from the catalogue."""

    class Meta:
        csrf = False  # a GET search changes nothing

    user = SearchField(
        lazy_gettext("User (email or name)"), validators=[Optional(), Length(max=254)]
    )
    kind = SelectField(
        lazy_gettext("Kind"), choices=[SelectChoice("", lazy_gettext("Any kind"))], default=""
    )
    channel = SelectField(
        lazy_gettext("Channel"),
        choices=[SelectChoice("", lazy_gettext("Any channel"))]
        + [SelectChoice(c.value, c.value.replace("_", "-")) for c in NotificationChannel],
        default="",
    )
    status = SelectField(
        lazy_gettext("Status"),
        choices=[SelectChoice("", lazy_gettext("Any status"))]
        + [SelectChoice(s.value, s.value) for s in NotificationStatus],
        default="",
    )
    since = DateField(lazy_gettext("From"), validators=[Optional()])
    until = DateField(lazy_gettext("To"), validators=[Optional()])
    page = IntegerField(
        lazy_gettext("Page"), validators=[Optional(), NumberRange(min=1, max=100_000)]
    )


class ReviewFilterForm(FlaskForm):
    """The moderation list's filters; `doctor.choices` are set from the directory."""

    class Meta:
        csrf = False  # a GET search changes nothing

    doctor = SelectField(
        lazy_gettext("Doctor"), choices=[SelectChoice("", lazy_gettext("Any doctor"))], default=""
    )
    visibility = SelectField(
        lazy_gettext("Visibility"),
        choices=[
            SelectChoice("all", lazy_gettext("Visible and hidden")),
            SelectChoice("visible", lazy_gettext("Visible")),
            SelectChoice("hidden", lazy_gettext("Hidden")),
        ],
        default="all",
    )
    page = IntegerField(
        lazy_gettext("Page"), validators=[Optional(), NumberRange(min=1, max=10_000)]
    )


class ModerationForm(FlaskForm):
    """Hide (a reason required) or restore (a reason optional) one review."""

    reason = StringField(lazy_gettext("Reason"), validators=[Optional(), Length(max=500)])


class AppointmentSearchForm(FlaskForm):
    """The admin appointment search; `clinic.choices` are set from the directory."""

    class Meta:
        csrf = False  # a GET search changes nothing

    patient = SearchField(
        lazy_gettext("Patient (name or email)"), validators=[Optional(), Length(max=254)]
    )
    doctor = SearchField(
        lazy_gettext("Doctor (name or email)"), validators=[Optional(), Length(max=254)]
    )
    clinic = SelectField(
        lazy_gettext("Clinic"), choices=[SelectChoice("", lazy_gettext("Any clinic"))], default=""
    )
    status = SelectField(
        lazy_gettext("Status"),
        choices=[SelectChoice("", lazy_gettext("Any status"))]
        + [SelectChoice(s.value, s.value.replace("_", " ")) for s in AppointmentStatus],
        default="",
    )
    since = DateField(lazy_gettext("Visits from"), validators=[Optional()])
    until = DateField(lazy_gettext("Visits to"), validators=[Optional()])
    page = IntegerField(
        lazy_gettext("Page"), validators=[Optional(), NumberRange(min=1, max=100_000)]
    )


class ClinicCancelForm(FlaskForm):
    """Cancel an appointment on the clinic's behalf: the reason is told to the patient."""

    reason = StringField(
        lazy_gettext("Reason (shown to the patient)"), validators=[DataRequired(), Length(max=255)]
    )
    submit = SubmitField(lazy_gettext("Cancel on the clinic's behalf"))


class ContentPageForm(FlaskForm):
    """A help entry or a policy page, in Markdown (the service checks the slug's shape)."""

    title = StringField(lazy_gettext("Title"), validators=[DataRequired(), Length(max=200)])
    slug = StringField(lazy_gettext("Address (slug)"), validators=[DataRequired(), Length(max=80)])
    kind = SelectField(
        lazy_gettext("Kind"),
        choices=[
            SelectChoice("faq", lazy_gettext("FAQ entry (on /help)")),
            SelectChoice("policy", lazy_gettext("Policy page (/policies/<slug>)")),
        ],
        default="policy",
    )
    position = IntegerField(
        lazy_gettext("Order"),
        validators=[Optional(), NumberRange(min=-10_000, max=10_000)],
        default=0,
    )
    body = TextAreaField(
        lazy_gettext("Text (Markdown)"),
        validators=[Optional(), Length(max=100_000)],
        render_kw={"rows": 16},
    )
    published = BooleanField(lazy_gettext("Published"))
    submit = SubmitField(lazy_gettext("Save page"))


class ApplicationFilterForm(FlaskForm):
    class Meta:
        csrf = False  # a GET filter changes nothing

    status = SelectField(
        lazy_gettext("Status"),
        choices=[
            SelectChoice("pending", lazy_gettext("Waiting")),
            SelectChoice("verified", lazy_gettext("Verified")),
            SelectChoice("declined", lazy_gettext("Declined")),
            SelectChoice("all", lazy_gettext("All")),
        ],
        default="pending",
    )
    page = IntegerField(
        lazy_gettext("Page"), validators=[Optional(), NumberRange(min=1, max=100_000)]
    )


class DeclineApplicationForm(FlaskForm):
    reason = TextAreaField(
        lazy_gettext("Reason (emailed to the applicant)"),
        validators=[DataRequired(), Length(max=500)],
        render_kw={"rows": 3},
    )
    submit = SubmitField(lazy_gettext("Decline"))


class WebhookEndpointForm(FlaskForm):
    clinic_id = SelectField(
        lazy_gettext("Clinic"), coerce=str, choices=[], validators=[DataRequired()]
    )
    url = StringField(lazy_gettext("URL"), validators=[DataRequired(), Length(max=2000)])
    description = StringField(lazy_gettext("Description"), validators=[Optional(), Length(max=200)])
    events = MultiCheckboxField(
        lazy_gettext("Events"),
        choices=[SelectChoice(name, EVENT_LABELS[name]) for name in EVENTS],
        validators=[DataRequired(message=lazy_gettext("Choose at least one event."))],
    )
    submit = SubmitField(lazy_gettext("Save"))
