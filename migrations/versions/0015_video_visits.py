"""video visits: the join/leave log of each appointment's room, and a clinic's external
meeting URL template

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-21 09:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'visit_events',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('appointment_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column(
            'kind',
            sa.Enum('joined', 'left', name='visit_event_kind', native_enum=False,
                    create_constraint=True, length=6),
            nullable=False,
        ),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('socket_id', sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ['appointment_id'], ['appointments.id'],
            name=op.f('fk_visit_events_appointment_id_appointments'), ondelete='CASCADE',
        ),
        sa.ForeignKeyConstraint(
            ['user_id'], ['users.id'],
            name=op.f('fk_visit_events_user_id_users'), ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_visit_events')),
    )
    op.create_index(
        'ix_visit_events_appointment_at', 'visit_events', ['appointment_id', 'at', 'id']
    )
    with op.batch_alter_table('clinics') as batch_op:
        batch_op.add_column(sa.Column('meeting_url_template', sa.String(length=500), nullable=True))


def downgrade():
    with op.batch_alter_table('clinics') as batch_op:
        batch_op.drop_column('meeting_url_template')
    op.drop_index('ix_visit_events_appointment_at', table_name='visit_events')
    op.drop_table('visit_events')
