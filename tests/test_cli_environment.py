"""The installed package on a bare machine: no system time-zone data, a clean install."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

from fake_edgar import FakeEdgar
from test_pipeline_e2e import DAYS, USER_AGENT, publish, week_of_filings

REPO_ROOT = Path(__file__).resolve().parent.parent
FIXTURE = REPO_ROOT / "tests" / "fixtures" / "amendment_chain" / "0001999001-24-000003.txt"


def run_without_system_zones(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """The CLI with PYTHONTZPATH pointing nowhere, as on Windows or a slim image without tzdata."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("EDGAR_INGEST_")}
    base.update(PYTHONPATH=str(REPO_ROOT), PYTHONTZPATH=str(tmp_path / "no-zoneinfo-here"))
    base.update(env)
    return subprocess.run(
        [sys.executable, "-m", "edgar_ingest", *args],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=base,
        timeout=120,
    )


def test_tzdata_is_a_runtime_dependency() -> None:
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    assert "tzdata" in {re.split(r"[<>=!~;\[ ]", r, maxsplit=1)[0] for r in project["dependencies"]}


def test_every_command_works_without_the_systems_time_zone_data(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'e.db'}"

    assert run_without_system_zones(tmp_path, "--help").returncode == 0
    parsed = run_without_system_zones(tmp_path, "parse", str(FIXTURE), "--format", "json")
    assert parsed.returncode == 0, parsed.stderr
    assert '"accepted_at": "2024-06-12T10:15:00-04:00"' in parsed.stdout  # Eastern, with DST
    ingested = run_without_system_zones(tmp_path, "ingest", str(FIXTURE), "--database-url", url)
    assert ingested.returncode == 0, ingested.stderr
    history = run_without_system_zones(
        tmp_path, "history", "--file-number", "021-512345", "--database-url", url
    )
    assert history.returncode == 0, history.stderr
    assert "0001999001-24-000003" in history.stdout
    with FakeEdgar() as server:
        publish(server, week_of_filings())
        synced = run_without_system_zones(
            tmp_path,
            "sync",
            "--since",
            DAYS[0].isoformat(),
            "--until",
            DAYS[0].isoformat(),
            "--database-url",
            url,
            EDGAR_INGEST_BASE_URL=server.url,
            EDGAR_INGEST_USER_AGENT=USER_AGENT,
        )
    assert synced.returncode == 0, synced.stderr
    status = run_without_system_zones(tmp_path, "status", "--database-url", url)
    assert status.returncode == 0, status.stderr
    assert f"checkpoint:          {DAYS[0]}" in status.stdout


def test_the_license_is_an_spdx_expression_so_setuptools_installs_without_a_deprecation_warning() -> None:
    pyproject = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
    assert pyproject["project"]["license"] == "MIT"  # not the deprecated {text = ...} table
    assert "setuptools>=77" in pyproject["build-system"]["requires"]  # the first to read SPDX strings
