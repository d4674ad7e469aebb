"""search speed: each doctor's free slots per clinic-local day (kept by triggers on
PostgreSQL), and a trigram index for search by a doctor's name (pg_trgm)

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-04 09:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None

# The appointment states that occupy a slot (models/appointments.py, ACTIVE_STATUSES).
ACTIVE = "('pending_payment', 'pending_approval', 'confirmed', 'completed')"

# The clinic-local day of an instant, and the instant a local day starts.
LOCAL_DAY = "(({start}) AT TIME ZONE {tz})::date"
DAY_START = "(({day})::timestamp AT TIME ZONE {tz})"

# Counting a doctor-day's slots from the rows: open ones that no active appointment occupies
# (free; and the latest start among them), open ones that a payment hold occupies (held).
FREE = "s.id IS NOT NULL AND a.status IS NULL"
HELD = "a.status = 'pending_payment'"

# Recount the (doctor, day) pairs given, each once. Each pair's row is made if missing and
# locked (in key order: two statements never wait for each other's rows in opposite orders),
# then counted from the rows by a statement of its own. In READ COMMITTED each statement of a
# PL/pgSQL function sees what was committed when it began, so the count, made once the lock
# is held, sees the change of every transaction that held the lock before; a change not yet
# committed recounts the pair itself when its own statement's trigger holds the lock. (Adding
# +1 and -1 would be cheaper, but the latest free start, which a day already begun needs,
# cannot be kept that way.)
REFRESH_FUNCTION = f"""
CREATE FUNCTION carebook_free_days_refresh(doctor_ids integer[], days date[]) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO doctor_free_days (doctor_id, day)
    SELECT DISTINCT k.doctor_id, k.day FROM unnest(doctor_ids, days) AS k (doctor_id, day)
    ORDER BY 1, 2
    ON CONFLICT DO NOTHING;
    PERFORM 1 FROM doctor_free_days AS f
    WHERE (f.doctor_id, f.day) IN (SELECT * FROM unnest(doctor_ids, days))
    ORDER BY f.doctor_id, f.day
    FOR UPDATE;
    UPDATE doctor_free_days AS f
    SET free_slots = n.free_slots, held_slots = n.held_slots, last_free_at = n.last_free_at
    FROM (
        SELECT k.doctor_id, k.day,
               count(*) FILTER (WHERE {FREE}) AS free_slots,
               count(*) FILTER (WHERE {HELD}) AS held_slots,
               max(s.start_at) FILTER (WHERE {FREE}) AS last_free_at
        FROM (SELECT DISTINCT * FROM unnest(doctor_ids, days)) AS k (doctor_id, day)
        JOIN doctors AS d ON d.id = k.doctor_id
        JOIN clinics AS c ON c.id = d.clinic_id
        LEFT JOIN slots AS s
            ON s.doctor_id = k.doctor_id AND s.status = 'open'
            AND s.start_at >= {DAY_START.format(day='k.day', tz='c.timezone')}
            AND s.start_at < {DAY_START.format(day='k.day + 1', tz='c.timezone')}
        LEFT JOIN appointments AS a ON a.slot_id = s.id AND a.status IN {ACTIVE}
        GROUP BY k.doctor_id, k.day
    ) AS n
    WHERE f.doctor_id = n.doctor_id AND f.day = n.day;
END
$$;
"""


def _refresh(slots: str) -> str:
    """PL/pgSQL: refresh the days of `slots` (a query giving doctor_id, start_at)."""
    day = LOCAL_DAY.format(start='x.start_at', tz='c.timezone')
    return f"""
        PERFORM carebook_free_days_refresh(array_agg(x.doctor_id), array_agg({day}))
        FROM ({slots}) AS x
        JOIN doctors AS d ON d.id = x.doctor_id
        JOIN clinics AS c ON c.id = d.clinic_id
        HAVING count(*) > 0;"""


# A slot published, changed (its start, its doctor, open or blocked) or deleted: its day, and
# its old day too when it moved.
_SLOT_CHANGED = """
    SELECT v.doctor_id, v.start_at
    FROM old_rows AS o JOIN new_rows AS n ON n.id = o.id
    CROSS JOIN LATERAL (VALUES (o.doctor_id, o.start_at), (n.doctor_id, n.start_at))
        AS v (doctor_id, start_at)
    WHERE (o.doctor_id, o.start_at, o.status) IS DISTINCT FROM
          (n.doctor_id, n.start_at, n.status)
"""
SLOTS_FUNCTION = f"""
CREATE FUNCTION carebook_free_days_slots() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        {_refresh("SELECT doctor_id, start_at FROM new_rows")}
    ELSIF TG_OP = 'DELETE' THEN
        {_refresh("SELECT doctor_id, start_at FROM old_rows")}
    ELSE
        {_refresh(_SLOT_CHANGED)}
    END IF;
    RETURN NULL;
END
$$;
"""

# An appointment made, deleted, or changing state (or slot): the day of the slot it occupies
# or occupied.
_MADE = f"""
    SELECT s.doctor_id, s.start_at FROM new_rows AS n JOIN slots AS s ON s.id = n.slot_id
    WHERE n.status IN {ACTIVE}
"""
_DELETED = f"""
    SELECT s.doctor_id, s.start_at FROM old_rows AS o JOIN slots AS s ON s.id = o.slot_id
    WHERE o.status IN {ACTIVE}
"""
_APPOINTMENT_CHANGED = f"""
    SELECT s.doctor_id, s.start_at
    FROM old_rows AS o JOIN new_rows AS n ON n.id = o.id
    CROSS JOIN LATERAL (VALUES (o.slot_id, o.status), (n.slot_id, n.status))
        AS v (slot_id, status)
    JOIN slots AS s ON s.id = v.slot_id
    WHERE (o.status IS DISTINCT FROM n.status OR o.slot_id <> n.slot_id)
      AND v.status IN {ACTIVE}
"""
APPOINTMENTS_FUNCTION = f"""
CREATE FUNCTION carebook_free_days_appointments() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        {_refresh(_MADE)}
    ELSIF TG_OP = 'DELETE' THEN
        {_refresh(_DELETED)}
    ELSE
        {_refresh(_APPOINTMENT_CHANGED)}
    END IF;
    RETURN NULL;
END
$$;
"""

# From the rows themselves: some doctors' days (every doctor's with NULL). For a doctor moving
# to another clinic, a clinic changing its zone, and this migration's backfill.
REBUILD_FUNCTION = f"""
CREATE FUNCTION carebook_free_days_rebuild(doctor_ids integer[]) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM doctor_free_days WHERE doctor_ids IS NULL OR doctor_id = ANY (doctor_ids);
    INSERT INTO doctor_free_days (doctor_id, day, free_slots, held_slots, last_free_at)
    SELECT s.doctor_id, {LOCAL_DAY.format(start='s.start_at', tz='c.timezone')} AS local_day,
           count(*) FILTER (WHERE {FREE}), count(*) FILTER (WHERE {HELD}),
           max(s.start_at) FILTER (WHERE {FREE})
    FROM slots AS s
    JOIN doctors AS d ON d.id = s.doctor_id
    JOIN clinics AS c ON c.id = d.clinic_id
    LEFT JOIN appointments AS a ON a.slot_id = s.id AND a.status IN {ACTIVE}
    WHERE s.status = 'open' AND (doctor_ids IS NULL OR s.doctor_id = ANY (doctor_ids))
    GROUP BY s.doctor_id, local_day
    ORDER BY s.doctor_id, local_day;
END
$$;

CREATE FUNCTION carebook_free_days_doctor() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM carebook_free_days_rebuild(ARRAY[NEW.id]);
    RETURN NULL;
END
$$;

CREATE FUNCTION carebook_free_days_clinic() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM carebook_free_days_rebuild(ARRAY(SELECT id FROM doctors WHERE clinic_id = NEW.id));
    RETURN NULL;
END
$$;
"""

TRIGGERS = [
    # (name, table, event, transition tables, function)
    ('slots_free_days_insert', 'slots', 'INSERT', 'NEW TABLE AS new_rows',
     'carebook_free_days_slots'),
    ('slots_free_days_update', 'slots', 'UPDATE', 'OLD TABLE AS old_rows NEW TABLE AS new_rows',
     'carebook_free_days_slots'),
    ('slots_free_days_delete', 'slots', 'DELETE', 'OLD TABLE AS old_rows',
     'carebook_free_days_slots'),
    ('appointments_free_days_insert', 'appointments', 'INSERT', 'NEW TABLE AS new_rows',
     'carebook_free_days_appointments'),
    ('appointments_free_days_update', 'appointments', 'UPDATE',
     'OLD TABLE AS old_rows NEW TABLE AS new_rows', 'carebook_free_days_appointments'),
    ('appointments_free_days_delete', 'appointments', 'DELETE', 'OLD TABLE AS old_rows',
     'carebook_free_days_appointments'),
]
FUNCTIONS = [
    'carebook_free_days_slots()', 'carebook_free_days_appointments()',
    'carebook_free_days_doctor()', 'carebook_free_days_clinic()',
    'carebook_free_days_rebuild(integer[])', 'carebook_free_days_refresh(integer[], date[])',
]


def upgrade():
    op.create_table(
        'doctor_free_days',
        sa.Column('doctor_id', sa.Integer(), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('free_slots', sa.Integer(), server_default='0', nullable=False),
        sa.Column('held_slots', sa.Integer(), server_default='0', nullable=False),
        sa.Column('last_free_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ['doctor_id'], ['doctors.id'],
            name=op.f('fk_doctor_free_days_doctor_id_doctors'), ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('doctor_id', 'day', name=op.f('pk_doctor_free_days')),
    )
    op.create_index(
        'ix_doctor_free_days_day', 'doctor_free_days', ['day', 'doctor_id'],
        postgresql_include=['last_free_at', 'held_slots'],
    )
    if op.get_bind().dialect.name != 'postgresql':
        return  # no time zones in SQLite's SQL: search probes the slots there
    op.execute(REFRESH_FUNCTION)
    op.execute(SLOTS_FUNCTION)
    op.execute(APPOINTMENTS_FUNCTION)
    op.execute(REBUILD_FUNCTION)
    for name, table, event, tables, function in TRIGGERS:
        op.execute(
            f'CREATE TRIGGER {name} AFTER {event} ON {table} REFERENCING {tables}'
            f' FOR EACH STATEMENT EXECUTE FUNCTION {function}()'
        )
    op.execute(
        'CREATE TRIGGER doctors_free_days_clinic AFTER UPDATE OF clinic_id ON doctors'
        ' FOR EACH ROW WHEN (OLD.clinic_id IS DISTINCT FROM NEW.clinic_id)'
        ' EXECUTE FUNCTION carebook_free_days_doctor()'
    )
    op.execute(
        'CREATE TRIGGER clinics_free_days_timezone AFTER UPDATE OF timezone ON clinics'
        ' FOR EACH ROW WHEN (OLD.timezone IS DISTINCT FROM NEW.timezone)'
        ' EXECUTE FUNCTION carebook_free_days_clinic()'
    )
    op.execute('SELECT carebook_free_days_rebuild(NULL)')

    # Name search: lower(name) LIKE '%...%' over doctors, through trigrams.
    op.execute('CREATE EXTENSION IF NOT EXISTS pg_trgm')
    op.execute(
        "CREATE INDEX ix_users_doctor_name_trgm ON users USING gin (lower(name) gin_trgm_ops)"
        " WHERE role = 'doctor'"
    )
    # Statistics for the new table and the index's expression: plans fit from the start.
    op.execute('ANALYZE doctor_free_days')
    op.execute('ANALYZE users')


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('DROP INDEX IF EXISTS ix_users_doctor_name_trgm')
        # The pg_trgm extension stays: other objects may have come to use it.
        op.execute('DROP TRIGGER IF EXISTS clinics_free_days_timezone ON clinics')
        op.execute('DROP TRIGGER IF EXISTS doctors_free_days_clinic ON doctors')
        for name, table, *_ in TRIGGERS:
            op.execute(f'DROP TRIGGER IF EXISTS {name} ON {table}')
        for function in FUNCTIONS:
            op.execute(f'DROP FUNCTION IF EXISTS {function}')
    op.drop_index('ix_doctor_free_days_day', table_name='doctor_free_days')
    op.drop_table('doctor_free_days')
