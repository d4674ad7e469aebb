"""Admin pages for people: search, staff accounts, roles, permissions, (de)activation."""

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext
from wtforms.fields.choices import SelectChoice

from app.admin import acting, bp, form_error
from app.admin.forms import ConfirmForm, NewStaffForm, PermissionsForm, RoleForm, UserSearchForm
from app.rbac import permission_required
from app.services import access, staff
from app.services.accounts import passwords
from app.services.directory import list_clinics
from app.services.errors import DomainError
from app.services.messaging import DeliveryFailed
from app.templating import role_label


@bp.route("/users")
@permission_required("users.manage")
def users():
    form = UserSearchForm(request.args)
    if not form.validate():
        return render_template("admin/users.html", form=form, results=None), 422
    results = staff.search_users(form.q.data, form.role.data or None, page=form.page.data or 1)
    return render_template("admin/users.html", form=form, results=results)


@bp.route("/users/new", methods=["GET", "POST"])
@permission_required("users.manage")
def new_user():
    form = NewStaffForm()
    form.clinic_id.choices = [SelectChoice("", gettext("No clinic yet"))] + [
        SelectChoice(str(c.id), gettext("%(name)s · %(city)s", name=c.name, city=c.city))
        for c in list_clinics()
    ]
    if form.validate_on_submit():
        try:
            user = staff.create_staff_account(
                staff.NewStaffAccount(
                    email=form.email.data,
                    name=form.name.data,
                    role=form.role.data,
                    phone=form.phone.data,
                    clinic_id=int(form.clinic_id.data) if form.clinic_id.data else None,
                ),
                **acting(),
            )
        except DomainError as exc:
            form_error(form, exc)
            return render_template("admin/user_new.html", form=form), exc.status_code
        _send_set_password_link(user)
        doctor = access.doctor_of(user)
        if doctor is not None:
            # One flow: the new doctor's profile (clinic, specialties, fee, verification) is
            # the next screen; the doctor is not listed until it is complete.
            flash(
                gettext("Now complete the doctor's profile: they are listed once it is."), "success"
            )
            return redirect(url_for("admin.edit_doctor", doctor_id=doctor.id))
        return redirect(url_for("admin.user", user_id=user.id))
    return render_template("admin/user_new.html", form=form), 422 if form.errors else 200


def _send_set_password_link(user) -> None:
    # The account is committed; a failed email is reported, and "Send the link again" retries.
    try:
        passwords.send_set_password_link(user.id, **acting())
    except (DomainError, DeliveryFailed):
        flash(
            gettext(
                "Account created, but the email to %(email)s could not be sent.", email=user.email
            ),
            "error",
        )
        return
    flash(
        gettext(
            "Account created. A link to set a password was emailed to %(email)s.", email=user.email
        ),
        "success",
    )


@bp.route("/users/<int:user_id>")
@permission_required("users.manage")
def user(user_id: int):
    account = staff.get_user(user_id)
    return _render_user(account)


def _render_user(account, status: int = 200, **forms):
    role_form = forms.get("role_form") or RoleForm(role=account.role.value)
    permissions_form = forms.get("permissions_form") or PermissionsForm(
        permissions=sorted(account.permission_names)
    )
    return render_template(
        "admin/user.html",
        account=account,
        role_form=role_form,
        permissions_form=permissions_form,
        confirm_form=ConfirmForm(),
    ), status


@bp.route("/users/<int:user_id>/role", methods=["POST"])
@permission_required("users.manage")
def change_role(user_id: int):
    form = RoleForm()
    if not form.validate_on_submit():
        return _render_user(staff.get_user(user_id), 422, role_form=form)
    try:
        account = staff.change_role(user_id, form.role.data, **acting())
    except DomainError as exc:
        form.role.errors.append(exc.message)
        return _render_user(staff.get_user(user_id), exc.status_code, role_form=form)
    flash(
        gettext("%(name)s is now %(role)s.", name=account.name, role=role_label(account.role)),
        "success",
    )
    return redirect(url_for("admin.user", user_id=user_id))


@bp.route("/users/<int:user_id>/permissions", methods=["POST"])
@permission_required("users.manage")
def set_permissions(user_id: int):
    form = PermissionsForm()
    if not form.validate_on_submit():
        return _render_user(staff.get_user(user_id), 422, permissions_form=form)
    try:
        account = staff.set_permissions(user_id, form.permissions.data, **acting())
    except DomainError as exc:
        form.permissions.errors.append(exc.message)
        return _render_user(staff.get_user(user_id), exc.status_code, permissions_form=form)
    flash(gettext("Permissions of %(name)s saved.", name=account.name), "success")
    return redirect(url_for("admin.user", user_id=user_id))


@bp.route("/users/<int:user_id>/deactivate", methods=["POST"], defaults={"active": False})
@bp.route("/users/<int:user_id>/reactivate", methods=["POST"], defaults={"active": True})
@permission_required("users.manage")
def set_active(user_id: int, active: bool):
    try:
        account = staff.set_active(user_id, active, **acting())
    except staff.AccountDeleted as exc:
        flash(exc.message, "error")
        return redirect(url_for("admin.user", user_id=user_id))
    flash(
        f"{account.name} can sign in again."
        if active
        else f"{account.name} is deactivated and signed out everywhere.",
        "success",
    )
    return redirect(url_for("admin.user", user_id=user_id))


@bp.route("/users/<int:user_id>/send-link", methods=["POST"])
@permission_required("users.manage")
def resend_link(user_id: int):
    try:
        account = staff.resend_set_password_link(user_id, **acting())
    except DeliveryFailed:
        flash(gettext("The email could not be sent. Try again in a moment."), "error")
    else:
        flash(
            gettext("A new set-password link was emailed to %(email)s.", email=account.email),
            "success",
        )
    return redirect(url_for("admin.user", user_id=user_id))
