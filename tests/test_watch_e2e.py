"""``edgar-ingest watch`` as a process: stopped by SIGTERM or Ctrl-C with exit 0, alone on the lock,
``--once``, ``status`` and ``healthcheck`` (the real CLI against the fake EDGAR)."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from fake_edgar import FEED_PATH, FakeEdgar, FeedItem, master_index
from formd_builder import FilingSpec, full_submission
from test_pipeline_e2e import cli_env, run_cli, scalar, start_cli, versions

ET = ZoneInfo("America/New_York")


@pytest.fixture
def server() -> Iterator[FakeEdgar]:
    """The fake EDGAR with the last two weeks' daily indexes (empty): the start-up catch-up's walk."""
    with FakeEdgar() as fake:
        today = datetime.now(ET).date()
        for back in range(15):
            day = today - timedelta(days=back)
            fake.add_daily_index(day, master_index([], day=day))
        yield fake


def publish(server: FakeEdgar, n: int, *, seconds_ago: float = 30) -> FilingSpec:
    accepted = datetime.now(ET) - timedelta(seconds=seconds_ago)
    spec = FilingSpec(
        accession=f"0001700{n:03d}-24-{n:06d}",
        cik=str(1700000 + n),
        name=f"Process Issuer {n} LLC",
        filed=accepted.date(),
        accepted_at=accepted.replace(tzinfo=None),
        total_sold=str(50_000 * n),
    )
    server.add(spec.path, full_submission(spec))
    server.add_feed_entries([FeedItem(spec.accession, spec.cik, spec.name, accepted)])
    return spec


def polled(url: str) -> bool:
    """A poll has completed (and logged what it stored): its time is kept for the healthcheck."""
    try:
        return bool(
            scalar(url, "SELECT count(*) FROM pipeline_state WHERE state_key = 'watch_last_poll_ok_at'")
        )
    except sa.exc.OperationalError:  # the watcher has not created the schema yet
        return False


def wait_for(condition: Callable[[], bool], process: subprocess.Popen[str], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        if process.poll() is not None:
            _out, err = process.communicate()
            raise AssertionError(f"the watcher exited with {process.returncode}: {err}")
        time.sleep(0.05)
    raise AssertionError("timed out")


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT], ids=["sigterm", "ctrl-c"])
def test_a_signal_stops_the_watcher_within_seconds_with_exit_0(
    tmp_path: Path, server: FakeEdgar, stop: signal.Signals
) -> None:
    spec = publish(server, 1)
    url = f"sqlite:///{tmp_path / 'w.db'}"
    env = cli_env(server, url)
    watcher = start_cli(env, "watch", "--interval", "10")
    try:
        wait_for(lambda: polled(url), watcher)

        stopped_at = time.monotonic()
        watcher.send_signal(stop)
        out, err = watcher.communicate(timeout=30)
    finally:
        watcher.kill()

    assert watcher.returncode == 0, err
    assert time.monotonic() - stopped_at < 10
    assert "Traceback" not in err
    assert out.startswith(f"D {spec.accession} Process Issuer 1 LLC: sold $50,000 of $10,000,000 offered")
    status = json.loads(run_cli(env, "status", "--format", "json").stdout)
    assert status["watch"]["running"] is None
    assert status["watch"]["feed_filings_last_day"] == 1
    assert {r["status"] for r in status["last_runs"]} <= {"completed", "interrupted"}


def test_sigterm_during_a_block_pause_ends_the_watcher_at_once_and_sends_nothing_more(
    tmp_path: Path, server: FakeEdgar
) -> None:
    publish(server, 1)
    server.inject(FEED_PATH, ["block403"])
    env = cli_env(server, f"sqlite:///{tmp_path / 'w.db'}", EDGAR_INGEST_BLOCK_PAUSE_S="600")
    watcher = start_cli(env, "watch")
    try:
        wait_for(lambda: server.block_pages_served == 1, watcher)
        time.sleep(0.3)  # inside its 600 s pause now
        sent = server.count()

        stopped_at = time.monotonic()
        watcher.send_signal(signal.SIGTERM)
        _out, err = watcher.communicate(timeout=30)
    finally:
        watcher.kill()

    assert watcher.returncode == 0, err
    assert time.monotonic() - stopped_at < 10
    assert server.count() == sent


def test_while_a_watcher_runs_a_second_watcher_a_sync_and_a_backfill_exit_75_saying_so(
    tmp_path: Path, server: FakeEdgar
) -> None:
    publish(server, 1)
    url = f"sqlite:///{tmp_path / 'w.db'}"
    env = cli_env(server, url)
    watcher = start_cli(env, "watch")
    try:
        wait_for(lambda: polled(url), watcher)

        second = run_cli(env, "watch", "--once")
        sync = run_cli(env, "sync", "--since", "2024-01-02", "--until", "2024-01-02")
        backfill = run_cli(
            env, "backfill", "--start", "2024-01-01", "--end", "2024-01-02", "--source", "indexes"
        )

        watcher.send_signal(signal.SIGTERM)
        _out, err = watcher.communicate(timeout=30)
    finally:
        watcher.kill()

    for refused in (second, sync, backfill):
        assert refused.returncode == 75, refused.stderr
        lines = refused.stderr.strip().splitlines()
        assert len(lines) == 1
        assert "A watcher (edgar-ingest watch, pid" in lines[0]
        assert "stop it first" in lines[0]
    assert watcher.returncode == 0, err
    # Once the watcher has stopped, the lock is free again.
    after = run_cli(env, "sync", "--since", "2024-01-02", "--until", "2024-01-02")
    assert after.returncode == 0, after.stderr


def test_once_polls_and_catches_up_then_exits_and_status_and_healthcheck_show_it(
    tmp_path: Path, server: FakeEdgar
) -> None:
    specs = [publish(server, 1, seconds_ago=90), publish(server, 2, seconds_ago=30)]
    url = f"sqlite:///{tmp_path / 'w.db'}"
    env = cli_env(server, url)
    assert run_cli(env, "healthcheck").returncode == 1  # no poll yet

    result = run_cli(env, "watch", "--once", "--log-format", "json")

    assert result.returncode == 0, result.stderr
    logged = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["accession_number"] for line in logged] == [s.accession for s in specs]
    assert {r["accession_number"] for r in versions(url)} == {s.accession for s in specs}
    commands = [
        r["command"] for r in json.loads(run_cli(env, "status", "--format", "json").stdout)["last_runs"]
    ]
    assert set(commands) == {"watch", "catch-up"}
    status = run_cli(env, "status")
    assert "watch:               not running; last good poll" in status.stdout
    assert "last day: 2 filings through the feed, acceptance to stored median" in status.stdout
    healthy = run_cli(env, "healthcheck")
    assert healthy.returncode == 0, healthy.stderr
    time.sleep(1.1)
    stale = run_cli(env, "healthcheck", "--max-age", "1")
    assert stale.returncode == 1
    assert "more than 1 s" in stale.stderr


def test_once_exits_1_when_the_feed_cannot_be_read(tmp_path: Path, server: FakeEdgar) -> None:
    env = cli_env(server, f"sqlite:///{tmp_path / 'w.db'}")  # the fake serves no feed: absent

    result = run_cli(env, "watch", "--once")

    assert result.returncode == 1
    assert "EDGAR_INGEST_BASE_URL" in result.stderr


def test_an_interval_under_10_seconds_is_refused(tmp_path: Path, server: FakeEdgar) -> None:
    result = run_cli(cli_env(server, f"sqlite:///{tmp_path / 'w.db'}"), "watch", "--interval", "5")

    assert result.returncode == 2
    assert "--interval must be at least 10 seconds" in result.stderr
    assert server.count() == 0
