"""Password sign-in, the second factor, sign-out."""

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user

from app.auth import bp, limits, signin
from app.auth.forms import LoginForm, SecondFactorForm
from app.errors import retry_after_header
from app.rbac import login_required, public
from app.services.accounts import accounts, two_factor
from app.services.errors import DomainError


@bp.route("/login", methods=["GET", "POST"])
@public
@limits.apply(limits.password_sign_in)
def login():
    if current_user.is_authenticated:
        return redirect(signin.home_for(current_user))
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = accounts.authenticate(
                form.email.data, form.password.data, now=signin.now(), ip=signin.client_ip()
            )
        except DomainError as exc:
            form.password.errors.append(exc.message)
            page = render_template("auth/login.html", form=form)
            return page, exc.status_code, retry_after_header(exc)
        response = signin.finish(user, request.args.get("next"))
        if current_user.is_authenticated:
            flash(gettext("Welcome back, %(name)s.", name=user.name), "success")
        return response
    status = 422 if form.errors else 200
    return render_template("auth/login.html", form=form), status


@bp.route("/login/2fa", methods=["GET", "POST"])
@public
@limits.apply(limits.second_factor)
def second_factor():
    pending = signin.pending_second_factor()
    if pending is None:
        flash(gettext("Please sign in again."), "info")
        return redirect(url_for("auth.login"))
    form = SecondFactorForm()
    if form.validate_on_submit():
        try:
            user = two_factor.verify(
                pending["uid"], form.code.data, now=signin.now(), ip=signin.client_ip()
            )
        except DomainError as exc:
            form.code.errors.append(exc.message)
            return render_template("auth/second_factor.html", form=form), exc.status_code
        signin.start(user)
        flash(gettext("Welcome back, %(name)s.", name=user.name), "success")
        return redirect(signin.safe_next(pending.get("next"), user))
    status = 422 if form.errors else 200
    return render_template("auth/second_factor.html", form=form), status


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    # CSRFProtect has already checked the token of this POST.
    signin.end()
    flash(gettext("You are signed out."), "info")
    return redirect(url_for("main.home"))
