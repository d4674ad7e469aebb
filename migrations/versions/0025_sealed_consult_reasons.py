"""privacy: a consult's reason (free text about the patient's health) sealed at rest

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-03 17:50:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0025'
down_revision = '0024'
branch_labels = None
depends_on = None


def _rewrite(transform) -> None:
    """Apply `transform` to every stored reason, in pages by id (sealing needs the app's key:
    Flask-Migrate runs migrations inside the app)."""
    bind = op.get_bind()
    last = 0
    while True:
        rows = bind.execute(
            sa.text(
                "SELECT id, reason FROM consults WHERE reason IS NOT NULL AND id > :last"
                " ORDER BY id LIMIT 500"
            ),
            {"last": last},
        ).all()
        if not rows:
            return
        for row_id, value in rows:
            new = transform(value)
            if new != value:
                bind.execute(
                    sa.text("UPDATE consults SET reason = :value WHERE id = :id"),
                    {"value": new, "id": row_id},
                )
        last = rows[-1][0]


def upgrade():
    from app.services import sealing

    # Ciphertext is longer than the 500 characters a reason may have: the length is the
    # service's check from now on.
    with op.batch_alter_table('consults', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_consults_reason_length'), type_='check')
        batch_op.alter_column(
            'reason', existing_type=sa.String(length=500), type_=sa.Text(), existing_nullable=True
        )
    _rewrite(lambda value: value if value.startswith(sealing.PREFIX) else sealing.seal(value))


def downgrade():
    from app.services import sealing

    _rewrite(sealing.unseal)
    with op.batch_alter_table('consults', schema=None) as batch_op:
        batch_op.alter_column(
            'reason', existing_type=sa.Text(), type_=sa.String(length=500), existing_nullable=True
        )
        batch_op.create_check_constraint(
            op.f('ck_consults_reason_length'), 'reason IS NULL OR length(reason) <= 500'
        )
