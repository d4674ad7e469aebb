from flask_wtf import FlaskForm
from wtforms import SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired

OUTCOME_CHOICES = [SelectChoice("complete", "Completed"), SelectChoice("no_show", "No-show")]


class OutcomeForm(FlaskForm):
    """The doctor's outcome of a visit, from its room."""

    outcome = SelectField("Outcome", choices=OUTCOME_CHOICES, validators=[InputRequired()])
