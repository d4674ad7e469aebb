"""Forgotten passwords (emailed reset link), set-password links, and the first password of an
account that was given a temporary one."""

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user

from app.auth import bp, limits, signin
from app.auth.forms import ForgotPasswordForm, NewPasswordForm
from app.rbac import login_required, public
from app.services import messaging
from app.services.accounts import passwords
from app.services.errors import DomainError


@bp.route("/password/forgot", methods=["GET", "POST"])
@public
@limits.apply(limits.password_reset_request)
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        try:
            passwords.request_password_reset(
                form.email.data, now=signin.now(), ip=signin.client_ip()
            )
        except DomainError as exc:
            form.email.errors.append(exc.message)
            return render_template("auth/forgot_password.html", form=form), exc.status_code
        except messaging.DeliveryFailed:
            form.email.errors.append(
                gettext("We could not send the email just now. Please try again.")
            )
            return render_template("auth/forgot_password.html", form=form), 503
        flash(
            gettext(
                "If an account uses that address, we emailed it a link to choose a new password."
            ),
            "info",
        )
        return redirect(url_for("auth.login"))
    status = 422 if form.errors else 200
    return render_template("auth/forgot_password.html", form=form), status


def _link_page(purpose: str):
    """GET shows the form for a valid link; POST sets the password."""
    form = NewPasswordForm()
    template = "auth/new_password.html"
    if request.method == "GET":
        form.token.data = request.args.get("token", "")
        try:
            user = passwords.user_for_link(form.token.data, purpose=purpose, now=signin.now())
        except DomainError as exc:
            return render_template("auth/link_invalid.html", message=exc.message), exc.status_code
        return render_template(template, form=form, purpose=purpose, email=user.email)
    if not form.validate_on_submit():
        return render_template(template, form=form, purpose=purpose, email=None), 422
    try:
        user = passwords.reset_password(
            form.token.data,
            form.password.data,
            purpose=purpose,
            now=signin.now(),
            ip=signin.client_ip(),
        )
    except passwords.InvalidPasswordLink as exc:
        return render_template("auth/link_invalid.html", message=exc.message), exc.status_code
    except DomainError as exc:
        form.password.errors.append(exc.message)
        return render_template(template, form=form, purpose=purpose, email=None), exc.status_code
    # Also when the security note could not be sent: the password is saved either way. The
    # link proved the inbox and the new password was just typed: the person is signed in
    # (through the second factor, when the account has one), not sent to type it again.
    if current_user.is_authenticated:
        signin.end()
    flash(gettext("Your password is saved."), "success")
    return signin.finish(user)


@bp.route("/password/reset", methods=["GET", "POST"])
@public
@limits.apply(limits.password_reset)
def reset_password():
    return _link_page("reset")


@bp.route("/password/set", methods=["GET", "POST"])
@public
@limits.apply(limits.password_reset)
def set_password():
    return _link_page("set")


@bp.route("/account/password/choose", methods=["GET", "POST"])
@login_required
def choose_password():
    form = NewPasswordForm()
    if form.validate_on_submit():
        try:
            passwords.choose_first_password(
                current_user.id,
                form.password.data,
                session_token=signin.session_token(),
                now=signin.now(),
                ip=signin.client_ip(),
            )
        except passwords.PasswordNotRequired:
            return redirect(url_for("main.home"))
        except DomainError as exc:
            form.password.errors.append(exc.message)
            return render_template("auth/choose_password.html", form=form), exc.status_code
        flash(gettext("Your password is saved."), "success")
        return redirect(url_for("main.home"))
    status = 422 if form.errors else 200
    return render_template("auth/choose_password.html", form=form), status
