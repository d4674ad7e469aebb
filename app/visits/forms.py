from flask_babel import lazy_gettext
from flask_wtf import FlaskForm
from wtforms import SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired

OUTCOME_CHOICES = [
    SelectChoice("complete", lazy_gettext("Completed")),
    SelectChoice("no_show", "No-show"),
]


class OutcomeForm(FlaskForm):
    """The doctor's outcome of a visit, from its room."""

    outcome = SelectField(
        lazy_gettext("Outcome"), choices=OUTCOME_CHOICES, validators=[InputRequired()]
    )
