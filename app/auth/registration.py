"""Opening a patient account, and confirming its email and phone with the codes sent."""

from flask import flash, redirect, render_template, session, url_for
from flask_babel import gettext
from flask_login import current_user

from app.auth import bp, limits, signin
from app.auth.forms import ButtonForm, CodeForm, RegistrationForm
from app.models import CodeChannel
from app.rbac import login_required, public
from app.services.accounts import accounts, codes
from app.services.errors import DomainError


@bp.route("/register", methods=["GET", "POST"])
@public
@limits.apply(limits.registration + limits.registration_codes)
def register():
    if current_user.is_authenticated:
        return redirect(signin.home_for(current_user))
    form = RegistrationForm()
    if form.validate_on_submit():
        attempt_id = codes.new_attempt_id()
        try:
            registration = accounts.register_patient(
                name=form.name.data,
                email=form.email.data,
                phone=form.phone.data,
                password=form.password.data,
                attempt_id=attempt_id,
                now=signin.now(),
                ip=signin.client_ip(),
            )
        except DomainError as exc:
            problems = exc.details.get("fields") or {exc.details.get("field", "email"): exc.message}
            _show_problems(form, problems)
            return render_template("auth/register.html", form=form), exc.status_code
        # Whether the address was new or taken, the next page is the same.
        session["registration"] = {"uid": registration.user_id, "email": registration.email}
        signin.remember_attempt("verify", attempt_id)
        if not registration.sent:
            flash(gettext("We could not send the code just now: try again in a minute."), "error")
        return redirect(url_for("auth.register_confirm"))
    if form.errors:
        # Every field's problem at once: the account rules too, not only the form's own.
        _show_problems(
            form,
            accounts.registration_problems(
                name=form.name.data,
                email=form.email.data,
                phone=form.phone.data,
                password=form.password.data,
            ),
        )
    status = 422 if form.errors else 200
    return render_template("auth/register.html", form=form), status


def _show_problems(form: RegistrationForm, problems: dict[str, str]) -> None:
    """Add the account rules' messages to fields that do not show an error already."""
    for name, message in problems.items():
        field = getattr(form, name, form.email)
        if not field.errors:
            field.errors = [*field.errors, message]


@bp.route("/register/confirm", methods=["GET", "POST"])
@public
@limits.apply(limits.code_check)
def register_confirm():
    pending = session.get("registration")
    if not isinstance(pending, dict):
        return redirect(url_for("auth.register"))
    form = CodeForm()
    status = 200
    if form.validate_on_submit():
        try:
            user = accounts.confirm_registration(
                user_id=pending.get("uid"),
                attempt_id=signin.attempt("verify"),
                code=form.code.data,
                now=signin.now(),
                ip=signin.client_ip(),
            )
        except DomainError as exc:
            form.code.errors.append(exc.message)
            status = exc.status_code
        else:
            attempt_id = signin.attempt("verify")
            signin.start(user)  # a fresh session for the new account
            signin.remember_attempt("verify", attempt_id)  # the phone code, if any
            flash(gettext("Welcome, %(name)s! Your email is confirmed.", name=user.name), "success")
            if user.phone and user.phone_verified_at is None:
                return redirect(url_for("auth.verify"))
            return redirect(url_for("main.home"))
    elif form.errors:
        status = 422
    return render_template("auth/register_confirm.html", form=form, email=pending["email"]), status


def _verify_page(email_form=None, phone_form=None, status=200):
    return (
        render_template(
            "auth/verify.html",
            email_form=email_form or CodeForm(prefix="email"),
            phone_form=phone_form or CodeForm(prefix="phone"),
            resend_form=ButtonForm(prefix="resend"),
        ),
        status,
    )


@bp.route("/account/verify", methods=["GET"])
@login_required
def verify():
    return _verify_page()


def _check(channel: CodeChannel):
    form = CodeForm(prefix="phone" if channel is CodeChannel.SMS else "email")
    forms = {"phone_form" if channel is CodeChannel.SMS else "email_form": form}
    if not form.validate_on_submit():
        return _verify_page(**forms, status=422)
    try:
        accounts.verify_contact(
            current_user.id,
            channel=channel,
            attempt_id=signin.attempt("verify"),
            code=form.code.data,
            now=signin.now(),
            ip=signin.client_ip(),
        )
    except DomainError as exc:
        form.code.errors.append(exc.message)
        return _verify_page(**forms, status=exc.status_code)
    if channel is CodeChannel.SMS:
        flash(gettext("Thank you: your phone number is confirmed."), "success")
    else:
        flash(gettext("Thank you: your email address is confirmed."), "success")
    return redirect(url_for("auth.verify"))


@bp.route("/account/verify/email", methods=["POST"])
@login_required
@limits.apply(limits.account_check)
def verify_email():
    return _check(CodeChannel.EMAIL)


@bp.route("/account/verify/phone", methods=["POST"])
@login_required
@limits.apply(limits.account_check)
def verify_phone():
    return _check(CodeChannel.SMS)


@bp.route("/account/verify/resend", methods=["POST"])
@login_required
@limits.apply(limits.account_code_request + limits.resent_codes)
def verify_resend():
    if not ButtonForm(prefix="resend").validate_on_submit():
        return _verify_page(status=400)
    attempt_id = codes.new_attempt_id()
    try:
        accounts.send_verification_codes(
            current_user.id, attempt_id=attempt_id, now=signin.now(), ip=signin.client_ip()
        )
    except DomainError as exc:
        flash(exc.message, "error")
        return redirect(url_for("auth.verify"))
    signin.remember_attempt("verify", attempt_id)
    flash(gettext("We sent new codes. Earlier codes no longer work."), "info")
    return redirect(url_for("auth.verify"))
