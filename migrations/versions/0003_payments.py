"""payments: ledger columns, refund owed, disputes, one live payment per appointment

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 02:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


LIVE = "status IN ('requires_payment', 'authorized', 'captured', 'partially_refunded', 'disputed')"


def upgrade():
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('captured_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('refund_target', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('failure_message', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('dispute_id', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('dispute_status', sa.String(length=40), nullable=True))
        batch_op.create_check_constraint(
            'refund_target',
            'refund_target IS NULL OR (refund_target >= 0 AND refund_target <= amount_captured)',
        )
        batch_op.create_index(
            'uq_payments_live_appointment', ['appointment_id'], unique=True,
            postgresql_where=sa.text(LIVE), sqlite_where=sa.text(LIVE),
        )


def downgrade():
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.drop_index(
            'uq_payments_live_appointment',
            postgresql_where=sa.text(LIVE), sqlite_where=sa.text(LIVE),
        )
        batch_op.drop_constraint(op.f('ck_payments_refund_target'), type_='check')
        batch_op.drop_column('dispute_status')
        batch_op.drop_column('dispute_id')
        batch_op.drop_column('failure_message')
        batch_op.drop_column('refund_target')
        batch_op.drop_column('captured_at')
