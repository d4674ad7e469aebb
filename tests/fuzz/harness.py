"""Runs schemathesis over the API's own OpenAPI document, in process (the Flask app through
WSGI on a throwaway PostgreSQL database), once per role with that role's real bearer token,
and sums up what every operation answered.

Each role's run starts from a freshly seeded world (tests/fuzz/world.py): a run changes data
as it goes (cancels, deletes, accepts), and the next role should not find it used up.
"""

from __future__ import annotations

import os
import threading
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import flask_migrate
import schemathesis
from schemathesis.engine import events
from werkzeug.serving import make_server

from app.extensions import db
from tests.conftest import build_app, dispose, empty_tables
from tests.fuzz.world import ROLES, Login, build_world
from tests.integration.payments import localstripe
from tests.servers import free_port

SPEC_PATH = "/api/v1/openapi.json"
# schemathesis' phases: the document's examples, boundary values of every keyword
# (coverage: the same few hundred requests whatever the example count), generated data
# (fuzzing), and chains of requests along the document's links (stateful).
PHASES = ("examples", "coverage", "fuzzing", "stateful")


@dataclass
class RoleResult:
    role: str
    # operation label ("GET /api/v1/me") -> Counter of status codes answered
    statuses: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    # (operation label, check name, title, curl) of each distinct failure
    failures: list[tuple[str, str, str, str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    # operations the stateful phase (links from one answer to the next request) got a real
    # answer from: not a 401 or 404
    stateful_reached: set[str] = field(default_factory=set)
    requests: int = 0
    seconds: float = 0.0


@contextmanager
def serve(app) -> Iterator[str]:
    """The app over real HTTP on a free local port, in a thread of this process (the
    schemathesis WSGI transport drops requests it probes with: see README, API fuzzing)."""
    server = make_server("127.0.0.1", free_port(), app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.port}"
    finally:
        server.shutdown()
        thread.join()
        server.server_close()


def token_for(client, login: Login) -> str:
    """A real bearer token for `login`, from POST /api/v1/auth/token."""
    body = {"email": login.email, "password": login.password, "client_name": "fuzz"}
    if login.totp_secret:
        body["otp"] = login.otp()
    response = client.post("/api/v1/auth/token", json=body)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()["access_token"]


@dataclass(frozen=True)
class Settings:
    seed: int
    examples: int  # per operation, in the fuzzing phase
    max_steps: int  # per scenario, in the stateful phase
    phases: tuple[str, ...] = PHASES


def fuzz_config(settings: Settings, headers: dict):
    """Every built-in check: server errors, status codes, content types, bodies and headers
    as documented, valid input accepted, invalid refused, auth enforced, unknown methods..."""
    phases = {name: {"enabled": name in settings.phases} for name in PHASES}
    phases["stateful"]["max-steps"] = settings.max_steps
    return schemathesis.Config.from_dict(
        {
            "seed": settings.seed,
            "cache": {"enabled": False},  # each run from its seed alone, nothing left behind
            "headers": headers,
            "generation": {"max-examples": settings.examples, "deterministic": True},
            "phases": phases,
            "checks": {
                "enabled": True,
                # Valid by the document but refused by a rule no JSON Schema states (an end
                # after its start, a slot still free, the right password): the API's 422; or
                # by time (410: a card hold that lapsed).
                "positive_data_acceptance": {
                    "expected-statuses": ["2xx", "401", "403", "404", "409", "410", "422", "429"]
                },
            },
            # A message's file exists only for a message sent with one: its 404 after a send
            # without a file is the right answer, not a resource lost after its creation.
            "operations": [
                {
                    "include-name": f"GET {ATTACHMENT_PATH}",
                    "checks": {"ensure_resource_availability": {"enabled": False}},
                }
            ],
        }
    )


ATTACHMENT_PATH = "/api/v1/conversations/{conversation_id}/messages/{message_id}/attachment"


def run_role(app, role: str, *, stripe_base: str, settings: Settings) -> RoleResult:
    """Seed a fresh world, sign in as `role` and fuzz every operation; return what it saw."""
    with app.app_context():
        empty_tables()
        logins = build_world(stripe_base)
        db.session.remove()
    token = token_for(app.test_client(), logins[role])
    config = fuzz_config(settings, headers={"Authorization": f"Bearer {token}"})
    result = RoleResult(role)
    seen_failures = set()
    with serve(app) as base_url:
        schema = schemathesis.openapi.from_url(base_url + SPEC_PATH, config=config)
        stream = list(schemathesis.engine.from_schema(schema).execute())
    for event in stream:
        if isinstance(event, events.ScenarioFinished):
            _record(result, event.recorder, seen_failures, stateful=event.phase == "stateful")
        elif isinstance(event, events.NonFatalError):
            result.errors.append(f"{event.label}: {event.info.format()}")
        elif isinstance(event, events.FatalError):
            result.errors.append(f"fatal: {event.exception!r}")
        elif isinstance(event, events.EngineFinished):
            result.seconds = event.running_time
    return result


def _record(result: RoleResult, recorder, seen: set, *, stateful: bool) -> None:
    for case_id, node in recorder.cases.items():
        case = node.value
        interaction = recorder.interactions.get(case_id)
        if interaction is None or interaction.response is None:
            continue
        result.requests += 1
        # Probes of other methods (405s, OPTIONS) are not answers of the operation.
        if case.method.upper() == case.operation.method.upper():
            status = interaction.response.status_code
            result.statuses[case.operation.label][status] += 1
            if stateful and status not in _EMPTY_ANSWERS:
                result.stateful_reached.add(case.operation.label)
    for case_id, checks in recorder.checks.items():
        for check in checks:
            if check.failure_info is None:
                continue
            failure = check.failure_info.failure
            label = recorder.cases[case_id].value.operation.label
            key = (label, check.name, failure.title)
            if key in seen:
                continue
            seen.add(key)
            detail = f"{failure.title}: {failure.message}".strip()
            result.failures.append((label, check.name, detail, check.failure_info.code_sample))


def run_all(database_url: str, settings: Settings) -> list[RoleResult]:
    """Fuzz as each role in turn: the app on `database_url` (migrated here), with production's
    rate limits and admin two-step rule, paying through a localstripe started for the run."""
    process, stripe_base = localstripe.start_localstripe()
    app = build_app(
        database_url,
        RATELIMIT_ENABLED=True,
        ADMIN_2FA_REQUIRED=True,
        **localstripe.settings(stripe_base),
    )
    try:
        with app.app_context():
            flask_migrate.upgrade()
            db.session.remove()
        return [run_role(app, role, stripe_base=stripe_base, settings=settings) for role in ROLES]
    finally:
        dispose(app)
        localstripe.stop(process)


def settings_from_env(defaults: Settings) -> Settings:
    """FUZZ_SEED, FUZZ_EXAMPLES, FUZZ_STEPS and FUZZ_PHASES (comma-separated) over `defaults`."""
    phases = os.environ.get("FUZZ_PHASES")
    return Settings(
        seed=int(os.environ.get("FUZZ_SEED", defaults.seed)),
        examples=int(os.environ.get("FUZZ_EXAMPLES", defaults.examples)),
        max_steps=int(os.environ.get("FUZZ_STEPS", defaults.max_steps)),
        phases=tuple(phases.split(",")) if phases else defaults.phases,
    )


# Answers that say nothing about the operation itself: no token, or an id that is not there.
_EMPTY_ANSWERS = frozenset({401, 404})


def unreached(runs: list[RoleResult]) -> list[str]:
    """Operations no role ever got a real answer from (only 401s and 404s, or nothing)."""
    labels = {label for run in runs for label in run.statuses}
    return sorted(
        label
        for label in labels
        if not any(set(run.statuses.get(label, ())) - _EMPTY_ANSWERS for run in runs)
    )


def coverage_table(runs: list[RoleResult]) -> str:
    """Per operation and role: the statuses answered, 2xx first; a * marks a 2xx."""
    labels = sorted({label for run in runs for label in run.statuses})
    lines = ["operation".ljust(72) + "".join(run.role.ljust(40) for run in runs)]
    for label in labels:
        cells = []
        for run in runs:
            counts = run.statuses.get(label, Counter())
            text = " ".join(f"{status}x{n}" for status, n in sorted(counts.items()))
            mark = "*" if any(200 <= status < 300 for status in counts) else " "
            cells.append((mark + text).ljust(40))
        lines.append(label.ljust(72) + "".join(cells))
    with_2xx = sum(
        any(200 <= s < 300 for run in runs for s in run.statuses.get(label, ())) for label in labels
    )
    stateful = set().union(*(run.stateful_reached for run in runs))
    totals = ", ".join(f"{run.role} {run.requests} requests in {run.seconds:.0f} s" for run in runs)
    lines.append(
        f"{len(labels)} operations, {with_2xx} with a 2xx, {len(stateful)} reached with a real"
        f" answer by the stateful phase; {totals}"
    )
    return "\n".join(lines)


def describe_failures(run: RoleResult) -> str:
    return "\n".join(
        f"{label} [{check}] {detail}\n    {code}" for label, check, detail, code in run.failures
    )
