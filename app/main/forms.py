"""Public forms of the main area: a doctor's application to join."""

from flask_babel import lazy_gettext
from flask_wtf import FlaskForm
from wtforms import (
    EmailField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from app.models.content import MAX_APPLICATION_MESSAGE


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class DoctorApplicationForm(FlaskForm):
    """`clinic_id.choices` and `specialty_ids.choices` are set from the directory."""

    name = StringField(lazy_gettext("Full name"), validators=[DataRequired(), Length(max=120)])
    email = EmailField(lazy_gettext("Email"), validators=[DataRequired(), Length(max=254)])
    phone = StringField(
        lazy_gettext("Phone (optional, international form, e.g. +14155550123)"),
        validators=[Optional(), Length(max=20)],
    )
    licence_number = StringField(
        lazy_gettext("Medical licence number"), validators=[DataRequired(), Length(max=64)]
    )
    clinic_id = SelectField(
        lazy_gettext("Clinic"), coerce=str, choices=[], validators=[DataRequired()]
    )
    specialty_ids = MultiCheckboxField(lazy_gettext("Specialties"), coerce=int, choices=[])
    message = TextAreaField(
        lazy_gettext("Anything else we should know (optional)"),
        validators=[Optional(), Length(max=MAX_APPLICATION_MESSAGE)],
        render_kw={"rows": 4},
    )
    submit = SubmitField(lazy_gettext("Send my application"))
