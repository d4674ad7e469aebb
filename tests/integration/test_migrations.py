"""Migrations upgrade, downgrade and upgrade again, and match the models (no drift)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests import services

ROOT = Path(__file__).resolve().parents[2]


def flask_db(database_url: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": database_url, "FLASK_APP": "wsgi", "SECRET_KEY": "x"}
    return subprocess.run(
        [sys.executable, "-m", "flask", "db", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(params=["postgresql", "sqlite"])
def empty_database(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrations.db'}"
        return
    url = services.create_database()
    yield url
    services.drop_database(url)


def test_upgrade_downgrade_upgrade_and_no_drift(empty_database):
    for step in (["upgrade"], ["downgrade", "base"], ["upgrade"], ["check"]):
        result = flask_db(empty_database, *step)
        assert result.returncode == 0, f"flask db {' '.join(step)}:\n{result.stderr}"
    assert "No new upgrade operations detected" in result.stdout + result.stderr
