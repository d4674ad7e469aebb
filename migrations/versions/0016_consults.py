"""on-demand consults (a patient's urgent request in a specialty, taken by one on-call
doctor) and the doctors' on-call flag

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03 14:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('consults',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('specialty_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=True),
    sa.Column('payment_method', sa.Enum('cash', 'card', name='payment_method', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('amount', sa.Integer(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('status', sa.Enum('waiting', 'accepted', 'expired', 'cancelled', name='consult_status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('offered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('stripe_payment_intent_id', sa.String(length=255), nullable=True),
    sa.Column('hold_released_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('accepted_by_id', sa.Integer(), nullable=True),
    sa.Column('accepted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('appointment_id', sa.Integer(), nullable=True),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('end_reason', sa.String(length=255), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("(status = 'accepted') = (accepted_by_id IS NOT NULL)", name=op.f('ck_consults_accepted_by_doctor')),
    sa.CheckConstraint("appointment_id IS NULL OR status = 'accepted'", name=op.f('ck_consults_appointment_when_accepted')),
    sa.CheckConstraint('amount >= 0', name=op.f('ck_consults_amount_not_negative')),
    sa.CheckConstraint('reason IS NULL OR length(reason) <= 500', name=op.f('ck_consults_reason_length')),
    sa.ForeignKeyConstraint(['accepted_by_id'], ['doctors.id'], name=op.f('fk_consults_accepted_by_id_doctors'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['appointment_id'], ['appointments.id'], name=op.f('fk_consults_appointment_id_appointments'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_consults_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['patient_id'], ['users.id'], name=op.f('fk_consults_patient_id_users'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['specialty_id'], ['specialties.id'], name=op.f('fk_consults_specialty_id_specialties'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_consults_updated_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consults')),
    sa.UniqueConstraint('appointment_id', name=op.f('uq_consults_appointment_id')),
    sa.UniqueConstraint('stripe_payment_intent_id', name=op.f('uq_consults_stripe_payment_intent_id'))
    )
    with op.batch_alter_table('consults', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_consults_patient_id'), ['patient_id'], unique=False)
        batch_op.create_index('ix_consults_status_specialty', ['status', 'specialty_id'], unique=False)
        batch_op.create_index('uq_consults_open_patient', ['patient_id'], unique=True, postgresql_where=sa.text("status = 'waiting'"), sqlite_where=sa.text("status = 'waiting'"))

    with op.batch_alter_table('doctors', schema=None) as batch_op:
        batch_op.add_column(sa.Column('on_call', sa.Boolean(), server_default=sa.false(), nullable=False))



def downgrade():
    with op.batch_alter_table('doctors', schema=None) as batch_op:
        batch_op.drop_column('on_call')

    with op.batch_alter_table('consults', schema=None) as batch_op:
        batch_op.drop_index('uq_consults_open_patient', postgresql_where=sa.text("status = 'waiting'"), sqlite_where=sa.text("status = 'waiting'"))
        batch_op.drop_index('ix_consults_status_specialty')
        batch_op.drop_index(batch_op.f('ix_consults_patient_id'))

    op.drop_table('consults')
