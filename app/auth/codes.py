"""Signing in without a password: a one-time code by email or text message."""

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext, lazy_gettext
from flask_login import current_user

from app.auth import bp, limits, signin
from app.auth.forms import CodeForm, CodeRequestForm
from app.models import CodeChannel
from app.rbac import public
from app.services.accounts import accounts, codes
from app.services.errors import DomainError

SENT = lazy_gettext(
    "If an account uses that address, a 6-digit code is on its way. It works for 10 minutes, "
    "in this browser only."
)


@bp.route("/login/code", methods=["GET", "POST"])
@public
@limits.apply(limits.code_request)
def code_sign_in():
    if current_user.is_authenticated:
        return redirect(signin.home_for(current_user))
    form = CodeRequestForm()
    if form.validate_on_submit():
        attempt_id = codes.new_attempt_id()
        try:
            accounts.request_sign_in_code(
                form.email.data,
                channel=CodeChannel(form.channel.data),
                attempt_id=attempt_id,
                now=signin.now(),
                ip=signin.client_ip(),
            )
        except DomainError as exc:
            form.email.errors.append(exc.message)
            return render_template("auth/code_request.html", form=form), exc.status_code
        signin.remember_attempt("sign_in", attempt_id)
        flash(str(SENT), "info")
        return redirect(url_for("auth.code_verify", next=request.args.get("next")))
    status = 422 if form.errors else 200
    return render_template("auth/code_request.html", form=form), status


@bp.route("/login/code/verify", methods=["GET", "POST"])
@public
@limits.apply(limits.code_check)
def code_verify():
    if current_user.is_authenticated:
        return redirect(signin.home_for(current_user))
    form = CodeForm()
    if form.validate_on_submit():
        try:
            user = accounts.sign_in_with_code(
                signin.attempt("sign_in"), form.code.data, now=signin.now(), ip=signin.client_ip()
            )
        except DomainError as exc:
            form.code.errors.append(exc.message)
            return render_template("auth/code_verify.html", form=form), exc.status_code
        response = signin.finish(user, request.args.get("next"))
        if current_user.is_authenticated:
            flash(gettext("Welcome back, %(name)s.", name=user.name), "success")
        return response
    status = 422 if form.errors else 200
    return render_template("auth/code_verify.html", form=form), status
