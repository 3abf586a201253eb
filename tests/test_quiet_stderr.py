"""Quiet stderr (issue 13, item 9): a reader that goes away and a server that goes away are said
in at most one sentence, never a traceback or a driver's echo.

Every command that prints, piped to a reader that stops reading (``| head -1``), exits 141 as a
process stopped by SIGPIPE does, with nothing on stderr; a run it ends is recorded as
interrupted. A PostgreSQL server lost under a run never shows psycopg's "error ignored
terminating <psycopg.Pipeline ...>" (or ``Copy``) line.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path
from typing import IO

import pytest
from fake_edgar import FakeEdgar
from test_pipeline_e2e import USER_AGENT, publish, week_of_filings
from test_run_ledger import runs

from edgar_ingest.cli import _quiet_echoes_of_lost_connections

REPO_ROOT = Path(__file__).resolve().parent.parent
CHAIN = REPO_ROOT / "tests" / "fixtures" / "amendment_chain"
FIRST = CHAIN / "0001999001-24-000001.txt"
EXIT_BROKEN_PIPE = 141


def env_for(url: str, server: FakeEdgar | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EDGAR_INGEST_")}
    env.update(PYTHONPATH=str(REPO_ROOT), EDGAR_INGEST_DATABASE_URL=url)
    if server is not None:
        env.update(
            EDGAR_INGEST_BASE_URL=server.url,
            EDGAR_INGEST_DATA_URL=server.url,
            EDGAR_INGEST_USER_AGENT=USER_AGENT,
        )
    return env


def into_a_closed_pipe(
    env: dict[str, str], *args: str, closed: str = "stdout"
) -> subprocess.CompletedProcess[str]:
    """Run the CLI with ``closed`` (stdout or stderr) a pipe whose reader is gone; capture the other."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    streams: dict[str, int | IO[str] | None] = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE}
    streams[closed] = write_end
    try:
        return subprocess.run(
            [sys.executable, "-m", "edgar_ingest", *args],
            **streams,  # type: ignore[arg-type]
            text=True,
            cwd=REPO_ROOT,
            env=env,
            timeout=120,
        )
    finally:
        os.close(write_end)


PRINTING_COMMANDS = [
    ["status"],
    ["status", "--format", "json"],
    ["history", "--file-number", "021-512345"],
    ["history", "--file-number", "021-512345", "--format", "json"],
    ["history", "--file-number", "021-512345", "--format", "csv"],
    ["failures"],
    ["failures", "--format", "json"],
    ["reconcile"],
    ["reconcile", "--format", "json"],
    ["parse", str(FIRST)],
    ["parse", str(FIRST), "--format", "json"],
    ["ingest", str(CHAIN)],
    ["reparse"],
    ["db", "upgrade"],
]


@pytest.mark.parametrize("command", PRINTING_COMMANDS, ids=" ".join)
def test_every_printing_command_into_a_closed_pipe_exits_141_with_nothing_on_stderr(
    tmp_path: Path, command: list[str]
) -> None:
    env = env_for(f"sqlite:///{tmp_path / 'e.db'}")
    subprocess.run(
        [sys.executable, "-m", "edgar_ingest", "ingest", str(CHAIN)], env=env, check=True, capture_output=True
    )

    result = into_a_closed_pipe(env, *command)

    assert result.stderr == ""
    assert result.returncode == EXIT_BROKEN_PIPE


@pytest.mark.parametrize("command", [["--help"], ["status", "--help"], ["--version"]], ids=" ".join)
def test_help_and_version_into_a_closed_pipe_are_silent(tmp_path: Path, command: list[str]) -> None:
    result = into_a_closed_pipe(env_for(f"sqlite:///{tmp_path / 'e.db'}"), *command)

    assert result.stderr == ""
    # argparse prints them and ignores a failed write itself (exit 0) when stdout is unbuffered
    # (PYTHONUNBUFFERED); buffered, the closed pipe is met at the CLI's flush (141).
    assert result.returncode in (0, EXIT_BROKEN_PIPE)


def test_a_reader_that_stops_after_the_first_line_of_a_long_listing(tmp_path: Path) -> None:
    bad = tmp_path / "bad"
    bad.mkdir()
    for n in range(1500):  # ~400 KB of listing: more than a pipe holds, so the writer meets the close
        # distinct bytes: a failure without an accession number is one row per document (sha256)
        (bad / f"not_form_d_{n:04d}.xml").write_bytes(
            f"<?xml version='1.0'?><ownershipDocument n='{n}'/>".encode()
        )
    env = env_for(f"sqlite:///{tmp_path / 'e.db'}")
    subprocess.run(
        [sys.executable, "-m", "edgar_ingest", "ingest", str(bad)], env=env, check=True, capture_output=True
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "edgar_ingest", "failures"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO_ROOT,
        env=env,
    )
    assert process.stdout is not None
    assert process.stderr is not None

    first = process.stdout.readline()
    process.stdout.close()
    err = process.stderr.read()
    process.wait(timeout=60)

    assert first.startswith("#")
    assert err == ""
    assert process.returncode == EXIT_BROKEN_PIPE


def test_a_sync_whose_report_cannot_be_printed_is_still_completed(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'e.db'}"
    with FakeEdgar() as edgar:
        publish(edgar, week_of_filings())
        result = into_a_closed_pipe(
            env_for(url, edgar), "sync", "--since", "2024-01-02", "--until", "2024-01-05"
        )

    assert result.returncode == EXIT_BROKEN_PIPE
    assert "Traceback" not in result.stderr
    assert [r["status"] for r in runs(url)] == ["completed"]


def test_a_sync_whose_progress_reader_went_away_stops_interrupted(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'e.db'}"
    with FakeEdgar() as edgar:
        publish(edgar, week_of_filings())
        env = env_for(url, edgar)
        result = into_a_closed_pipe(
            env, "sync", "--since", "2024-01-02", "--until", "2024-01-05", closed="stderr"
        )

    assert result.returncode == EXIT_BROKEN_PIPE
    assert result.stdout == ""  # never "completed"
    (run,) = runs(url)
    assert run["status"] == "interrupted"
    assert "broken pipe" in run["message"]


def test_psycopg_echoes_of_a_lost_connection_are_not_printed_and_its_other_warnings_are(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Reproduced by restarting PostgreSQL under an ingest: psycopg raises "the connection is lost"
    # to the command, which says it in one sentence, then logs that ending the COPY or pipeline
    # failed too. With no logging configured, Python printed that second line on stderr.
    _quiet_echoes_of_lost_connections()
    psycopg_log = logging.getLogger("psycopg")
    caplog.set_level(logging.WARNING)

    psycopg_log.warning(
        "error ignored terminating %r: %s", "<psycopg.Pipeline [BAD]>", "the connection is lost"
    )
    psycopg_log.warning("error ignored terminating %r: %s", "<psycopg.Copy [BAD]>", "the connection is lost")
    psycopg_log.warning("unknown PostgreSQL timezone: %r; will use UTC", "Mars/Olympus")

    assert [r.getMessage() for r in caplog.records] == [
        "unknown PostgreSQL timezone: 'Mars/Olympus'; will use UTC"
    ]
