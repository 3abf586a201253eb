"""What every command that writes a ``runs`` row shares: how a run ends, and how a dead one is told.

- A run ends ``completed`` only when its work returned. Ctrl-C and SIGTERM end it
  ``interrupted``; a reader of its output that went away (``| head``) too; any other exception
  (a database error, a full disk, a bug) ends it ``failed`` with the error's first line.
- When the database cannot take the end of the run (the very error that ended it), one line on
  stderr says so and the error that ended the run is the one reported.
- ``ingest`` and ``reparse`` take no shared lock (they may run side by side), so each holds a lock
  of its own while it runs, named in its row's message: a later run that can take that lock knows
  the process is gone (kill -9, power) and marks the row ``abandoned``, and never marks a live one.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import sys
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from types import FrameType
from typing import Final

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

from edgar_ingest.errors import LockHeldError
from edgar_ingest.interrupts import in_uninterrupted_section
from edgar_ingest.records import RunCounts
from edgar_ingest.store import Lock, Store
from edgar_ingest.store.engine import troubled_error

INTERRUPTED: Final = "interrupted; run the same command again to resume"
OUTPUT_CLOSED: Final = "stopped: the reader of its output went away (broken pipe); run it again to resume"
ABANDONED: Final = "the process ended without finishing (killed?); a later run resumed"
RETRY_COMMAND: Final = "retry"  # failures --retry, in runs.command
OFFLINE_COMMANDS: Final = ("ingest", "reparse", RETRY_COMMAND)
# A stop signal that arrives inside a database transaction is sent again this much later.
SIGNAL_RETRY_S: Final = 0.02
SIGNAL_MAX_RETRIES: Final = 250  # ~5 s: past that, the stop goes through wherever the process is
LIVENESS_HEARTBEAT_S: Final = 60.0  # well inside the SQLite lock's 10-minute expiry
_LIVENESS_LOCK = re.compile(r"\(lock (run:[0-9a-f]{16})\)$")


def first_line(exc: BaseException) -> str:
    """The first line of an error (a driver's own message when SQLAlchemy wraps one); of the one
    it hides when that one says what is wrong with the database (a full disk, a lock)."""
    exc = troubled_error(exc) or exc
    orig = getattr(exc, "orig", None)
    text = str(orig if orig is not None else exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def ending(exc: BaseException) -> tuple[str, str]:
    """The status and message of a run that ``exc`` ended."""
    if isinstance(exc, KeyboardInterrupt):  # Ctrl-C, and SIGTERM (see stop_on_signals)
        return "interrupted", INTERRUPTED
    if isinstance(exc, BrokenPipeError):
        return "interrupted", OUTPUT_CLOSED
    return "failed", first_line(exc)


def finish_after_error(
    store: Store, run_id: int, counts: RunCounts | None, status: str, message: str
) -> None:
    """Record the end of a run that an exception ended, without hiding that exception.

    The database may be what failed (disk full, connection lost): then one line on stderr says
    the end could not be recorded, and the next run marks the row abandoned.
    """
    try:
        store.finish_run(run_id, counts, status=status, message=message)
    except Exception as exc:  # the caller re-raises the error that ended the run
        _say(f"edgar-ingest: run #{run_id} could not be recorded as {status}: {first_line(exc)}")


def _say(line: str) -> None:
    with suppress(OSError):  # stderr itself gone (a closed pipe): nothing left to tell
        print(line, file=sys.stderr)


# --------------------------------------------------------------------------- offline runs


@contextmanager
def offline_run(store: Store, command: str, counts: RunCounts | None = None) -> Iterator[int]:
    """The ``runs`` row of an ``ingest``, ``reparse`` or ``failures --retry``: started, kept
    alive, ended with the truth.

    Yields the run's id; its counts follow each stored batch, or are ``counts`` (kept by the body
    as it goes) when given. The body's exception ends the run (see :func:`ending`) and propagates.
    """
    abandon_dead_offline_runs(store)
    lock_name = f"run:{uuid.uuid4().hex[:16]}"
    lock = store.acquire_lock(lock_name)  # before the row exists: no one can think it dead
    try:
        owner = f"pid {os.getpid()} on {socket.gethostname()}"
        run_id = store.start_run(command, track_batches=True, message=f"{owner} (lock {lock_name})")
        stop = threading.Event()
        beat = threading.Thread(target=_beat, args=(lock, stop), name="run-heartbeat", daemon=True)
        beat.start()
        try:
            yield run_id
        except BaseException as exc:
            finish_after_error(store, run_id, counts, *ending(exc))
            raise
        finally:
            stop.set()
            beat.join(timeout=5)
    finally:
        with suppress(Exception):  # a lost database: its session (PostgreSQL) or expiry (SQLite) frees it
            lock.release()


def _beat(lock: Lock, stop: threading.Event) -> None:
    while not stop.wait(LIVENESS_HEARTBEAT_S):
        try:
            lock.heartbeat()
        except Exception:  # the run notices a lost database itself; keep beating quietly
            continue


def abandon_dead_offline_runs(store: Store) -> int:
    """Mark ``abandoned`` the ingest and reparse runs whose process is gone; returns how many.

    A live run holds the lock named in its row; a row whose lock can be taken has no process
    behind it. Rows that name no lock (written before runs held one) are left alone.
    """
    abandoned = 0
    for run_id, message in store.running_runs(OFFLINE_COMMANDS):
        found = _LIVENESS_LOCK.search(message or "")
        if found is None:
            continue
        try:
            lock = store.acquire_lock(found.group(1))
        except LockHeldError:
            continue  # alive
        try:
            abandoned += store.abandon_run(run_id, ABANDONED)
        finally:
            lock.release()
    return abandoned


# --------------------------------------------------------------------------- stopping


@contextmanager
def stop_on_signals(engine: Engine) -> Iterator[None]:
    """SIGTERM and Ctrl-C stop the run as ``KeyboardInterrupt`` in the main thread, within
    seconds wherever it waits (a fetch, a poll, a 600 s block pause), but never inside a
    transaction: a scheduler stopping the job gets the same clean stop as Ctrl-C.

    A long-running process writes again after the stop (the runs it closes, the lock it frees):
    an interrupt between a write transaction's BEGIN and the return of its connection could leave
    SQLite's write lock held, and those writes would then wait out the busy timeout. So while the
    main thread is in a transaction, or in a section that writes and then counts what it wrote
    (``interrupts.uninterrupted``), the signal is sent again a moment later; either lasts
    milliseconds. Only the first signal counts: the stop that follows is not interrupted again.
    """
    main = threading.get_ident()
    depth = 0
    stopping = False
    retries = 0
    closed = threading.Event()  # once set, a signal pending re-delivery is dropped

    def began(_conn: Connection) -> None:
        nonlocal depth
        if threading.get_ident() == main:
            depth += 1

    def ended(_conn: Connection) -> None:
        nonlocal depth
        if threading.get_ident() == main:
            depth = max(0, depth - 1)

    def stop(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping, retries
        if stopping:
            return
        if (depth > 0 or in_uninterrupted_section()) and retries < SIGNAL_MAX_RETRIES:
            retries += 1
            threading.Timer(SIGNAL_RETRY_S, _resend, (signum, closed)).start()
            return
        stopping = True
        raise KeyboardInterrupt

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    listeners = (("begin", began), ("commit", ended), ("rollback", ended))
    for name, listener in listeners:
        event.listen(engine, name, listener)
    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        closed.set()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        for name, listener in listeners:
            event.remove(engine, name, listener)


def _resend(signum: int, closed: threading.Event) -> None:
    if not closed.is_set():
        os.kill(os.getpid(), signum)
