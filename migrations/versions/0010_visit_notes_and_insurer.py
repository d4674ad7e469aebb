"""doctors' private visit notes (sealed); a patient's insurer and member number

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-10 09:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'visit_notes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('appointment_id', sa.Integer(), nullable=False),
        sa.Column('author_id', sa.Integer(), nullable=True),
        sa.Column('body_sealed', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ['appointment_id'], ['appointments.id'],
            name=op.f('fk_visit_notes_appointment_id_appointments'), ondelete='CASCADE',
        ),
        sa.ForeignKeyConstraint(
            ['author_id'], ['users.id'],
            name=op.f('fk_visit_notes_author_id_users'), ondelete='SET NULL',
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_visit_notes')),
    )
    op.create_index(
        op.f('ix_visit_notes_appointment_id'), 'visit_notes', ['appointment_id'], unique=False
    )
    with op.batch_alter_table('patient_profiles') as batch_op:
        batch_op.add_column(sa.Column('insurer', sa.String(length=120), nullable=True))
        batch_op.add_column(
            sa.Column('insurance_member_number', sa.String(length=64), nullable=True)
        )


def downgrade():
    with op.batch_alter_table('patient_profiles') as batch_op:
        batch_op.drop_column('insurance_member_number')
        batch_op.drop_column('insurer')
    op.drop_index(op.f('ix_visit_notes_appointment_id'), table_name='visit_notes')
    op.drop_table('visit_notes')
