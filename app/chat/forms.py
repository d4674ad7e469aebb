"""Forms of the messages pages: writing (text and/or a file) and the "Message" buttons."""

from __future__ import annotations

from flask_babel import lazy_gettext
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import HiddenField, IntegerField, SubmitField, TextAreaField
from wtforms.validators import Length, Optional

from app.models.chat import MAX_BODY


class MessageForm(FlaskForm):
    body = TextAreaField(lazy_gettext("Message"), validators=[Length(max=MAX_BODY)])
    file = FileField(lazy_gettext("Attach an image or a PDF (at most 10 MB)"))
    submit = SubmitField(lazy_gettext("Send"))


class StartForm(FlaskForm):
    """A "Message" button: a patient names the doctor, a doctor the patient."""

    doctor_id = IntegerField(validators=[Optional()])
    patient_id = IntegerField(validators=[Optional()])
    next = HiddenField()
    submit = SubmitField(lazy_gettext("Message"))
