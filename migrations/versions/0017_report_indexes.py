"""indexes the reports read by: visits, captures, refunds and visible reviews by time

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-22 09:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None

VISIBLE = sa.text('hidden_at IS NULL')
COMPLETED = sa.text("status = 'completed'")


# Covering (INCLUDE, PostgreSQL): the reports read these columns from the index alone (an
# index-only scan), not from a month of rows scattered over the heap.
APPOINTMENT_COLUMNS = [
    'doctor_id', 'patient_id', 'status', 'cancellation_reason', 'ends_at', 'created_at',
    'payment_method', 'fee_amount', 'fee_currency',
]


def upgrade():
    # Reports over every doctor read a range of visit times; one doctor's use
    # ix_appointments_doctor_starts_at, a clinic's go through its doctors.
    op.create_index(
        'ix_appointments_starts_at', 'appointments', ['starts_at'],
        postgresql_include=APPOINTMENT_COLUMNS,
    )
    # New or returning: is there an earlier completed visit of this patient with this doctor?
    op.create_index(
        'ix_appointments_completed_pair', 'appointments',
        ['patient_id', 'doctor_id', 'starts_at'],
        postgresql_where=COMPLETED, sqlite_where=COMPLETED,
    )
    op.drop_index('ix_slots_start_at', table_name='slots')
    op.create_index(
        'ix_slots_start_at', 'slots', ['start_at'],
        postgresql_include=['doctor_id', 'status', 'end_at'],
    )
    op.create_index(
        'ix_payments_captured_at', 'payments', ['captured_at'],
        postgresql_include=['appointment_id', 'currency', 'amount_captured'],
    )
    op.create_index(
        'ix_refunds_created_at', 'refunds', ['created_at'],
        postgresql_include=['payment_id', 'amount'],
    )
    op.create_index(
        'ix_reviews_visible_created', 'reviews', ['created_at'],
        postgresql_where=VISIBLE, sqlite_where=VISIBLE,
        postgresql_include=['doctor_id', 'rating'],
    )


def downgrade():
    op.drop_index('ix_reviews_visible_created', table_name='reviews')
    op.drop_index('ix_refunds_created_at', table_name='refunds')
    op.drop_index('ix_payments_captured_at', table_name='payments')
    op.drop_index('ix_slots_start_at', table_name='slots')
    op.create_index('ix_slots_start_at', 'slots', ['start_at'])
    op.drop_index('ix_appointments_completed_pair', table_name='appointments')
    op.drop_index('ix_appointments_starts_at', table_name='appointments')
