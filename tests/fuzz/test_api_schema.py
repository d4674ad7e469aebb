"""API fuzzing: schemathesis over /api/v1/openapi.json as a patient, a doctor and an admin.

Every answer must be what the document says (status code, content type, body, headers), no
answer may be a 5xx, and every operation must be reached with data that exists: at least one
answer other than 401/404 per operation, over the three roles.

Bounded here (fixed seed, few examples). A longer run, as README "API fuzzing" says:
    FUZZ_EXAMPLES=200 FUZZ_STEPS=50 FUZZ_PHASES=examples,coverage,fuzzing,stateful \
        .venv/bin/pytest tests/fuzz -s
"""

from __future__ import annotations

import pytest

from tests import services
from tests.fuzz import harness
from tests.fuzz.world import ROLES

pytestmark = pytest.mark.fuzz

# Bounded for CI: a fixed seed, a few examples, no coverage phase (its boundary values are a
# few hundred requests per role whatever the count); README's longer run has all four.
SETTINGS = harness.settings_from_env(
    harness.Settings(
        seed=20261203, examples=2, max_steps=10, phases=("examples", "fuzzing", "stateful")
    )
)


@pytest.fixture(scope="module")
def results() -> dict[str, harness.RoleResult]:
    url = services.create_database()
    try:
        runs = harness.run_all(url, SETTINGS)
    finally:
        services.drop_database(url)
    print(harness.coverage_table(runs))
    return {run.role: run for run in runs}


@pytest.mark.parametrize("role", ROLES)
def test_every_answer_is_as_documented(results, role):
    run = results[role]
    assert run.requests > 0
    assert run.errors == []
    assert run.failures == [], harness.describe_failures(run)


def test_every_operation_is_reached_with_real_data(results):
    runs = list(results.values())
    assert harness.unreached(runs) == []
