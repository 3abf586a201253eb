"""The pipeline lock: on PostgreSQL an advisory lock on a dedicated session with a lease row,
taken back after the session ends unless another run took it; on SQLite an expiring lock row."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from conftest import open_store

from edgar_ingest.errors import LockHeldError, LockLostError
from edgar_ingest.store import Lock, Store


class FakeClock:
    def __init__(self) -> None:
        self.now = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def test_a_held_lock_refuses_a_second_run(store: Store) -> None:
    other = Store(store.engine)
    lock = store.acquire_lock("sync")
    with pytest.raises(LockHeldError):
        other.acquire_lock("sync")
    lock.heartbeat()
    other.acquire_lock("backfill").release()  # other names are independent
    lock.release()
    with other.acquire_lock("sync"), pytest.raises(LockHeldError):
        store.acquire_lock("sync")
    store.acquire_lock("sync").release()


def test_sqlite_lock_of_a_crashed_run_expires(sqlite_url: str) -> None:
    clock = FakeClock()
    first = open_store(sqlite_url)
    crashed = Store(first.engine, clock=clock)
    crashed.acquire_lock("sync", ttl=timedelta(minutes=5))  # never released: the run "crashed"
    second = Store(first.engine, clock=clock)
    clock.now += timedelta(minutes=4)
    with pytest.raises(LockHeldError):
        second.acquire_lock("sync")
    clock.now += timedelta(minutes=2)
    taken = second.acquire_lock("sync")
    assert taken.owner != ""
    first.close()


def test_sqlite_heartbeat_keeps_the_lock_and_detects_a_takeover(sqlite_url: str) -> None:
    clock = FakeClock()
    base = open_store(sqlite_url)
    runner = Store(base.engine, clock=clock)
    lock = runner.acquire_lock("sync", ttl=timedelta(minutes=5))
    for _ in range(3):
        clock.now += timedelta(minutes=4)
        runner.heartbeat_lock(lock, ttl=timedelta(minutes=5))
    with pytest.raises(LockHeldError):
        Store(base.engine, clock=clock).acquire_lock("sync")
    clock.now += timedelta(minutes=6)
    Store(base.engine, clock=clock).acquire_lock("sync")
    with pytest.raises(LockHeldError):
        lock.heartbeat()
    base.close()


def _hold_in_a_child_that_exits(url: str) -> None:
    """A process that takes the lock and exits without releasing it (as a killed run would)."""
    script = (
        "import sys; from edgar_ingest.store import Store, create_engine_for;"
        "Store(create_engine_for(sys.argv[1])).acquire_lock('sync'); print('held')"
    )
    child = subprocess.run([sys.executable, "-c", script, url], capture_output=True, text=True, check=True)
    assert child.stdout.strip() == "held"


@pytest.mark.postgres
def test_postgres_lock_of_a_killed_process_is_taken_over_at_once(postgres_database_url: str) -> None:
    store = open_store(postgres_database_url)
    _hold_in_a_child_that_exits(postgres_database_url)  # its session ended with it; its lease stays
    store.acquire_lock("sync").release()
    store.close()


def test_sqlite_lock_of_a_killed_process_is_taken_over_at_once(sqlite_url: str) -> None:
    store = open_store(sqlite_url)
    _hold_in_a_child_that_exits(sqlite_url)
    store.acquire_lock("sync").release()
    store.close()


def test_sqlite_guard_stops_the_requests_of_a_run_whose_lock_was_taken(sqlite_url: str) -> None:
    clock = FakeClock()
    base = open_store(sqlite_url)
    runner = Store(base.engine, clock=clock)
    lock = runner.acquire_lock("sync", ttl=timedelta(minutes=5))
    assert lock.gate() is True
    clock.now += timedelta(minutes=6)  # the machine slept: no heartbeat, the row expired
    Store(base.engine, clock=clock).acquire_lock("sync")
    lock.keep_alive(0.01)
    _wait_until(lambda: lock.lost_reason is not None)
    with pytest.raises(LockLostError, match=r"^lost the run lock: The 'sync' lock expired and was taken"):
        lock.gate()
    lock.release()  # the other run's row stays
    with pytest.raises(LockHeldError):
        Store(base.engine, clock=clock).acquire_lock("sync")
    base.close()


# --------------------------------------------------------------------------- PostgreSQL sessions


def _backend_pid(lock: Lock) -> int:
    assert lock._connection is not None
    return int(lock._connection.scalar(sa.text("SELECT pg_backend_pid()")))


def _terminate(url: str, pid: int, *, signal: bool = True) -> None:
    """End one session from outside, as a server restart or an administrator would, and wait
    until it is gone (with it, its advisory lock)."""
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")  # pg_stat_activity anew each time
    with admin.connect() as conn:
        if signal:
            assert conn.scalar(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        alive = sa.text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid")
        _wait_until(lambda: conn.scalar(alive, {"pid": pid}) == 0)
    admin.dispose()


def _wait_until(condition: Callable[[], bool], timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


@pytest.mark.postgres
def test_postgres_lock_is_held_on_its_own_session_not_a_pooled_one(postgres_database_url: str) -> None:
    store = open_store(postgres_database_url)
    lock = store.acquire_lock("sync")
    with store.engine.connect() as pooled:
        pooled_pid = pooled.scalar(sa.text("SELECT pg_backend_pid()"))
        held = pooled.scalar(
            sa.text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = :pid AND granted"),
            {"pid": _backend_pid(lock)},
        )
    assert held == 1
    assert pooled_pid != _backend_pid(lock)
    lock.release()
    store.close()


@pytest.mark.postgres
def test_postgres_lock_is_taken_back_when_its_session_ends(postgres_database_url: str) -> None:
    store = open_store(postgres_database_url)
    lock = store.acquire_lock("sync")
    lock.keep_alive(60.0)  # no beat is due: only the session's end wakes the guard
    before = _backend_pid(lock)
    _terminate(postgres_database_url, before)
    # Meanwhile another run is refused: the owner is alive and taking its lock back.
    with pytest.raises(LockHeldError):
        Store(store.engine).acquire_lock("sync")
    _wait_until(lambda: lock._connection is not None and lock.gate())
    assert lock.lost_reason is None
    assert _backend_pid(lock) != before
    with pytest.raises(LockHeldError):
        Store(store.engine).acquire_lock("sync")
    lock.release()
    Store(store.engine).acquire_lock("sync").release()
    store.close()


@pytest.mark.postgres
def test_postgres_lock_is_lost_when_another_run_took_it_meanwhile(postgres_database_url: str) -> None:
    store = open_store(postgres_database_url)
    lock = store.acquire_lock("sync")
    _terminate(postgres_database_url, _backend_pid(lock))
    with store.engine.begin() as conn:  # its lease lapses before it comes back (a long outage)
        conn.execute(sa.text("UPDATE locks SET expires_at = now() - interval '1 second'"))
    other = Store(store.engine).acquire_lock("sync")
    with pytest.raises(LockLostError, match=r"^lost the run lock: another run took the 'sync' lock"):
        lock.heartbeat()
    with pytest.raises(LockLostError):
        lock.gate()
    lock.release()  # leaves the other run's lock alone
    with pytest.raises(LockHeldError):
        Store(store.engine).acquire_lock("sync")
    other.release()
    store.close()


@pytest.mark.postgres
def test_postgres_lease_of_a_run_cut_off_since_the_server_started_is_taken_over(
    postgres_database_url: str,
) -> None:
    """A lease of another host renewed since the server started, whose session is gone: that run
    was killed (or cut off: it finds its lock taken and stops), so the lock is free."""
    store = open_store(postgres_database_url)
    lock = store.acquire_lock("sync", owner="elsewhere:1234:abcd")
    pid = _backend_pid(lock)
    assert lock._connection is not None
    lock._connection.invalidate()  # the session ends without a word, as when the host dies
    _terminate(postgres_database_url, pid, signal=False)
    taken = Store(store.engine).acquire_lock("sync")
    with pytest.raises(LockLostError):
        lock.heartbeat()
    taken.release()
    store.close()
