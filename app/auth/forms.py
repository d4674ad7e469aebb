from flask_babel import lazy_gettext
from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, PasswordField, RadioField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, Length, Optional, Regexp

_CODE = [DataRequired(), Length(max=20)]


class LoginForm(FlaskForm):
    email = EmailField(lazy_gettext("Email"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(lazy_gettext("Password"), validators=[DataRequired(), Length(max=256)])
    submit = SubmitField(lazy_gettext("Sign in"))


class LogoutForm(FlaskForm):
    submit = SubmitField(lazy_gettext("Sign out"))


class CodeRequestForm(FlaskForm):
    email = EmailField(lazy_gettext("Email"), validators=[DataRequired(), Length(max=254)])
    channel = RadioField(
        lazy_gettext("Send the code by"),
        choices=[
            SelectChoice("email", lazy_gettext("Email")),
            SelectChoice("sms", lazy_gettext("Text message to my phone")),
        ],
        default="email",
        validators=[DataRequired()],
    )
    submit = SubmitField(lazy_gettext("Send me a code"))


class CodeForm(FlaskForm):
    code = StringField(
        lazy_gettext("Code"),
        validators=[
            *_CODE,
            Regexp(r"^\s*\d{3}\s?\d{3}\s*$", message=lazy_gettext("The code is 6 digits.")),
        ],
    )
    submit = SubmitField(lazy_gettext("Continue"))


class SecondFactorForm(FlaskForm):
    code = StringField(
        lazy_gettext("Code from your authenticator app, or a recovery code"), validators=_CODE
    )
    submit = SubmitField(lazy_gettext("Verify"))


class RegistrationForm(FlaskForm):
    name = StringField(lazy_gettext("Full name"), validators=[DataRequired(), Length(max=120)])
    email = EmailField(lazy_gettext("Email"), validators=[DataRequired(), Length(max=254)])
    phone = StringField(
        lazy_gettext("Mobile phone (optional, international form, e.g. +14155550123)"),
        validators=[Optional(), Length(max=20)],
    )
    password = PasswordField(
        lazy_gettext("Password (at least 8 characters)"),
        validators=[DataRequired(), Length(min=8, max=256)],
    )
    confirm = PasswordField(
        lazy_gettext("Repeat the password"),
        validators=[
            DataRequired(),
            EqualTo("password", message=lazy_gettext("The passwords differ.")),
        ],
    )
    submit = SubmitField(lazy_gettext("Create my account"))


class ForgotPasswordForm(FlaskForm):
    email = EmailField(lazy_gettext("Email"), validators=[DataRequired(), Length(max=254)])
    submit = SubmitField(lazy_gettext("Email me a link"))


class NewPasswordForm(FlaskForm):
    token = HiddenField()
    password = PasswordField(
        lazy_gettext("New password (at least 8 characters)"),
        validators=[DataRequired(), Length(min=8, max=256)],
    )
    confirm = PasswordField(
        lazy_gettext("Repeat the new password"),
        validators=[
            DataRequired(),
            EqualTo("password", message=lazy_gettext("The passwords differ.")),
        ],
    )
    submit = SubmitField(lazy_gettext("Save the password"))


class ConfirmPasswordForm(FlaskForm):
    password = PasswordField(
        lazy_gettext("Current password"), validators=[DataRequired(), Length(max=256)]
    )
    submit = SubmitField(lazy_gettext("Confirm"))


class ButtonForm(FlaskForm):
    """A form that is only a button (and its CSRF token)."""

    submit = SubmitField(lazy_gettext("Go"))


class EmailChangeForm(FlaskForm):
    email = EmailField(
        lazy_gettext("New email address"), validators=[DataRequired(), Length(max=254)]
    )
    submit = SubmitField(lazy_gettext("Send a code to the new address"))


class PhoneChangeForm(FlaskForm):
    phone = StringField(
        lazy_gettext("New mobile phone (international form; leave empty to remove it)"),
        validators=[Optional(), Length(max=20)],
    )
    submit = SubmitField(lazy_gettext("Save"))
