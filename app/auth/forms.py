from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, PasswordField, RadioField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, Length, Optional, Regexp

_CODE = [DataRequired(), Length(max=20)]


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=256)])
    submit = SubmitField("Sign in")


class LogoutForm(FlaskForm):
    submit = SubmitField("Sign out")


class CodeRequestForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])
    channel = RadioField(
        "Send the code by",
        choices=[SelectChoice("email", "Email"), SelectChoice("sms", "Text message to my phone")],
        default="email",
        validators=[DataRequired()],
    )
    submit = SubmitField("Send me a code")


class CodeForm(FlaskForm):
    code = StringField(
        "Code",
        validators=[
            *_CODE,
            Regexp(r"^\s*\d{3}\s?\d{3}\s*$", message="The code is 6 digits."),
        ],
    )
    submit = SubmitField("Continue")


class SecondFactorForm(FlaskForm):
    code = StringField("Code from your authenticator app, or a recovery code", validators=_CODE)
    submit = SubmitField("Verify")


class RegistrationForm(FlaskForm):
    name = StringField("Full name", validators=[DataRequired(), Length(max=120)])
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])
    phone = StringField(
        "Mobile phone (optional, international form, e.g. +14155550123)",
        validators=[Optional(), Length(max=20)],
    )
    password = PasswordField(
        "Password (at least 8 characters)", validators=[DataRequired(), Length(min=8, max=256)]
    )
    confirm = PasswordField(
        "Repeat the password",
        validators=[DataRequired(), EqualTo("password", message="The passwords differ.")],
    )
    submit = SubmitField("Create my account")


class ForgotPasswordForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])
    submit = SubmitField("Email me a link")


class NewPasswordForm(FlaskForm):
    token = HiddenField()
    password = PasswordField(
        "New password (at least 8 characters)",
        validators=[DataRequired(), Length(min=8, max=256)],
    )
    confirm = PasswordField(
        "Repeat the new password",
        validators=[DataRequired(), EqualTo("password", message="The passwords differ.")],
    )
    submit = SubmitField("Save the password")


class ConfirmPasswordForm(FlaskForm):
    password = PasswordField("Current password", validators=[DataRequired(), Length(max=256)])
    submit = SubmitField("Confirm")


class ButtonForm(FlaskForm):
    """A form that is only a button (and its CSRF token)."""

    submit = SubmitField("Go")


class EmailChangeForm(FlaskForm):
    email = EmailField("New email address", validators=[DataRequired(), Length(max=254)])
    submit = SubmitField("Send a code to the new address")


class PhoneChangeForm(FlaskForm):
    phone = StringField(
        "New mobile phone (international form; leave empty to remove it)",
        validators=[Optional(), Length(max=20)],
    )
    submit = SubmitField("Save")
