"""indexes the reports read by: visits, captures, refunds and visible reviews by time

Revision ID: 0017
Revises: 0014
Create Date: 2026-12-22 09:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0017'
down_revision = '0014'
branch_labels = None
depends_on = None

VISIBLE = sa.text('hidden_at IS NULL')


def upgrade():
    # Reports over every doctor read a range of visit times; one doctor's use
    # ix_appointments_doctor_starts_at, a clinic's go through its doctors.
    op.create_index('ix_appointments_starts_at', 'appointments', ['starts_at'])
    op.create_index('ix_payments_captured_at', 'payments', ['captured_at'])
    op.create_index('ix_refunds_created_at', 'refunds', ['created_at'])
    op.create_index(
        'ix_reviews_visible_created', 'reviews', ['created_at'],
        postgresql_where=VISIBLE, sqlite_where=VISIBLE,
    )


def downgrade():
    op.drop_index('ix_reviews_visible_created', table_name='reviews')
    op.drop_index('ix_refunds_created_at', table_name='refunds')
    op.drop_index('ix_payments_captured_at', table_name='payments')
    op.drop_index('ix_appointments_starts_at', table_name='appointments')
