"""reviews of completed visits (rating, comment, the doctor's reply, moderation) and each
doctor's rating totals

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-20 09:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

VISIBLE = sa.text('hidden_at IS NULL')


def upgrade():
    op.create_table(
        'reviews',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('appointment_id', sa.Integer(), nullable=False),
        sa.Column('patient_id', sa.Integer(), nullable=False),
        sa.Column('doctor_id', sa.Integer(), nullable=False),
        sa.Column('rating', sa.SmallInteger(), nullable=False),
        sa.Column('comment', sa.Text(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('edited_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('reply', sa.Text(), nullable=True),
        sa.Column('replied_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('reply_edited_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('hidden_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('hidden_reason', sa.String(length=500), nullable=True),
        sa.Column('hidden_by_id', sa.Integer(), nullable=True),
        sa.CheckConstraint(
            '(hidden_at IS NULL) = (hidden_reason IS NULL)',
            name=op.f('ck_reviews_hidden_has_reason'),
        ),
        sa.CheckConstraint(
            'comment IS NULL OR length(comment) <= 2000', name=op.f('ck_reviews_comment')
        ),
        sa.CheckConstraint('rating BETWEEN 1 AND 5', name=op.f('ck_reviews_rating_1_to_5')),
        sa.CheckConstraint(
            'reply IS NULL OR length(reply) <= 2000', name=op.f('ck_reviews_reply')
        ),
        sa.ForeignKeyConstraint(
            ['appointment_id'], ['appointments.id'],
            name=op.f('fk_reviews_appointment_id_appointments'), ondelete='CASCADE',
        ),
        sa.ForeignKeyConstraint(
            ['doctor_id'], ['doctors.id'],
            name=op.f('fk_reviews_doctor_id_doctors'), ondelete='CASCADE',
        ),
        sa.ForeignKeyConstraint(
            ['hidden_by_id'], ['users.id'],
            name=op.f('fk_reviews_hidden_by_id_users'), ondelete='SET NULL',
        ),
        sa.ForeignKeyConstraint(
            ['patient_id'], ['users.id'],
            name=op.f('fk_reviews_patient_id_users'), ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_reviews')),
        sa.UniqueConstraint('appointment_id', name=op.f('uq_reviews_appointment_id')),
    )
    op.create_index('ix_reviews_doctor_created', 'reviews', ['doctor_id', 'created_at'])
    op.create_index(
        'ix_reviews_doctor_visible_created', 'reviews', ['doctor_id', 'created_at', 'id'],
        postgresql_where=VISIBLE, sqlite_where=VISIBLE,
    )
    op.create_index(op.f('ix_reviews_patient_id'), 'reviews', ['patient_id'])
    with op.batch_alter_table('doctors') as batch_op:
        batch_op.add_column(
            sa.Column('rating_count', sa.Integer(), server_default='0', nullable=False)
        )
        batch_op.add_column(
            sa.Column('rating_sum', sa.Integer(), server_default='0', nullable=False)
        )
        batch_op.create_check_constraint(
            'rating_totals',
            'rating_count >= 0 AND rating_sum BETWEEN rating_count AND 5 * rating_count',
        )


def downgrade():
    with op.batch_alter_table('doctors') as batch_op:
        batch_op.drop_constraint(op.f('ck_doctors_rating_totals'), type_='check')
        batch_op.drop_column('rating_sum')
        batch_op.drop_column('rating_count')
    op.drop_index(op.f('ix_reviews_patient_id'), table_name='reviews')
    op.drop_index('ix_reviews_doctor_visible_created', table_name='reviews')
    op.drop_index('ix_reviews_doctor_created', table_name='reviews')
    op.drop_table('reviews')
