"""What the bench scripts share: the bench database, an app on it, timing summaries, plans."""

from __future__ import annotations

import os
import statistics
import sys
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/carebook_bench"
BENCH_URL = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
BENCH_SECRET_KEY = os.environ.get("BENCH_SECRET_KEY", "bench-secret-key-not-for-production")
WATCHED = ("slots", "appointments")
if str(ROOT) not in sys.path:  # the scripts run as `python bench/x.py`: make `app` importable
    sys.path.insert(0, str(ROOT))


def psycopg_url(url: str = BENCH_URL) -> str:
    """psycopg wants a plain libpq URL (no SQLAlchemy driver suffix)."""
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def server_env() -> dict[str, str]:
    """Environment for `flask` and gunicorn on the bench database (no Redis: jobs inline)."""
    env = {
        **os.environ,
        "DATABASE_URL": psycopg_url(),
        "FLASK_APP": "wsgi",
        "SECRET_KEY": BENCH_SECRET_KEY,
        "LOG_LEVEL": "WARNING",
    }
    env.pop("REDIS_URL", None)
    return env


# A served bench measures the paths, not the guards: no rate limits, no booking caps (one
# patient per client books hundreds of slots), and no periodic jobs in the server.
UNGUARDED = {
    "RATELIMIT_ENABLED": "false",
    "MAX_ACTIVE_BOOKINGS": "1000000",
    "MAX_ACTIVE_BOOKINGS_PER_DOCTOR": "1000000",
    "EMBEDDED_SCHEDULE": "false",
}


def bench_app(**config):
    """The Carebook app on the bench database, as the server builds it (`config` on top)."""
    os.environ.update({"SECRET_KEY": BENCH_SECRET_KEY, "LOG_LEVEL": "WARNING"})
    os.environ.pop("REDIS_URL", None)
    from app import create_app
    from app.config import normalize_database_url

    return create_app({"SQLALCHEMY_DATABASE_URI": normalize_database_url(psycopg_url()), **config})


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile of already sorted values."""
    if not sorted_values:
        return float("nan")
    rank = max(1, round(q / 100 * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def summary_ms(seconds: list[float]) -> dict[str, float]:
    values = sorted(s * 1000 for s in seconds)
    return {
        "mean": statistics.fmean(values) if values else float("nan"),
        "p50": percentile(values, 50),
        "p95": percentile(values, 95),
        "p99": percentile(values, 99),
        "max": values[-1] if values else float("nan"),
    }


@contextmanager
def captured_statements(engine, *, many: bool = False):
    """Every statement sent through `engine` in the block, with its driver parameters; with
    `many`, the executemany ones too (a multi-row INSERT: not one to EXPLAIN)."""
    from sqlalchemy import event

    statements: list[tuple[str, object]] = []

    def record(_conn, _cursor, statement, parameters, _context, executemany):
        if many or not executemany:
            statements.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def plan_nodes(plan: dict):
    yield plan
    for child in plan.get("Plans", ()):
        yield from plan_nodes(child)


def access_paths(plan: dict, watched=WATCHED) -> list[str]:
    """How the plan reads the watched tables, e.g. 'Index Scan uq_slots_doctor_id_start_at';
    an index read whole (no Index Cond) is marked, as it reads every row all the same."""
    paths = []
    for node in plan_nodes(plan):
        relation, index = node.get("Relation Name"), node.get("Index Name")
        watched_index = index and any(table in index for table in watched)
        if relation not in watched and not watched_index:
            continue
        how = node["Node Type"] + (f" {index}" if index else "")
        if index and "Index Cond" not in node:
            how += " (whole index!)"
        paths.append(how if index else f"{how} on {relation}")
    return paths
