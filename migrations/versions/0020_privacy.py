"""privacy: patients' booking notes sealed at rest (like authenticator secrets and visit notes)

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-03 15:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None

# (table, column) holding free-text health information, sealed by the app.
SEALED = (('appointments', 'notes'), ('visit_notes', 'body_sealed'))


def _rewrite(table: str, column: str, transform) -> None:
    """Apply `transform` to every stored value (sealing needs the app's key: Flask-Migrate
    runs migrations inside the app). Rows are read in pages by id to bound memory."""
    bind = op.get_bind()
    last = 0
    while True:
        rows = bind.execute(
            sa.text(
                f"SELECT id, {column} FROM {table} WHERE {column} IS NOT NULL AND id > :last"
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
                    sa.text(f"UPDATE {table} SET {column} = :value WHERE id = :id"),
                    {"value": new, "id": row_id},
                )
        last = rows[-1][0]


def upgrade():
    from app.services import sealing

    def seal(value):
        return value if value.startswith(sealing.PREFIX) else sealing.seal(value)

    for table, column in SEALED:
        _rewrite(table, column, seal)


def downgrade():
    from app.services import sealing

    # Visit notes were sealed from their first revision (0010): they stay sealed.
    _rewrite('appointments', 'notes', sealing.unseal)
