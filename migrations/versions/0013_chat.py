"""chat: conversations and messages (read state per message, unread index); when an
appointment was first confirmed; how long after a visit a clinic's patients may write

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-14 09:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('appointments') as batch_op:
        batch_op.add_column(sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=True))
    # Visits already past confirmation; a cancelled one's history is not known, so it is not.
    op.execute(
        "UPDATE appointments SET confirmed_at = COALESCE(updated_at, created_at)"
        " WHERE status IN ('confirmed', 'completed', 'no_show')"
    )
    with op.batch_alter_table('clinics') as batch_op:
        batch_op.add_column(
            sa.Column('chat_days_after_visit', sa.Integer(), nullable=False, server_default='14')
        )
        batch_op.create_check_constraint(
            'chat_days_after_visit', 'chat_days_after_visit BETWEEN 0 AND 365'
        )
    op.create_table(
        'conversations',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('patient_id', sa.Integer(), nullable=False),
        sa.Column('doctor_id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('last_message_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ['doctor_id'], ['doctors.id'],
            name=op.f('fk_conversations_doctor_id_doctors'), ondelete='CASCADE',
        ),
        sa.ForeignKeyConstraint(
            ['patient_id'], ['users.id'],
            name=op.f('fk_conversations_patient_id_users'), ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_conversations')),
        sa.UniqueConstraint(
            'patient_id', 'doctor_id', name=op.f('uq_conversations_patient_id_doctor_id')
        ),
    )
    op.create_index('ix_conversations_doctor_id', 'conversations', ['doctor_id'], unique=False)
    op.create_table(
        'messages',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('conversation_id', sa.Integer(), nullable=False),
        sa.Column('sender_id', sa.Integer(), nullable=False),
        sa.Column('recipient_id', sa.Integer(), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('attachment_key', sa.String(length=255), nullable=True),
        sa.Column('attachment_name', sa.String(length=255), nullable=True),
        sa.Column('attachment_type', sa.String(length=64), nullable=True),
        sa.Column('attachment_size', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('read_at', sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint('length(body) <= 4000', name=op.f('ck_messages_body_length')),
        sa.CheckConstraint(
            "body <> '' OR attachment_key IS NOT NULL", name=op.f('ck_messages_not_empty')
        ),
        sa.CheckConstraint(
            '(attachment_key IS NULL) = (attachment_name IS NULL)'
            ' AND (attachment_key IS NULL) = (attachment_type IS NULL)'
            ' AND (attachment_key IS NULL) = (attachment_size IS NULL)',
            name=op.f('ck_messages_attachment_whole'),
        ),
        sa.ForeignKeyConstraint(
            ['conversation_id'], ['conversations.id'],
            name=op.f('fk_messages_conversation_id_conversations'), ondelete='CASCADE',
        ),
        sa.ForeignKeyConstraint(
            ['recipient_id'], ['users.id'],
            name=op.f('fk_messages_recipient_id_users'), ondelete='CASCADE',
        ),
        sa.ForeignKeyConstraint(
            ['sender_id'], ['users.id'],
            name=op.f('fk_messages_sender_id_users'), ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_messages')),
    )
    op.create_index(
        'ix_messages_conversation_id_id', 'messages', ['conversation_id', 'id'], unique=False
    )
    op.create_index(
        'ix_messages_sender_created', 'messages', ['sender_id', 'created_at'], unique=False
    )
    op.create_index(
        'ix_messages_unread', 'messages', ['recipient_id', 'conversation_id'], unique=False,
        postgresql_where=sa.text('read_at IS NULL'),
        sqlite_where=sa.text('read_at IS NULL'),
    )


def downgrade():
    op.drop_index('ix_messages_unread', table_name='messages')
    op.drop_index('ix_messages_sender_created', table_name='messages')
    op.drop_index('ix_messages_conversation_id_id', table_name='messages')
    op.drop_table('messages')
    op.drop_index('ix_conversations_doctor_id', table_name='conversations')
    op.drop_table('conversations')
    with op.batch_alter_table('clinics') as batch_op:
        batch_op.drop_constraint(op.f('ck_clinics_chat_days_after_visit'), type_='check')
        batch_op.drop_column('chat_days_after_visit')
    with op.batch_alter_table('appointments') as batch_op:
        batch_op.drop_column('confirmed_at')
