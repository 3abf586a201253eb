"""The run lock survives a PostgreSQL restart (issue 13, item 3).

A restart ends every session, the running backfill's lock session too, and with it its advisory
lock. The run notices at once (the server closes the lock's socket), sends no request to EDGAR
until it has taken the lock back on a new session, and goes on; a second backfill meanwhile exits
75. If another run took the lock while the first could not reach the database, the first stops
with one sentence ("lost the run lock: ..."), exit 1, its run recorded as failed. Never are two
runs fetching at once.

Each test starts a PostgreSQL cluster of its own (``throwaway_postgres``): restarting the shared
one would pull it from under the other tests. The backfills are real CLI processes against the
fake EDGAR, told apart by their User-Agent.
"""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
import sqlalchemy as sa
from fake_edgar import FakeEdgar, RequestRecord, master_index
from test_pipeline_e2e import _publish_quarter, _quarter_of_filings, cli_env, run_cli, scalar, start_cli
from test_watch_e2e import polled, publish, wait_for
from throwaway_postgres import ThrowawayPostgres

from edgar_ingest.errors import LockLostError
from edgar_ingest.http import EdgarClient, RateLimiter
from edgar_ingest.settings import Settings, normalise_database_url

BACKFILL = ("backfill", "--start", "2024-01-01", "--end", "2024-04-01", "--source", "indexes")
FIRST_UA = "first run first@example.com"
SECOND_UA = "second run second@example.com"
FILINGS = 150  # ~15 s at 10 requests/s: the restart and the second run fit in the middle
SEC_RATE = 10


def _wait_until(condition: Callable[[], bool], timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def _of(server: FakeEdgar, user_agent: str) -> list[RequestRecord]:
    return [r for r in server.requests if r.headers.get("User-Agent") == user_agent]


def _runs(env: dict[str, str]) -> list[dict[str, Any]]:
    result = run_cli(env, "status", "--format", "json")
    assert result.returncode == 0, result.stderr
    runs: list[dict[str, Any]] = json.loads(result.stdout)["last_runs"]
    return runs


def _filings(url: str) -> int:
    return int(scalar(url, "SELECT count(*) FROM filings"))


@pytest.fixture
def edgar() -> Iterator[FakeEdgar]:
    with FakeEdgar(latency=0.02) as server:
        _publish_quarter(server, _quarter_of_filings(FILINGS))
        yield server


@pytest.mark.postgres
def test_a_backfill_keeps_its_lock_across_a_restart_and_a_second_backfill_exits_75(
    throwaway_postgres: ThrowawayPostgres, edgar: FakeEdgar
) -> None:
    pg = throwaway_postgres
    first_env = cli_env(edgar, pg.url, EDGAR_INGEST_USER_AGENT=FIRST_UA)
    second_env = cli_env(edgar, pg.url, EDGAR_INGEST_USER_AGENT=SECOND_UA)
    assert run_cli(first_env, "db", "upgrade").returncode == 0
    first = start_cli(first_env, *BACKFILL)
    # Right after a batch is stored the next store is seconds away: the restart does not land
    # in the middle of one (that the run could not survive: its write would fail).
    _wait_until(lambda: _filings(pg.url) >= 50)

    pg.stop("fast")
    down_from = time.monotonic()
    time.sleep(2.0)  # the database is down for 2 s: a run without its lock would fetch ~20 filings
    down_until = time.monotonic()
    pg.start()
    second = run_cli(second_env, *BACKFILL, timeout=60)
    out, err = first.communicate(timeout=120)

    assert second.returncode == 75, second.stderr
    assert "holds the 'edgar-network' lock" in second.stderr
    assert first.returncode == 0, err
    assert "backfill completed" in out
    first_requests = _of(edgar, FIRST_UA)
    assert _of(edgar, SECOND_UA) == [], "the second run sent no request"
    assert [r.time for r in first_requests if down_from + 0.2 < r.time < down_until] == [], (
        "no request while the lock's session was gone"
    )
    assert any(r.time > down_until for r in first_requests), "the first run went on after the restart"
    assert edgar.max_requests_in_any_sliding_second() <= SEC_RATE
    assert _filings(pg.url) == FILINGS
    runs = _runs(first_env)
    assert [(r["command"], r["status"]) for r in runs] == [("backfill", "completed")]


@pytest.mark.postgres
def test_a_backfill_whose_lock_was_taken_while_the_database_was_away_stops_with_one_sentence(
    throwaway_postgres: ThrowawayPostgres, edgar: FakeEdgar
) -> None:
    pg = throwaway_postgres
    first_env = cli_env(edgar, pg.url, EDGAR_INGEST_USER_AGENT=FIRST_UA)
    # The second run reaches the database through the Unix socket, which stays open while TCP
    # (the first run's way in) is refused: a long outage for the first, not for the second.
    second_env = cli_env(edgar, pg.socket_url, EDGAR_INGEST_USER_AGENT=SECOND_UA)
    assert run_cli(first_env, "db", "upgrade").returncode == 0
    first = start_cli(first_env, *BACKFILL)
    _wait_until(lambda: _filings(pg.url) >= 50)

    pg.stop("fast")
    first_stopped_at = time.monotonic()
    pg.refuse_tcp(True)
    pg.start()
    # The first run's claim lapses (as after minutes of outage): the second may take the lock.
    engine = sa.create_engine(normalise_database_url(pg.socket_url))
    with engine.begin() as conn:
        lapsed = conn.execute(sa.text("UPDATE locks SET expires_at = now() - interval '1 second'"))
        assert lapsed.rowcount == 1
    engine.dispose()
    second = start_cli(second_env, *BACKFILL)
    _wait_until(lambda: len(_of(edgar, SECOND_UA)) > 0 or second.poll() is not None)
    assert second.poll() is None, second.communicate()
    pg.refuse_tcp(False)  # the first run reaches the database again, and finds the lock taken
    _, err = first.communicate(timeout=60)
    _, second_err = second.communicate(timeout=120)

    assert first.returncode == 1, err
    assert "lost the run lock: another run" in err
    assert "Traceback" not in err
    assert second.returncode == 0, second_err
    first_requests = _of(edgar, FIRST_UA)
    assert [r for r in first_requests if r.time > first_stopped_at + 0.2] == [], (
        "the first run sent nothing once its lock's session was gone"
    )
    assert edgar.max_requests_in_any_sliding_second() <= SEC_RATE
    assert _filings(pg.url) == FILINGS
    runs = _runs(first_env)
    assert [(r["command"], r["status"]) for r in runs] == [("backfill", "completed"), ("backfill", "failed")]
    assert runs[1]["message"].startswith("lost the run lock: another run")


@pytest.fixture
def feed_edgar() -> Iterator[FakeEdgar]:
    """The fake EDGAR with the last two weeks' daily indexes (empty) for the watcher's catch-up."""
    with FakeEdgar() as server:
        today = datetime.now(ZoneInfo("America/New_York")).date()
        for back in range(15):
            day = today - timedelta(days=back)
            server.add_daily_index(day, master_index([], day=day))
        yield server


@pytest.mark.postgres
def test_a_watcher_keeps_its_lock_across_a_restart_and_goes_on_polling(
    throwaway_postgres: ThrowawayPostgres, feed_edgar: FakeEdgar
) -> None:
    pg, server = throwaway_postgres, feed_edgar
    env = cli_env(server, pg.url)
    assert run_cli(env, "db", "upgrade").returncode == 0
    publish(server, 1)
    watcher = start_cli(env, "watch", "--interval", "10")
    try:
        # Restart while it waits for its next poll: a write in flight would fail (not the lock's
        # business), so after the first poll and the start-up catch-up.
        caught_up = "SELECT count(*) FROM runs WHERE command = 'catch-up' AND status <> 'running'"
        wait_for(lambda: polled(pg.url) and scalar(pg.url, caught_up) == 1, watcher)
        pg.restart("fast")
        later = publish(server, 2)
        sync = run_cli(env, "sync", "--since", "2024-01-02", "--until", "2024-01-02")
        stored = f"SELECT count(*) FROM filings WHERE accession_number = '{later.accession}'"
        wait_for(lambda: scalar(pg.url, stored) == 1, watcher)  # the next poll, on the new server
        watcher.send_signal(signal.SIGTERM)
        out, err = watcher.communicate(timeout=30)
    finally:
        watcher.kill()

    assert sync.returncode == 75, sync.stderr
    assert "A watcher (edgar-ingest watch, pid" in sync.stderr
    assert watcher.returncode == 0, err
    assert "Traceback" not in err
    assert later.accession in out
    assert {r["status"] for r in _runs(env)} <= {"completed", "interrupted"}


# --------------------------------------------------------------------------- the client's gate


class _CountingLimiter(RateLimiter):
    def __init__(self, log: list[str]) -> None:
        super().__init__(SEC_RATE)
        self.log = log

    def acquire(self) -> None:
        self.log.append("slot")
        super().acquire()


def _client(
    handler: Callable[[httpx.Request], httpx.Response], gate: Callable[[], bool], log: list[str]
) -> EdgarClient:
    settings = Settings(user_agent="tests tests@example.com", max_rps=SEC_RATE)
    return EdgarClient(
        settings, transport=httpx.MockTransport(handler), gate=gate, limiter=_CountingLimiter(log)
    )


def test_the_client_asks_the_gate_after_each_slot_and_takes_a_fresh_slot_after_a_wait() -> None:
    log: list[str] = []
    answers = iter([False, False, True, True])

    def gate() -> bool:
        log.append("gate")
        return next(answers)

    def handler(request: httpx.Request) -> httpx.Response:
        log.append("sent")
        return httpx.Response(200, content=b"ok")

    with _client(handler, gate, log) as client:
        assert client.get("https://www.sec.gov/a") is not None
        assert client.get("https://www.sec.gov/b") is not None
    # A slot taken before a wait is not used: after the wait it would make a burst.
    assert log == ["slot", "gate", "slot", "gate", "slot", "gate", "sent", "slot", "gate", "sent"]


def test_a_lost_lock_stops_the_request_without_sending_or_retrying() -> None:
    sent: list[httpx.Request] = []

    def gate() -> bool:
        raise LockLostError("lost the run lock: another run took it.")

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, content=b"ok")

    with _client(handler, gate, []) as client, pytest.raises(LockLostError, match=r"^lost the run lock"):
        client.get("https://www.sec.gov/a")
    assert sent == []
    assert client.stats.snapshot().requests == 0
