"""help and policy pages (Markdown, sanitised on render); doctors' applications to join;
notifications to an address without an account (a declined applicant)

Revision ID: 0018
Revises: 0017
Create Date: 2027-01-10 09:00:00

"""
from datetime import UTC, datetime

from alembic import op
import sqlalchemy as sa

from app.services.content_defaults import DEFAULT_PAGES


# revision identifiers, used by Alembic.
revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None

PENDING = sa.text("status = 'pending'")
UNREAD_IN_APP = sa.text("channel = 'in_app' AND read_at IS NULL")


def upgrade():
    pages = op.create_table(
        'content_pages',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('slug', sa.String(length=80), nullable=False),
        sa.Column('title', sa.String(length=200), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column(
            'kind',
            sa.Enum('faq', 'policy', name='page_kind', native_enum=False, create_constraint=True,
                    length=6),
            nullable=False,
        ),
        sa.Column('published', sa.Boolean(), nullable=False),
        sa.Column('position', sa.Integer(), server_default='0', nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_by_id', sa.Integer(), nullable=True),
        sa.CheckConstraint('length(body) <= 100000', name=op.f('ck_content_pages_body_length')),
        sa.ForeignKeyConstraint(
            ['updated_by_id'], ['users.id'],
            name=op.f('fk_content_pages_updated_by_id_users'), ondelete='SET NULL',
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_content_pages')),
        sa.UniqueConstraint('slug', name=op.f('uq_content_pages_slug')),
    )
    op.create_index(
        'ix_content_pages_kind_published', 'content_pages', ['kind', 'published']
    )
    now = datetime.now(UTC)
    op.bulk_insert(
        pages,
        [
            dict(slug=slug, kind=kind, title=title, position=position, body=body,
                 published=True, created_at=now, updated_at=now)
            for slug, kind, title, position, body in DEFAULT_PAGES
        ],
    )

    op.create_table(
        'doctor_applications',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=120), nullable=False),
        sa.Column('email', sa.String(length=254), nullable=False),
        sa.Column('phone', sa.String(length=20), nullable=True),
        sa.Column('licence_number', sa.String(length=64), nullable=False),
        sa.Column('clinic_id', sa.Integer(), nullable=True),
        sa.Column('specialty_ids', sa.JSON(), nullable=False),
        sa.Column('message', sa.Text(), nullable=True),
        sa.Column(
            'status',
            sa.Enum('pending', 'verified', 'declined', name='application_status',
                    native_enum=False, create_constraint=True, length=8),
            nullable=False,
        ),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('decided_by_id', sa.Integer(), nullable=True),
        sa.Column('decline_reason', sa.String(length=500), nullable=True),
        sa.Column('doctor_id', sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "(status = 'declined') = (decline_reason IS NOT NULL)",
            name=op.f('ck_doctor_applications_declined_has_reason'),
        ),
        sa.CheckConstraint(
            'email = lower(email)', name=op.f('ck_doctor_applications_email_lowercase')
        ),
        sa.ForeignKeyConstraint(
            ['clinic_id'], ['clinics.id'],
            name=op.f('fk_doctor_applications_clinic_id_clinics'), ondelete='SET NULL',
        ),
        sa.ForeignKeyConstraint(
            ['decided_by_id'], ['users.id'],
            name=op.f('fk_doctor_applications_decided_by_id_users'), ondelete='SET NULL',
        ),
        sa.ForeignKeyConstraint(
            ['doctor_id'], ['doctors.id'],
            name=op.f('fk_doctor_applications_doctor_id_doctors'), ondelete='SET NULL',
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_doctor_applications')),
    )
    op.create_index(
        'ix_doctor_applications_status_created', 'doctor_applications', ['status', 'created_at']
    )
    op.create_index(
        'uq_doctor_applications_pending_email', 'doctor_applications', ['email'], unique=True,
        postgresql_where=PENDING, sqlite_where=PENDING,
    )

    # An email to someone without an account has no user.
    with op.batch_alter_table('notifications') as batch_op:
        batch_op.alter_column('user_id', existing_type=sa.Integer(), nullable=True)
    _restore_unread_index()


def _restore_unread_index():
    """SQLite's batch mode copies the table; make sure the partial index comes back whole."""
    if op.get_bind().dialect.name != 'sqlite':
        return
    op.execute('DROP INDEX IF EXISTS ix_notifications_unread_in_app')
    op.create_index(
        'ix_notifications_unread_in_app', 'notifications', ['user_id'],
        postgresql_where=UNREAD_IN_APP, sqlite_where=UNREAD_IN_APP,
    )


def downgrade():
    op.execute('DELETE FROM notifications WHERE user_id IS NULL')
    with op.batch_alter_table('notifications') as batch_op:
        batch_op.alter_column('user_id', existing_type=sa.Integer(), nullable=False)
    _restore_unread_index()
    op.drop_index('uq_doctor_applications_pending_email', table_name='doctor_applications')
    op.drop_index('ix_doctor_applications_status_created', table_name='doctor_applications')
    op.drop_table('doctor_applications')
    op.drop_index('ix_content_pages_kind_published', table_name='content_pages')
    op.drop_table('content_pages')
