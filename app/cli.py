"""Command-line interface: `flask users create`, `flask seed-demo`, `flask backup`, ..."""

from __future__ import annotations

from datetime import UTC, datetime

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from app import demo
from app.extensions import db
from app.models import Role
from app.services import backups
from app.services.accounts import accounts
from app.services.consults import consults
from app.services.errors import DomainError
from app.services.localtime import parse_aware
from app.services.notifications import outbox, reminders
from app.services.reports import refresh
from app.services.scheduling import expiry
from app.services.webhooks import delivery as webhook_delivery

users_cli = AppGroup("users", help="Manage user accounts.")


@users_cli.command("create")
@click.argument("email")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--password", required=True, help="At least 8 characters.")
@click.option("--name", default=None)
@click.option("--phone", default=None, help="E.164, e.g. +14155550123")
@click.option("--clinic-id", type=int, default=None, help="For doctors: their clinic.")
def create_user(email, role, password, name, phone, clinic_id):
    """Create an active account ready to sign in."""
    try:
        user = accounts.create_user(
            email=email, role=role, password=password, name=name, phone=phone, clinic_id=clinic_id
        )
    except DomainError as exc:
        raise click.ClickException(exc.message) from exc
    click.echo(f"Created {user.role.value} {user.email} (id {user.id}).")


@click.command("seed-demo")
@click.option("--if-empty", is_flag=True, help="Do nothing when the database has users.")
def seed_demo(if_empty):
    """Load demo clinics, doctors, slots and appointments (safe to run again)."""
    summary = demo.seed_demo(now=datetime.now(UTC), only_if_empty=if_empty)
    if summary is None:
        click.echo("Database already has data; demo seed skipped.")
    else:
        click.echo(
            "Demo data: {clinics} clinics, {doctors} doctors, {slots} slots, "
            "{appointments} appointments, {pages} help and policy pages.".format(**summary)
        )
    click.echo(f"Demo sign-ins (password for all: {demo.DEMO_PASSWORD}):")
    for role, email in demo.DEMO_LOGINS.items():
        click.echo(f"  {role:<8} {email}")


@click.command("expire-holds")
def expire_holds():
    """Mark lapsed payment holds expired and cancel their card authorizations (safe to run any
    time, also concurrently)."""
    report = expiry.expire(now=datetime.now(UTC))
    click.echo(f"Expired {report.expired_holds} lapsed hold(s).")
    click.echo(f"Cancelled {report.lapsed_requests} request(s) not approved in time.")
    _echo_settled(report)


@click.command("expire-consults")
def expire_consults():
    """Expire the consult requests nobody accepted within CONSULT_EXPIRY_MINUTES and release
    their card holds (safe to run any time, also concurrently)."""
    expired, released = consults.expire(now=datetime.now(UTC))
    click.echo(f"Expired {expired} consult request(s); released {released} card hold(s).")


@click.command("reconcile-payments")
def reconcile_payments():
    """Compare open payments with Stripe: settle them, send refunds still owed (safe to run
    any time, also concurrently)."""
    report = expiry.reconcile(now=datetime.now(UTC))
    click.echo(f"Expired {report.expired_holds} lapsed hold(s).")
    click.echo(f"Cancelled {report.lapsed_requests} request(s) not approved in time.")
    _echo_settled(report)
    click.echo(f"Refunds sent: {report.refunded}.")
    if report.failures:
        raise click.ClickException(f"{report.failures} payment(s) could not be settled now.")


@click.command("send-reminders")
@click.option("--now", "now_text", default=None, help="ISO 8601 moment to sweep as of.")
def send_reminders(now_text):
    """Write every reminder due (as of --now) to the outbox and hand it on. Safe to run twice
    or side by side: each reminder is written once."""
    try:
        now = parse_aware(now_text, "now") if now_text else datetime.now(UTC)
    except DomainError as exc:
        raise click.BadParameter(exc.message, param_hint="--now") from exc
    count = reminders.send_due(now=now)
    delivered = outbox.flush_ready()
    queued = "" if current_app.config.get("REDIS_URL") else f", {delivered} message(s) delivered"
    click.echo(f"Reminders: {count} notification(s) written{queued}.")


@click.command("refresh-reports")
def refresh_reports():
    """Roll the report days that have ended and recount the ones changed since."""
    done = refresh.refresh()
    click.echo(f"recounted {done.days} day(s) of {done.clinics} clinic(s), {done.rows} row(s)")


@click.command("dispatch-notifications")
def dispatch_notifications():
    """Hand on every notification and webhook delivery still pending after a minute (a lost
    enqueue)."""
    now = datetime.now(UTC)
    count = outbox.requeue_stale(now=now)
    click.echo(f"Handed on {count} pending notification(s).")
    click.echo(f"Handed on {webhook_delivery.requeue_stale(now=now)} webhook delivery(ies).")


@click.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, writable=True))
def backup(path):
    """Write a full backup of the database to PATH (PostgreSQL: pg_dump custom format)."""
    try:
        written = backups.backup(current_app.config["SQLALCHEMY_DATABASE_URI"], path)
    except backups.BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Backup written to {written} ({written.stat().st_size} bytes).")


@click.command("restore")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--force", is_flag=True, help="Replace what a non-empty database holds.")
def restore(path, force):
    """Restore a backup made by `flask backup` into the database (an empty one, unless
    --force)."""
    db.session.remove()
    db.engine.dispose()  # no pooled connection of ours holds a lock the restore waits for
    try:
        backups.restore(current_app.config["SQLALCHEMY_DATABASE_URI"], path, force=force)
    except backups.BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Restored {path}.")


def _echo_settled(report) -> None:
    done = ", ".join(f"{result} {n}" for result, n in sorted(report.settled.items()))
    click.echo(f"Payments settled with Stripe: {done or 'none'}.")


def register_cli(app: Flask) -> None:
    app.cli.add_command(users_cli)
    app.cli.add_command(seed_demo)
    app.cli.add_command(expire_holds)
    app.cli.add_command(expire_consults)
    app.cli.add_command(reconcile_payments)
    app.cli.add_command(send_reminders)
    app.cli.add_command(dispatch_notifications)
    app.cli.add_command(refresh_reports)
    app.cli.add_command(backup)
    app.cli.add_command(restore)
