"""speed: an index on appointments.rescheduled_from_id (each confirmation's calendar invite
followed the chain of reschedules with a scan of every appointment)

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-03 21:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0026'
down_revision = '0025'
branch_labels = None
depends_on = None

WHERE = sa.text("rescheduled_from_id IS NOT NULL")


def upgrade():
    # A plain CREATE INDEX (no table rebuild on SQLite: the report triggers of 0024 stay).
    op.create_index(
        "ix_appointments_rescheduled_from_id",
        "appointments",
        ["rescheduled_from_id"],
        postgresql_where=WHERE,
        sqlite_where=WHERE,
    )


def downgrade():
    op.drop_index("ix_appointments_rescheduled_from_id", table_name="appointments")
