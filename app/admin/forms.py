"""Admin forms: they parse and check the shape of input; the services check the rules."""

from decimal import Decimal

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

    q = SearchField("Name or email", validators=[Optional(), Length(max=254)])
    role = SelectField("Role", choices=[SelectChoice("", "Any role"), *ROLE_CHOICES], default="")
    page = IntegerField("Page", validators=[Optional(), NumberRange(min=1, max=100_000)])


class NewStaffForm(FlaskForm):
    role = SelectField(
        "Account type", choices=[SelectChoice("doctor", "Doctor"), SelectChoice("helper", "Helper")]
    )
    name = StringField("Full name", validators=[DataRequired(), Length(max=120)])
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])
    phone = StringField("Phone (optional)", validators=[Optional(), Length(max=32)])
    clinic_id = SelectField("Clinic (doctors)", coerce=str, choices=[], default="")
    submit = SubmitField("Create account and send the set-password link")


class RoleForm(FlaskForm):
    role = SelectField("Role", choices=ROLE_CHOICES)
    submit = SubmitField("Change role")


class PermissionsForm(FlaskForm):
    permissions = MultiCheckboxField(
        "Permissions",
        choices=[SelectChoice(p, permission_label(p)) for p in GRANTABLE_PERMISSIONS],
    )
    submit = SubmitField("Save permissions")


class ConfirmForm(FlaskForm):
    """A bare POST (CSRF token only) for one-button actions."""

    submit = SubmitField("Confirm")


class ClinicForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=160)])
    address = StringField("Address", validators=[Optional(), Length(max=255)])
    city = StringField("City", validators=[DataRequired(), Length(max=120)])
    latitude = FloatField("Latitude", validators=[Optional(), NumberRange(-90, 90)])
    longitude = FloatField("Longitude", validators=[Optional(), NumberRange(-180, 180)])
    phone = StringField("Phone", validators=[Optional(), Length(max=32)])
    email = EmailField("Email", validators=[Optional(), Length(max=254)])
    website = URLField("Website", validators=[Optional(), Length(max=255)])
    timezone = StringField(
        "Time zone (IANA)", validators=[DataRequired(), Length(max=64)], default="UTC"
    )
    currency = StringField("Currency", validators=[DataRequired(), Length(min=3, max=3)])
    cancellation_window_hours = IntegerField(
        "Cancellation window (hours)", validators=[InputRequired(), NumberRange(0, 720)], default=24
    )
    late_cancellation_refund_percent = IntegerField(
        "Late cancellation refund (%)", validators=[Optional(), NumberRange(0, 100)]
    )
    accepts_cash = BooleanField("Accepts cash", default=True)
    reminder_hours = StringField(
        "Reminders (hours before the visit)", validators=[Length(max=64)], default="24, 2"
    )
    chat_days_after_visit = IntegerField(
        "Messages after a visit (days)",
        validators=[Optional(), NumberRange(0, 365)],
        default=14,
    )
    meeting_url_template = StringField(
        "External meeting link (video visits)", validators=[Optional(), Length(max=500)]
    )
    submit = SubmitField("Save clinic")


class SpecialtyForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=80)])
    submit = SubmitField("Save")


def _cents(_form, field) -> None:
    """An amount of money in major units: finite, at most two decimals (runs before ranges:
    comparing NaN would raise)."""
    if field.data is None:
        return
    if not field.data.is_finite():
        raise StopValidation("Enter an amount such as 12.50.")
    if field.data.as_tuple().exponent < -2:
        raise StopValidation("Use at most two decimals, e.g. 12.50.")


class DoctorForm(FlaskForm):
    clinic_id = SelectField("Clinic", coerce=str, choices=[], default="")
    specialty_ids = MultiCheckboxField("Specialties", coerce=int, choices=[])
    fee = DecimalField(
        "Fee", places=2, validators=[InputRequired(), _cents, NumberRange(min=0, max=100_000)]
    )
    licence_number = StringField("Licence number", validators=[Optional(), Length(max=64)])
    bio = TextAreaField("Bio", validators=[Optional(), Length(max=5000)])
    requires_approval = BooleanField("Bookings need the doctor's approval")
    submit = SubmitField("Save doctor")


class AuditSearchForm(FlaskForm):
    class Meta:
        csrf = False

    actor = SearchField("Actor (name or email)", validators=[Optional(), Length(max=254)])
    action = SearchField("Action", validators=[Optional(), Length(max=64)])
    target_type = SearchField("Target type", validators=[Optional(), Length(max=40)])
    target_id = SearchField("Target id", validators=[Optional(), Length(max=64)])
    since = DateField("From", validators=[Optional()])
    until = DateField("To", validators=[Optional()])
    page = IntegerField("Page", validators=[Optional(), NumberRange(min=1, max=100_000)])


class PaymentSearchForm(FlaskForm):
    class Meta:
        csrf = False  # a GET search changes nothing

    patient = SearchField("Patient (name or email)", validators=[Optional(), Length(max=254)])
    appointment_id = IntegerField(
        "Appointment id", validators=[Optional(), NumberRange(min=1, max=2**31 - 1)]
    )
    payment_intent_id = SearchField("PaymentIntent id", validators=[Optional(), Length(max=255)])
    status = SelectField(
        "Status",
        choices=[SelectChoice("", "Any status")]
        + [SelectChoice(s.value, s.value.replace("_", " ")) for s in PaymentStatus],
        default="",
    )
    since = DateField("From", validators=[Optional()])
    until = DateField("To", validators=[Optional()])
    page = IntegerField("Page", validators=[Optional(), NumberRange(min=1, max=100_000)])


class RefundForm(FlaskForm):
    amount = DecimalField(
        "Amount to refund",
        places=2,
        validators=[InputRequired(), _cents, NumberRange(min=Decimal("0.01"), max=10_000_000)],
    )
    reason = StringField("Reason", validators=[Optional(), Length(max=255)])
    submit = SubmitField("Refund")


class NotificationLogForm(FlaskForm):
    """The notification log's filters; `kind.choices` are set from the catalogue."""

    class Meta:
        csrf = False  # a GET search changes nothing

    user = SearchField("User (email or name)", validators=[Optional(), Length(max=254)])
    kind = SelectField("Kind", choices=[SelectChoice("", "Any kind")], default="")
    channel = SelectField(
        "Channel",
        choices=[SelectChoice("", "Any channel")]
        + [SelectChoice(c.value, c.value.replace("_", "-")) for c in NotificationChannel],
        default="",
    )
    status = SelectField(
        "Status",
        choices=[SelectChoice("", "Any status")]
        + [SelectChoice(s.value, s.value) for s in NotificationStatus],
        default="",
    )
    since = DateField("From", validators=[Optional()])
    until = DateField("To", validators=[Optional()])
    page = IntegerField("Page", validators=[Optional(), NumberRange(min=1, max=100_000)])


class ReviewFilterForm(FlaskForm):
    """The moderation list's filters; `doctor.choices` are set from the directory."""

    class Meta:
        csrf = False  # a GET search changes nothing

    doctor = SelectField("Doctor", choices=[SelectChoice("", "Any doctor")], default="")
    visibility = SelectField(
        "Visibility",
        choices=[
            SelectChoice("all", "Visible and hidden"),
            SelectChoice("visible", "Visible"),
            SelectChoice("hidden", "Hidden"),
        ],
        default="all",
    )
    page = IntegerField("Page", validators=[Optional(), NumberRange(min=1, max=10_000)])


class ModerationForm(FlaskForm):
    """Hide (a reason required) or restore (a reason optional) one review."""

    reason = StringField("Reason", validators=[Optional(), Length(max=500)])


class AppointmentSearchForm(FlaskForm):
    """The admin appointment search; `clinic.choices` are set from the directory."""

    class Meta:
        csrf = False  # a GET search changes nothing

    patient = SearchField("Patient (name or email)", validators=[Optional(), Length(max=254)])
    doctor = SearchField("Doctor (name or email)", validators=[Optional(), Length(max=254)])
    clinic = SelectField("Clinic", choices=[SelectChoice("", "Any clinic")], default="")
    status = SelectField(
        "Status",
        choices=[SelectChoice("", "Any status")]
        + [SelectChoice(s.value, s.value.replace("_", " ")) for s in AppointmentStatus],
        default="",
    )
    since = DateField("Visits from", validators=[Optional()])
    until = DateField("Visits to", validators=[Optional()])
    page = IntegerField("Page", validators=[Optional(), NumberRange(min=1, max=100_000)])


class ClinicCancelForm(FlaskForm):
    """Cancel an appointment on the clinic's behalf: the reason is told to the patient."""

    reason = StringField(
        "Reason (shown to the patient)", validators=[DataRequired(), Length(max=255)]
    )
    submit = SubmitField("Cancel on the clinic's behalf")


class ContentPageForm(FlaskForm):
    """A help entry or a policy page, in Markdown (the service checks the slug's shape)."""

    title = StringField("Title", validators=[DataRequired(), Length(max=200)])
    slug = StringField("Address (slug)", validators=[DataRequired(), Length(max=80)])
    kind = SelectField(
        "Kind",
        choices=[
            SelectChoice("faq", "FAQ entry (on /help)"),
            SelectChoice("policy", "Policy page (/policies/<slug>)"),
        ],
        default="policy",
    )
    position = IntegerField(
        "Order", validators=[Optional(), NumberRange(min=-10_000, max=10_000)], default=0
    )
    body = TextAreaField(
        "Text (Markdown)",
        validators=[Optional(), Length(max=100_000)],
        render_kw={"rows": 16},
    )
    published = BooleanField("Published")
    submit = SubmitField("Save page")


class ApplicationFilterForm(FlaskForm):
    class Meta:
        csrf = False  # a GET filter changes nothing

    status = SelectField(
        "Status",
        choices=[
            SelectChoice("pending", "Waiting"),
            SelectChoice("verified", "Verified"),
            SelectChoice("declined", "Declined"),
            SelectChoice("all", "All"),
        ],
        default="pending",
    )
    page = IntegerField("Page", validators=[Optional(), NumberRange(min=1, max=100_000)])


class DeclineApplicationForm(FlaskForm):
    reason = TextAreaField(
        "Reason (emailed to the applicant)",
        validators=[DataRequired(), Length(max=500)],
        render_kw={"rows": 3},
    )
    submit = SubmitField("Decline")


class WebhookEndpointForm(FlaskForm):
    clinic_id = SelectField("Clinic", coerce=str, choices=[], validators=[DataRequired()])
    url = StringField("URL", validators=[DataRequired(), Length(max=2000)])
    description = StringField("Description", validators=[Optional(), Length(max=200)])
    events = MultiCheckboxField(
        "Events",
        choices=[SelectChoice(name, EVENT_LABELS[name]) for name in EVENTS],
        validators=[DataRequired(message="Choose at least one event.")],
    )
    submit = SubmitField("Save")
