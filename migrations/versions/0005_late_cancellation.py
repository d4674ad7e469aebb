"""late cancellation: a clinic may let patients cancel inside its window for a partial refund

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 02:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    # NULL (every existing clinic): no online cancelling inside the window, as before.
    with op.batch_alter_table('clinics', schema=None) as batch_op:
        batch_op.add_column(sa.Column('late_cancellation_refund_percent', sa.Integer(), nullable=True))
        batch_op.create_check_constraint(
            op.f('ck_clinics_late_cancellation_refund_percent'),
            'late_cancellation_refund_percent IS NULL OR (late_cancellation_refund_percent BETWEEN 0 AND 100)',
        )


def downgrade():
    with op.batch_alter_table('clinics', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_clinics_late_cancellation_refund_percent'), type_='check')
        batch_op.drop_column('late_cancellation_refund_percent')
