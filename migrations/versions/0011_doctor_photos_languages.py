"""doctors' photos (a content hash naming the stored files) and the languages they speak

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-17 09:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('doctors') as batch_op:
        batch_op.add_column(sa.Column('photo_hash', sa.String(length=32), nullable=True))
    op.create_table(
        'doctor_languages',
        sa.Column('doctor_id', sa.Integer(), nullable=False),
        sa.Column('code', sa.String(length=2), nullable=False),
        sa.CheckConstraint(
            'length(code) = 2 AND code = lower(code)',
            name=op.f('ck_doctor_languages_code_iso_639_1'),
        ),
        sa.ForeignKeyConstraint(
            ['doctor_id'], ['doctors.id'],
            name=op.f('fk_doctor_languages_doctor_id_doctors'), ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('doctor_id', 'code', name=op.f('pk_doctor_languages')),
    )
    op.create_index(
        op.f('ix_doctor_languages_code'), 'doctor_languages', ['code'], unique=False
    )


def downgrade():
    op.drop_index(op.f('ix_doctor_languages_code'), table_name='doctor_languages')
    op.drop_table('doctor_languages')
    with op.batch_alter_table('doctors') as batch_op:
        batch_op.drop_column('photo_hash')
