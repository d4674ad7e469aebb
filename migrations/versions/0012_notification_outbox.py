"""notifications become an outbox: destination, backoff, claims, errors, a skipped state;
notification preferences; reminder offsets per clinic

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-11 09:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

OLD_STATUSES = "status IN ('pending', 'sent', 'failed')"
NEW_STATUSES = "status IN ('pending', 'sent', 'failed', 'skipped')"


def upgrade():
    with op.batch_alter_table('notifications') as batch_op:
        batch_op.add_column(sa.Column('destination', sa.String(length=254), nullable=True))
        batch_op.add_column(
            sa.Column(
                'available_at', sa.DateTime(timezone=True), nullable=False,
                server_default=sa.func.current_timestamp(),
            )
        )
        batch_op.add_column(sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('last_error', sa.Text(), nullable=True))
        batch_op.drop_constraint(op.f('ck_notifications_notification_status'), type_='check')
        batch_op.create_check_constraint('notification_status', NEW_STATUSES)
        batch_op.create_index(
            'ix_notifications_status_available', ['status', 'available_at'], unique=False
        )
    op.create_index(
        'ix_notifications_unread_in_app', 'notifications', ['user_id'], unique=False,
        postgresql_where=sa.text("channel = 'in_app' AND read_at IS NULL"),
        sqlite_where=sa.text("channel = 'in_app' AND read_at IS NULL"),
    )
    op.create_table(
        'notification_preferences',
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('category', sa.String(length=32), nullable=False),
        sa.Column(
            'channel',
            sa.Enum(
                'email', 'sms', 'in_app', name='notification_preference_channel',
                native_enum=False, create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column('enabled', sa.Boolean(), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ['user_id'], ['users.id'],
            name=op.f('fk_notification_preferences_user_id_users'), ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint(
            'user_id', 'category', 'channel', name=op.f('pk_notification_preferences')
        ),
    )
    with op.batch_alter_table('clinics') as batch_op:
        batch_op.add_column(
            sa.Column('reminder_offsets', sa.JSON(), nullable=False, server_default='[1440, 120]')
        )


def downgrade():
    with op.batch_alter_table('clinics') as batch_op:
        batch_op.drop_column('reminder_offsets')
    op.drop_table('notification_preferences')
    op.drop_index('ix_notifications_unread_in_app', table_name='notifications')
    op.execute("UPDATE notifications SET status = 'failed' WHERE status = 'skipped'")
    with op.batch_alter_table('notifications') as batch_op:
        batch_op.drop_index('ix_notifications_status_available')
        batch_op.drop_constraint(op.f('ck_notifications_notification_status'), type_='check')
        batch_op.create_check_constraint('notification_status', OLD_STATUSES)
        batch_op.drop_column('last_error')
        batch_op.drop_column('claimed_at')
        batch_op.drop_column('available_at')
        batch_op.drop_column('destination')
