"""The account page's privacy actions: download your data, delete your account."""

from __future__ import annotations

import json

from flask import Response, flash, redirect, render_template, url_for
from flask_babel import gettext, lazy_gettext
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField, SubmitField
from wtforms.validators import Length, Optional

from app.auth import bp, limits, signin
from app.auth.account import confirm_first
from app.models import Role
from app.rbac import login_required
from app.services.accounts import closure, privacy
from app.services.accounts.reauth import ReauthenticationRequired, is_recent
from app.services.errors import DomainError


class DeleteAccountForm(FlaskForm):
    password = PasswordField(
        lazy_gettext("Your password"), validators=[Optional(), Length(max=256)]
    )
    confirmation = StringField(
        lazy_gettext("Type %(word)s to confirm", word=closure.CONFIRMATION_WORD),
        validators=[Optional(), Length(max=32)],
    )
    submit = SubmitField(lazy_gettext("Delete my account"))


@bp.route("/account/export", methods=["GET"])
@login_required
def export_data():
    document = privacy.export_data(user_id=current_user.id, now=signin.now())
    day = signin.now().strftime("%Y-%m-%d")
    return Response(
        json.dumps(document, indent=2, ensure_ascii=False),
        mimetype="application/json",
        headers={"Content-Disposition": f'attachment; filename="carebook-data-{day}.json"'},
    )


def _delete_page(form: DeleteAccountForm, status: int = 200):
    return (
        render_template(
            "account/delete.html",
            form=form,
            staff=current_user.role is not Role.PATIENT,
            word=closure.CONFIRMATION_WORD,
        ),
        status,
    )


@bp.route("/account/delete", methods=["GET", "POST"])
@login_required
@limits.apply(limits.reauth_check)
def delete_account():
    form = DeleteAccountForm()
    # Without a password, a fresh sign-in (an emailed code) is the proof; then the typed word.
    needs_fresh = current_user.password_hash is None and current_user.role is Role.PATIENT
    if needs_fresh and not is_recent(signin.reauthenticated_at(), signin.now()):
        return confirm_first()
    if not form.is_submitted():
        return _delete_page(form)
    if not form.validate_on_submit():
        return _delete_page(form, 422)
    try:
        closure.delete_account(
            user_id=current_user.id,
            now=signin.now(),
            password=form.password.data or None,
            confirmation=form.confirmation.data,
            reauthenticated_at=signin.reauthenticated_at(),
        )
    except ReauthenticationRequired:
        return confirm_first()
    except DomainError as exc:
        field = exc.details.get("field")
        target = getattr(form, field, None) if field else None
        (target.errors if target is not None else form.form_errors).append(exc.message)
        return _delete_page(form, exc.status_code)
    signin.end()
    flash(gettext("Your account was deleted. Thank you for having used Carebook."), "success")
    return redirect(url_for("main.home"))
