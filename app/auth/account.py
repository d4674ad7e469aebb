"""Account settings: the changes that first ask for the password or a fresh code."""

from functools import wraps

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext, lazy_gettext, ngettext
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import DateField, StringField, SubmitField
from wtforms.validators import DataRequired, Length, Optional

from app.auth import bp, limits, signin
from app.auth.forms import (
    ButtonForm,
    CodeForm,
    ConfirmPasswordForm,
    EmailChangeForm,
    NewPasswordForm,
    PhoneChangeForm,
    SecondFactorForm,
)
from app.models import Role
from app.rbac import login_required
from app.services import sealing
from app.services.accounts import (
    accounts,
    codes,
    contacts,
    passwords,
    profile,
    refresh_tokens,
    sessions,
    tokens,
    two_factor,
)
from app.services.accounts.reauth import ReauthenticationRequired, is_recent
from app.services.errors import DomainError


def confirm_first():
    flash(gettext("Please confirm it is you first."), "info")
    return redirect(url_for("auth.confirm", next=request.full_path.rstrip("?")))


def fresh_auth_required(view):
    """The view changes a sensitive setting: without a recent password or code (services/
    reauth.py) the user is sent to confirm it is them, and comes back here afterwards. The
    services check the same window again; a ReauthenticationRequired that escapes the view
    ends the same way."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if not is_recent(signin.reauthenticated_at(), signin.now()):
            return confirm_first()
        try:
            return view(*args, **kwargs)
        except ReauthenticationRequired:
            return confirm_first()

    return wrapped


@bp.route("/account", methods=["GET"])
@login_required
def account():
    return render_template(
        "account/settings.html",
        recovery_left=two_factor.remaining_recovery_codes(current_user.id),
        devices=sessions.live_sessions(
            current_user.id,
            now=signin.now(),
            idle_minutes=current_app.config["SESSION_IDLE_MINUTES"],
        ),
        this_token=signin.session_token(),
        is_current=sessions.is_current,
        browser_name=sessions.browser_name,
        sign_out_others_form=ButtonForm(prefix="others"),
        api_sessions=refresh_tokens.live_families(current_user.id, now=signin.now()),
        revoke_api_form=ButtonForm(prefix="api"),
    )


@bp.route("/account/sessions/sign-out-others", methods=["POST"])
@login_required
def sign_out_others():
    if ButtonForm(prefix="others").validate_on_submit():
        count = sessions.sign_out_other_sessions(
            current_user.id, keep_token=signin.session_token(), now=signin.now(),
            ip=signin.client_ip(),
        )  # fmt: skip
        flash(
            ngettext(
                "Signed out of %(num)d other session.",
                "Signed out of %(num)d other sessions.",
                count,
            ),
            "success",
        )
    return redirect(url_for("auth.account"))


@bp.route("/account/api-sessions/<string(maxlength=32):family_id>/revoke", methods=["POST"])
@login_required
def revoke_api_session(family_id):
    if ButtonForm(prefix="api").validate_on_submit():
        if tokens.revoke_api_session(
            current_user.id, family_id, now=signin.now(), ip=signin.client_ip()
        ):
            flash(gettext("That API session is signed out."), "success")
        else:
            flash(gettext("That API session had already ended."), "info")
    return redirect(url_for("auth.account"))


# -- the profile a clinic needs ------------------------------------------------------------------


class ProfileForm(FlaskForm):
    name = StringField(
        lazy_gettext("Full name"), validators=[DataRequired(), Length(max=profile.MAX_NAME)]
    )
    date_of_birth = DateField(lazy_gettext("Date of birth"), validators=[Optional()])
    insurer = StringField(
        lazy_gettext("Health insurer (optional)"),
        validators=[Optional(), Length(max=profile.MAX_INSURER)],
    )
    member_number = StringField(
        lazy_gettext("Member number (optional)"),
        validators=[Optional(), Length(max=profile.MAX_MEMBER_NUMBER)],
    )
    submit = SubmitField(lazy_gettext("Save profile"))


def _profile_form() -> ProfileForm:
    form = ProfileForm()
    if request.method == "GET":
        form.name.data = current_user.name
        kept = current_user.patient_profile
        if kept is not None:
            form.date_of_birth.data = kept.date_of_birth
            form.insurer.data = kept.insurer
            form.member_number.data = kept.insurance_member_number
    return form


@bp.route("/account/profile", methods=["GET", "POST"])
@login_required
def edit_profile():
    form = _profile_form()
    patient = current_user.role is Role.PATIENT
    if form.validate_on_submit():
        try:
            profile.update_profile(
                current_user.id,
                name=form.name.data,
                date_of_birth=form.date_of_birth.data if patient else None,
                insurer=form.insurer.data if patient else None,
                member_number=form.member_number.data if patient else None,
                now=signin.now(),
            )
        except DomainError as exc:
            field = form._fields.get((exc.details or {}).get("field", ""), form.name)
            field.errors = [*field.errors, exc.message]
            return render_template(
                "account/profile.html", form=form, patient=patient
            ), exc.status_code
        flash(gettext("Your profile is saved."), "success")
        return redirect(url_for("auth.account"))
    status = 422 if form.errors else 200
    return render_template("account/profile.html", form=form, patient=patient), status


# -- confirming it is you --------------------------------------------------------------------


def _confirm_page(password_form=None, code_form=None, status=200):
    return (
        render_template(
            "account/confirm.html",
            password_form=password_form or ConfirmPasswordForm(prefix="pw"),
            code_form=code_form or CodeForm(prefix="code"),
            request_form=ButtonForm(prefix="send"),
            code_sent=signin.attempt("reauth") is not None,
            next_url=request.args.get("next"),
        ),
        status,
    )


def _confirmed():
    flash(gettext("Thank you. You can make your change now."), "success")
    return redirect(signin.safe_next(request.args.get("next") or url_for("auth.account")))


@bp.route("/account/confirm", methods=["GET", "POST"])
@login_required
@limits.apply(limits.reauth_check)
def confirm():
    form = ConfirmPasswordForm(prefix="pw")
    if request.method == "GET":
        return _confirm_page()
    if not form.validate_on_submit():
        return _confirm_page(password_form=form, status=422)
    try:
        moment = accounts.reauthenticate(
            current_user.id, password=form.password.data, now=signin.now(), ip=signin.client_ip()
        )
    except DomainError as exc:
        form.password.errors.append(exc.message)
        return _confirm_page(password_form=form, status=exc.status_code)
    signin.mark_reauthenticated(moment)
    return _confirmed()


@bp.route("/account/confirm/send-code", methods=["POST"])
@login_required
@limits.apply(limits.account_code_request)
def confirm_code_request():
    if not ButtonForm(prefix="send").validate_on_submit():
        return _confirm_page(status=400)
    attempt_id = codes.new_attempt_id()
    try:
        accounts.request_reauth_code(
            current_user.id, attempt_id=attempt_id, now=signin.now(), ip=signin.client_ip()
        )
    except DomainError as exc:
        flash(exc.message, "error")
        return _confirm_page(status=exc.status_code)
    signin.remember_attempt("reauth", attempt_id)
    flash(gettext("We emailed a code to %(email)s.", email=current_user.email), "info")
    return redirect(url_for("auth.confirm", next=request.args.get("next")))


@bp.route("/account/confirm/code", methods=["POST"])
@login_required
@limits.apply(limits.reauth_check)
def confirm_code():
    form = CodeForm(prefix="code")
    if not form.validate_on_submit():
        return _confirm_page(code_form=form, status=422)
    try:
        moment = accounts.reauthenticate(
            current_user.id,
            attempt_id=signin.attempt("reauth"),
            code=form.code.data,
            now=signin.now(),
            ip=signin.client_ip(),
        )
    except DomainError as exc:
        form.code.errors.append(exc.message)
        return _confirm_page(code_form=form, status=exc.status_code)
    signin.forget_attempt("reauth")
    signin.mark_reauthenticated(moment)
    return _confirmed()


# -- password, email, phone -------------------------------------------------------------------


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
@fresh_auth_required
def change_password():
    form = NewPasswordForm()
    if form.validate_on_submit():
        try:
            passwords.change_password(
                current_user.id,
                form.password.data,
                reauthenticated_at=signin.reauthenticated_at(),
                session_token=signin.session_token(),
                now=signin.now(),
                ip=signin.client_ip(),
            )
        except DomainError as exc:
            form.password.errors.append(exc.message)
            return render_template("account/password.html", form=form), exc.status_code
        # Also when the security note could not be sent: the password is changed either way.
        flash(gettext("Your password is changed. Your other sessions were signed out."), "success")
        return redirect(url_for("auth.account"))
    status = 422 if form.errors else 200
    return render_template("account/password.html", form=form), status


def _start_contact_change(kind: str, form, template: str, start_change, sent_message: str):
    """The first step of changing the email or phone: the new one gets a code (an empty phone
    is simply removed). `start_change` is contacts.start_email_change or start_phone_change.
    The views that call it are @fresh_auth_required."""
    if form.validate_on_submit():
        attempt_id = codes.new_attempt_id()
        try:
            sent = start_change(
                current_user.id,
                getattr(form, kind).data,
                attempt_id=attempt_id,
                reauthenticated_at=signin.reauthenticated_at(),
                now=signin.now(),
                ip=signin.client_ip(),
            )
        except DomainError as exc:
            getattr(form, kind).errors.append(exc.message)
            return render_template(template, form=form), exc.status_code
        if sent is False:
            flash(gettext("Your phone number is removed."), "success")
            return redirect(url_for("auth.account"))
        signin.remember_attempt(f"change_{kind}", attempt_id)
        flash(sent_message, "info")
        return redirect(url_for(f"auth.change_{kind}_confirm"))
    status = 422 if form.errors else 200
    return render_template(template, form=form), status


@bp.route("/account/email", methods=["GET", "POST"])
@login_required
@fresh_auth_required
@limits.apply(limits.account_code_request)
def change_email():
    return _start_contact_change(
        "email", EmailChangeForm(), "account/email.html", contacts.start_email_change,
        gettext("We sent a code to the new address."),
    )  # fmt: skip


def _contact_confirm(kind: str, confirm_change):
    form = CodeForm()
    template = "account/contact_confirm.html"
    if form.validate_on_submit():
        try:
            confirm_change(
                current_user.id,
                attempt_id=signin.attempt(f"change_{kind}"),
                code=form.code.data,
                now=signin.now(),
                ip=signin.client_ip(),
            )
        except DomainError as exc:
            form.code.errors.append(exc.message)
            return render_template(template, form=form, kind=kind), exc.status_code
        signin.forget_attempt(f"change_{kind}")
        if kind == "email":
            flash(gettext("Your email address is changed."), "success")
        else:
            flash(gettext("Your phone number is changed."), "success")
        return redirect(url_for("auth.account"))
    status = 422 if form.errors else 200
    return render_template(template, form=form, kind=kind), status


@bp.route("/account/email/confirm", methods=["GET", "POST"])
@login_required
@limits.apply(limits.account_check)
def change_email_confirm():
    return _contact_confirm("email", contacts.confirm_email_change)


@bp.route("/account/phone", methods=["GET", "POST"])
@login_required
@fresh_auth_required
@limits.apply(limits.account_code_request)
def change_phone():
    return _start_contact_change(
        "phone", PhoneChangeForm(), "account/phone.html", contacts.start_phone_change,
        gettext("We texted a code to the new number."),
    )  # fmt: skip


@bp.route("/account/phone/confirm", methods=["GET", "POST"])
@login_required
@limits.apply(limits.account_check)
def change_phone_confirm():
    return _contact_confirm("phone", contacts.confirm_phone_change)


# -- two-factor authentication ------------------------------------------------------------------


def _pending_secret() -> str | None:
    """The secret being enrolled. It waits in the session cookie until a code from the app
    proves the scan worked, sealed: the cookie is signed but readable by whoever holds it."""
    sealed = session.get("totp_pending")
    if not isinstance(sealed, str) or not sealed.startswith(sealing.PREFIX):
        return None
    try:
        return sealing.unseal(sealed)
    except sealing.UnsealFailed:
        return None


def _keep_pending_secret(secret: str) -> None:
    session["totp_pending"] = sealing.seal(secret)


def _two_factor_page(form=None, status=200):
    if current_user.totp_secret:
        return (
            render_template(
                "account/two_factor.html",
                enrolled=True,
                disable_form=ButtonForm(prefix="off"),
                regenerate_form=ButtonForm(prefix="regen"),
                recovery_left=two_factor.remaining_recovery_codes(current_user.id),
                admin=current_user.role.value == "admin",
                kept_on=two_factor.needs_two_factor(current_user),
            ),
            status,
        )
    secret = _pending_secret()
    if secret is None:
        secret = two_factor.new_secret()
        _keep_pending_secret(secret)
    uri = two_factor.provisioning_uri(secret, current_user.email)
    return (
        render_template(
            "account/two_factor.html",
            enrolled=False,
            qr_svg=two_factor.qr_svg(uri),
            secret=secret,
            form=form or SecondFactorForm(),
            required=two_factor.must_enrol(current_user),
            admin=current_user.role.value == "admin",
        ),
        status,
    )


@bp.route("/account/2fa", methods=["GET"])
@login_required
@fresh_auth_required
def two_factor_settings():
    return _two_factor_page()


@bp.route("/account/2fa/enable", methods=["POST"])
@login_required
@fresh_auth_required
@limits.apply(limits.account_check)
def two_factor_enable():
    form = SecondFactorForm()
    secret = _pending_secret()
    if not form.validate_on_submit() or secret is None:
        return _two_factor_page(form, status=422)
    try:
        recovery_codes = two_factor.enable(
            current_user.id,
            secret=secret,
            code=form.code.data,
            reauthenticated_at=signin.reauthenticated_at(),
            now=signin.now(),
            ip=signin.client_ip(),
        )
    except DomainError as exc:
        form.code.errors.append(exc.message)
        return _two_factor_page(form, status=exc.status_code)
    session.pop("totp_pending", None)
    flash(gettext("Two-factor authentication is on."), "success")
    return render_template("account/recovery_codes.html", codes=recovery_codes)


@bp.route("/account/2fa/disable", methods=["POST"])
@login_required
@fresh_auth_required
def two_factor_disable():
    if not ButtonForm(prefix="off").validate_on_submit():
        return _two_factor_page(status=400)
    try:
        two_factor.disable(
            current_user.id,
            reauthenticated_at=signin.reauthenticated_at(),
            now=signin.now(),
            ip=signin.client_ip(),
        )
    except DomainError as exc:
        flash(exc.message, "error")
        return _two_factor_page(status=exc.status_code)
    flash(gettext("Two-factor authentication is off."), "success")
    return redirect(url_for("auth.account"))


@bp.route("/account/2fa/recovery-codes", methods=["POST"])
@login_required
@fresh_auth_required
def two_factor_recovery_codes():
    if not ButtonForm(prefix="regen").validate_on_submit():
        return _two_factor_page(status=400)
    try:
        recovery_codes = two_factor.regenerate_recovery_codes(
            current_user.id,
            reauthenticated_at=signin.reauthenticated_at(),
            now=signin.now(),
            ip=signin.client_ip(),
        )
    except DomainError as exc:
        flash(exc.message, "error")
        return redirect(url_for("auth.account"))
    return render_template("account/recovery_codes.html", codes=recovery_codes)
