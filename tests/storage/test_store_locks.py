"""The pipeline lock: PostgreSQL advisory locks, and an expiring lock row on SQLite."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from conftest import open_store

from edgar_ingest.errors import LockHeldError
from edgar_ingest.store import Store


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


@pytest.mark.postgres
def test_postgres_lock_of_a_crashed_session_is_released(postgres_database_url: str) -> None:
    store = open_store(postgres_database_url)
    lock = store.acquire_lock("sync")
    assert lock._connection is not None
    lock._connection.invalidate()  # the process died: its session, and the advisory lock, end
    store.acquire_lock("sync").release()
    store.close()


def test_sqlite_lock_of_a_killed_process_is_taken_over_at_once(sqlite_url: str) -> None:
    import subprocess
    import sys

    store = open_store(sqlite_url)
    script = (
        "import sys; from edgar_ingest.store import Store, create_engine_for;"
        "Store(create_engine_for(sys.argv[1])).acquire_lock('sync'); print('held')"
    )
    child = subprocess.run(
        [sys.executable, "-c", script, sqlite_url], capture_output=True, text=True, check=True
    )
    assert child.stdout.strip() == "held"  # the child exited without releasing its lock
    store.acquire_lock("sync").release()
    store.close()
