"""report rollups: per clinic and local day counts and sums the reports read for rolled days;
triggers that mark a clinic's day dirty when a row of a past time changes

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-03 17:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None

STATUS = [
    'pending_approval', 'confirmed', 'completed', 'no_show', 'cancelled', 'rejected',
    'rescheduled', 'expired',
]
BANDS = ['same_day', '1_2_days', '3_7_days', '8_30_days', 'over_30_days']
ALL_DAYS = "'0001-01-01'"

# The triggers: each marks (the clinic of the row's doctor, the UTC day of its time) in
# report_dirty when that time is already past, the only times a rollup can hold. A booking,
# a cancellation or a hold of a future visit writes nothing. R stands for NEW or OLD.
# On SQLite, a later migration that rebuilds one of these tables (batch_alter_table) drops
# its triggers with it and must create them again (_sqlite_upgrade shows them).
# (table, the doctor of R, the time of R)
TIMED = [
    ('appointments', 'R.doctor_id', 'R.starts_at'),
    ('slots', 'R.doctor_id', 'R.start_at'),
    ('reviews', 'R.doctor_id', 'R.created_at'),
    ('payments', '(SELECT a.doctor_id FROM appointments AS a WHERE a.id = R.appointment_id)',
     'R.captured_at'),
    ('refunds', '(SELECT a.doctor_id FROM payments AS p JOIN appointments AS a'
                ' ON a.id = p.appointment_id WHERE p.id = R.payment_id)', 'R.created_at'),
]


def _clinic(doctor):
    return f"coalesce((SELECT d.clinic_id FROM doctors AS d WHERE d.id = {doctor}), 0)"


def _statements(dialect, table, doctor, at):
    """What the trigger runs for row R: mark R's day, and the extra days R's change moves."""
    pg = dialect == 'postgresql'
    now = 'now()' if pg else "strftime('%Y-%m-%d %H:%M:%f', 'now')"
    utc_day = (lambda t: f"({t} AT TIME ZONE 'UTC')::date") if pg else (lambda t: f"date({t})")
    insert = 'INSERT INTO report_dirty (clinic_id, day)' if pg else \
        'INSERT OR IGNORE INTO report_dirty (clinic_id, day)'
    tail = ' ON CONFLICT DO NOTHING;' if pg else ';'
    out = [f"{insert} SELECT {_clinic(doctor)}, {utc_day(at)} WHERE {at} < {now}{tail}"]
    if table == 'appointments':
        # New or returning: a completed visit changing may make the pair's first completed
        # visit another one (on another day).
        out.append(
            f"{insert} SELECT {_clinic(doctor)}, {utc_day('first.at')} FROM ("
            "SELECT min(o.starts_at) AS at FROM appointments AS o WHERE R.status = 'completed'"
            " AND o.patient_id = R.patient_id AND o.doctor_id = R.doctor_id"
            " AND o.status = 'completed' AND o.id <> R.id"
            f") AS first WHERE first.at < {now}{tail}"
        )
    if table == 'payments':
        # A payment that follows its visit to a new slot takes its refunds to the new doctor.
        out.append(
            f"{insert} SELECT {_clinic(doctor)}, {utc_day('f.created_at')}"
            f" FROM refunds AS f WHERE f.payment_id = R.id AND f.created_at < {now}{tail}"
        )
    return out


def _whole_clinic(dialect, clinic):
    if dialect == 'postgresql':
        return (f"INSERT INTO report_dirty (clinic_id, day) VALUES (coalesce({clinic}, 0),"
                f" {ALL_DAYS}) ON CONFLICT DO NOTHING;")
    return (f"INSERT OR IGNORE INTO report_dirty (clinic_id, day) VALUES"
            f" (coalesce({clinic}, 0), {ALL_DAYS});")


def _has_history(dialect, doctor):
    now = 'now()' if dialect == 'postgresql' else "strftime('%Y-%m-%d %H:%M:%f', 'now')"
    return (f"(EXISTS (SELECT 1 FROM appointments AS h WHERE h.doctor_id = {doctor})"
            f" OR EXISTS (SELECT 1 FROM slots AS h WHERE h.doctor_id = {doctor}"
            f" AND h.start_at < {now}))")


def _pg_upgrade():
    for table, doctor, at in TIMED:
        new = [s.replace('R.', 'NEW.') for s in _statements('postgresql', table, doctor, at)]
        old = [s.replace('R.', 'OLD.') for s in _statements('postgresql', table, doctor, at)]
        op.execute(f"""
            CREATE FUNCTION report_mark_{table}() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF TG_OP <> 'INSERT' THEN {' '.join(old)} END IF;
                IF TG_OP <> 'DELETE' THEN {' '.join(new)} END IF;
                RETURN NULL;
            END $$""")
        col = at.removeprefix('R.')
        for event, when in (
            ('INSERT', f'NEW.{col} < now()'),
            ('UPDATE', f'OLD.{col} < now() OR NEW.{col} < now()'),
            ('DELETE', f'OLD.{col} < now()'),
        ):
            op.execute(
                f"CREATE TRIGGER report_mark_{table}_{event.lower()} AFTER {event} ON {table}"
                f" FOR EACH ROW WHEN ({when}) EXECUTE FUNCTION report_mark_{table}()"
            )
    has_old, has_new = _has_history('postgresql', 'OLD.id'), _has_history('postgresql', 'NEW.id')
    op.execute(f"""
        CREATE FUNCTION report_mark_doctors() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'DELETE' THEN
                {_whole_clinic('postgresql', 'OLD.clinic_id')}
            ELSIF OLD.clinic_id IS DISTINCT FROM NEW.clinic_id AND {has_new} THEN
                {_whole_clinic('postgresql', 'OLD.clinic_id')}
                {_whole_clinic('postgresql', 'NEW.clinic_id')}
            END IF;
            RETURN NULL;
        END $$""")
    op.execute("CREATE TRIGGER report_mark_doctors AFTER UPDATE OF clinic_id OR DELETE ON doctors"
               " FOR EACH ROW EXECUTE FUNCTION report_mark_doctors()")
    op.execute(f"""
        CREATE FUNCTION report_mark_clinics() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'DELETE' THEN
                {_whole_clinic('postgresql', 'OLD.id')} {_whole_clinic('postgresql', '0')}
            ELSIF OLD.timezone IS DISTINCT FROM NEW.timezone THEN
                {_whole_clinic('postgresql', 'NEW.id')}
            END IF;
            RETURN NULL;
        END $$""")
    op.execute("CREATE TRIGGER report_mark_clinics AFTER UPDATE OF timezone OR DELETE ON clinics"
               " FOR EACH ROW EXECUTE FUNCTION report_mark_clinics()")
    clinic_of = "(SELECT d.clinic_id FROM doctors AS d WHERE d.id = {}.doctor_id)"
    op.execute(f"""
        CREATE FUNCTION report_mark_doctor_specialties() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'DELETE' THEN
                IF {has_old.replace('OLD.id', 'OLD.doctor_id')} THEN
                    {_whole_clinic('postgresql', clinic_of.format('OLD'))}
                END IF;
            ELSIF {has_new.replace('NEW.id', 'NEW.doctor_id')} THEN
                {_whole_clinic('postgresql', clinic_of.format('NEW'))}
            END IF;
            RETURN NULL;
        END $$""")
    op.execute("CREATE TRIGGER report_mark_doctor_specialties AFTER INSERT OR DELETE"
               " ON doctor_specialties FOR EACH ROW"
               " EXECUTE FUNCTION report_mark_doctor_specialties()")


def _sqlite_upgrade():
    now = "strftime('%Y-%m-%d %H:%M:%f', 'now')"
    for table, doctor, at in TIMED:
        col = at.removeprefix('R.')
        for event, when, rows in (
            ('INSERT', f'NEW.{col} < {now}', ['NEW']),
            ('UPDATE', f'OLD.{col} < {now} OR NEW.{col} < {now}', ['OLD', 'NEW']),
            ('DELETE', f'OLD.{col} < {now}', ['OLD']),
        ):
            body = ' '.join(
                s.replace('R.', f'{row}.')
                for row in rows
                for s in _statements('sqlite', table, doctor, at)
            )
            op.execute(f"CREATE TRIGGER report_mark_{table}_{event.lower()} AFTER {event}"
                       f" ON {table} WHEN {when} BEGIN {body} END")
    has_new = _has_history('sqlite', 'NEW.id')
    op.execute("CREATE TRIGGER report_mark_doctors_update AFTER UPDATE OF clinic_id ON doctors"
               f" WHEN OLD.clinic_id IS NOT NEW.clinic_id AND {has_new} BEGIN"
               f" {_whole_clinic('sqlite', 'OLD.clinic_id')}"
               f" {_whole_clinic('sqlite', 'NEW.clinic_id')} END")
    op.execute("CREATE TRIGGER report_mark_doctors_delete AFTER DELETE ON doctors BEGIN"
               f" {_whole_clinic('sqlite', 'OLD.clinic_id')} END")
    op.execute("CREATE TRIGGER report_mark_clinics_update AFTER UPDATE OF timezone ON clinics"
               " WHEN OLD.timezone IS NOT NEW.timezone BEGIN"
               f" {_whole_clinic('sqlite', 'NEW.id')} END")
    op.execute("CREATE TRIGGER report_mark_clinics_delete AFTER DELETE ON clinics BEGIN"
               f" {_whole_clinic('sqlite', 'OLD.id')} {_whole_clinic('sqlite', '0')} END")
    clinic_of = "(SELECT d.clinic_id FROM doctors AS d WHERE d.id = {}.doctor_id)"
    for event, row in (('INSERT', 'NEW'), ('DELETE', 'OLD')):
        op.execute(
            f"CREATE TRIGGER report_mark_doctor_specialties_{event.lower()} AFTER {event}"
            f" ON doctor_specialties WHEN {_has_history('sqlite', f'{row}.doctor_id')} BEGIN"
            f" {_whole_clinic('sqlite', clinic_of.format(row))} END"
        )


def _counts(names):
    return [sa.Column(n, sa.Integer(), nullable=False) for n in names]


def _seconds(names):
    return [sa.Column(n, sa.Float(), nullable=False) for n in names]


def upgrade():
    op.create_table(
        'report_days',
        sa.Column('specialty_id', sa.Integer(), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('clinic_id', sa.Integer(), nullable=False),
        sa.Column('hour', sa.SmallInteger(), nullable=False),
        *_counts(STATUS),
        *_seconds(['occupied_seconds', 'offered_seconds']),
        *_counts([f'lead_{b}_n' for b in BANDS]),
        *_seconds([f'lead_{b}_s' for b in BANDS]),
        *_counts(['new_patients', 'reviews', 'rating_sum']),
        sa.PrimaryKeyConstraint('specialty_id', 'day', 'clinic_id', 'hour',
                                name=op.f('pk_report_days')),
    )
    op.create_table(
        'report_money_days',
        sa.Column('specialty_id', sa.Integer(), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('clinic_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=10), nullable=False),
        sa.Column('method', sa.String(length=10), nullable=False),
        sa.Column('currency', sa.String(length=3), nullable=False),
        sa.Column('n', sa.Integer(), nullable=False),
        sa.Column('amount', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('specialty_id', 'day', 'clinic_id', 'kind', 'method', 'currency',
                                name=op.f('pk_report_money_days')),
    )
    op.create_table(
        'report_doctor_days',
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('doctor_id', sa.Integer(), nullable=False),
        sa.Column('clinic_id', sa.Integer(), nullable=False),
        *_counts(STATUS),
        sa.PrimaryKeyConstraint('day', 'doctor_id', name=op.f('pk_report_doctor_days')),
    )
    # The table of doctors sums a range of days by doctor: from the index alone.
    op.create_index(
        'ix_report_doctor_days_day', 'report_doctor_days', ['day'],
        postgresql_include=['doctor_id', 'clinic_id', *STATUS],
    )
    op.create_table(
        'report_doctor_weeks',
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('doctor_id', sa.Integer(), nullable=False),
        sa.Column('clinic_id', sa.Integer(), nullable=False),
        *_counts(STATUS),
        sa.PrimaryKeyConstraint('day', 'doctor_id', 'clinic_id',
                                name=op.f('pk_report_doctor_weeks')),
    )
    op.create_index(
        'ix_report_doctor_weeks_day', 'report_doctor_weeks', ['day'],
        postgresql_include=['doctor_id', 'clinic_id', *STATUS],
    )
    # The lead-time median's histogram, per day and per complete ISO week (day: its Monday).
    for name in ('report_lead_days', 'report_lead_weeks'):
        op.create_table(
            name,
            sa.Column('specialty_id', sa.Integer(), nullable=False),
            sa.Column('day', sa.Date(), nullable=False),
            sa.Column('clinic_id', sa.Integer(), nullable=False),
            sa.Column('bucket', sa.SmallInteger(), nullable=False),
            *_counts(['n']),
            sa.PrimaryKeyConstraint('specialty_id', 'day', 'clinic_id', 'bucket',
                                    name=op.f(f'pk_{name}')),
        )
    op.create_table(
        'report_rollup_clinics',
        sa.Column('clinic_id', sa.Integer(), nullable=False),
        sa.Column('timezone', sa.String(length=64), nullable=False),
        sa.Column('rolled_through', sa.Date(), nullable=False),
        sa.Column('refreshed_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('clinic_id', name=op.f('pk_report_rollup_clinics')),
    )
    op.create_table(
        'report_dirty',
        sa.Column('clinic_id', sa.Integer(), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint('clinic_id', 'day', name=op.f('pk_report_dirty')),
    )
    if op.get_bind().dialect.name == 'postgresql':
        _pg_upgrade()
    else:
        _sqlite_upgrade()


def _trigger_names():
    names = [f'report_mark_{t}_{e}' for t, _, _ in TIMED for e in ('insert', 'update', 'delete')]
    return names


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        for table, _, _ in TIMED:
            op.execute(f"DROP FUNCTION IF EXISTS report_mark_{table}() CASCADE")
        for table in ('doctors', 'clinics', 'doctor_specialties'):
            op.execute(f"DROP FUNCTION IF EXISTS report_mark_{table}() CASCADE")
    else:
        for name in _trigger_names() + [
            'report_mark_doctors_update', 'report_mark_doctors_delete',
            'report_mark_clinics_update', 'report_mark_clinics_delete',
            'report_mark_doctor_specialties_insert', 'report_mark_doctor_specialties_delete',
        ]:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    for table in ('report_dirty', 'report_rollup_clinics', 'report_lead_weeks',
                  'report_lead_days', 'report_doctor_weeks', 'report_doctor_days',
                  'report_money_days', 'report_days'):
        op.drop_table(table)
