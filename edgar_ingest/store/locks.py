"""Named locks that keep two runs from working at once.

SQLite: a row in ``locks`` with an expiry that a heartbeat extends; a crashed run's row expires,
and the row of a process of this host that has exited is taken over at once.

PostgreSQL: a session advisory lock held on a dedicated connection (never a pooled one), and the
same ``locks`` row as a lease. The advisory lock ends with its session, so a killed process frees
it at once. But a server restart ends every session, the live run's too, and would free the lock
under a run that goes on fetching (issue 13: two backfills together broke the SEC's rate). So:

- A guard thread (:meth:`Lock.keep_alive`) watches the lock's socket. The server closing it
  (restart, terminated backend) is seen at once, and from then on :meth:`Lock.gate` holds every
  request of the run until the lock is taken back on a new session, or raises
  :class:`LockLostError` when it cannot be. It also extends the lease every ``interval_s``, which
  proves the session alive (a dedicated connection never reconnects behind our back).
- The lock is taken back only if the lease row is still this run's: nobody took it meanwhile.
- A run that gets the advisory lock but finds another owner's lease honours it while that owner
  may be alive and taking its lock back: when the lease was last renewed before the server
  (re)started, until it expires; when it is a live process of this host, always. It takes over
  a lease whose owner was cut off since the server started (killed, most likely) or has exited.
"""

from __future__ import annotations

import contextlib
import enum
import hashlib
import os
import select
import socket
import threading
import time
import uuid
from datetime import timedelta
from typing import Final

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from edgar_ingest.errors import LockHeldError, LockLostError
from edgar_ingest.store.base import StoreBase, _locks
from edgar_ingest.store.engine import create_session_engine

DEFAULT_LOCK_TTL: Final = timedelta(minutes=10)
_PID_KEY: Final = "edgar_ingest_backend_pid"  # in Connection.info: the session's server process
# The session holding an advisory lock taken with a bigint key (its two halves in classid, objid).
_ADVISORY_HOLDER: Final = sa.text(
    "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 1 "
    "AND ((classid::bigint << 32) | objid::bigint) = :key"
)
# How often a lock that lost its PostgreSQL session tries to take it back (until its lease ends).
RETAKE_EVERY_S: Final = 0.5
# Longest a request waits in ``gate`` before the client takes a fresh slot of its rate limiter.
GATE_WAIT_S: Final = 0.5


class _TryAgain(Exception):
    """Taking a lock back found the advisory lock held, but not by another owner (yet): by this
    lock's previous session, which the server has not seen end (it was told to end now), or by a
    run that is only looking and will back off on finding this lock's lease. Try again soon."""


class _State(enum.Enum):
    HELD = "held"
    RECOVERING = "recovering"  # the session may be gone: requests wait
    LOST = "lost"
    RELEASED = "released"


class Lock:
    """A held named lock; ``release`` it (or use it as a context manager).

    ``keep_alive`` starts the heartbeat (and on PostgreSQL the guard of its session); ``gate`` is
    what a client calls before each request (see :class:`edgar_ingest.http.EdgarClient`).
    """

    def __init__(
        self,
        name: str,
        owner: str,
        store: Locks,
        connection: Connection | None = None,
        ttl: timedelta = DEFAULT_LOCK_TTL,
    ) -> None:
        self.name = name
        self.owner = owner
        self.released = False
        self._store = store
        self._connection = connection  # PostgreSQL: the session holding the advisory lock
        self._session_pid: int | None = None if connection is None else connection.info.get(_PID_KEY)
        self._ttl = ttl
        self._mutex = threading.Lock()  # one user of the session at a time
        self._changed = threading.Condition()
        self._state = _State.HELD
        self._lost_reason: str | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._wake_r: int | None = None
        self._wake_w: int | None = None
        self._renewed_at = time.monotonic()  # the lease's last renewal, on this process's clock

    # ------------------------------------------------------------------ public

    @property
    def lost_reason(self) -> str | None:
        """Why the lock was lost ("lost the run lock: ..."), or None while it is held."""
        return self._lost_reason

    def heartbeat(self) -> None:
        self._store.heartbeat_lock(self)

    def release(self) -> None:
        self._store.release_lock(self)

    def gate(self) -> bool:
        """True when a request may leave now; False after a wait while the lock is being taken
        back (take a fresh rate-limiter slot and ask again); raises ``LockLostError`` once lost.

        Costs an attribute read while the lock is held.
        """
        if self._state is _State.HELD:
            return True
        with self._changed:
            if self._state is _State.RECOVERING:
                self._changed.wait(GATE_WAIT_S)
            if self._state is _State.LOST:
                raise LockLostError(self._lost_reason or "lost the run lock.")
            if self._state is _State.RELEASED:
                raise LockLostError(f"lost the run lock: the {self.name!r} lock was released.")
        return False

    def keep_alive(self, interval_s: float) -> None:
        """Heartbeat every ``interval_s`` on a daemon thread until released; on PostgreSQL also
        watch the session and take the lock back after a restart (see the module docstring)."""
        if self._thread is not None:
            return
        target = self._guard_session if self._connection is not None else self._beat_row
        if self._connection is not None:
            self._wake_r, self._wake_w = os.pipe()
        self._thread = threading.Thread(target=target, args=(interval_s,), name="lock-guard", daemon=True)
        self._thread.start()

    def __enter__(self) -> Lock:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.release()

    # ------------------------------------------------------------------ state

    def _set_state(self, state: _State, reason: str | None = None) -> None:
        with self._changed:
            if self._state in (_State.LOST, _State.RELEASED):
                return  # final
            self._state = state
            if reason is not None:
                self._lost_reason = reason
            self._changed.notify_all()

    def _stop_guard(self) -> None:
        self._stop.set()
        if self._wake_w is not None:
            os.write(self._wake_w, b"x")
        if self._thread is not None and self._thread is not threading.current_thread():
            # A take-back in progress ends within the connect timeout; past that the guard
            # closes what it got (it sees _stop).
            self._thread.join(timeout=15)
        for fd in (self._wake_r, self._wake_w):
            if fd is not None:
                os.close(fd)
        self._wake_r = self._wake_w = None

    # ------------------------------------------------------------------ SQLite

    def _beat_row(self, interval_s: float) -> None:
        while not self._stop.wait(interval_s):
            try:
                self.heartbeat()
            except LockHeldError as exc:
                if self.released:
                    return
                self._set_state(_State.LOST, f"lost the run lock: {exc}")
                return
            except Exception:  # a busy or briefly unreachable database: the next beat tries again
                continue

    # ------------------------------------------------------------------ PostgreSQL

    def _guard_session(self, interval_s: float) -> None:
        try:
            self._watch_session(interval_s)
        except Exception as exc:  # never leave a lock looking held that nobody guards
            why = f"{type(exc).__name__}: {exc}"
            self._set_state(_State.LOST, f"lost the run lock: its guard failed ({why}).")

    def _watch_session(self, interval_s: float) -> None:
        wake = self._wake_r
        assert wake is not None
        next_beat = time.monotonic() + interval_s
        while not self._stop.is_set():
            fd = self._session_fd()
            if fd is None:
                self._retake()
            else:
                timeout = max(0.0, next_beat - time.monotonic())
                ready, _, _ = select.select([wake, fd], [], [], timeout)
                if self._stop.is_set():
                    return
                if fd in ready:
                    # An idle session receives nothing unless the server ends it: hold the
                    # requests until the session is proved alive (or the lock taken back).
                    self._set_state(_State.RECOVERING)
                elif time.monotonic() < next_beat:
                    continue
                if self._renew():
                    self._set_state(_State.HELD)
                else:
                    self._retake()
            if self._state is _State.LOST:
                return
            next_beat = time.monotonic() + interval_s

    def _session_fd(self) -> int | None:
        with self._mutex:
            conn = self._connection
            if conn is None or conn.invalidated or conn.closed:
                return None
            try:
                fd: int = conn.connection.driver_connection.fileno()  # type: ignore[union-attr]
            except Exception:  # closed under us
                return None
            return fd

    def _renew(self) -> bool:
        """Extend the lease on the lock's own session: True when that session is alive."""
        with self._mutex:
            conn = self._connection
            if conn is None:
                return False
            try:
                mine = self._store._renew_lease(conn, self)
            except SQLAlchemyError:
                return False
        if not mine:  # someone deleted our row while we held the advisory lock: not ours to trust
            self._set_state(_State.LOST, f"lost the run lock: the {self.name!r} lock row was removed.")
            return True
        self._renewed_at = time.monotonic()
        return True

    def _retake(self) -> None:
        """The session is gone (or suspect): take the lock back on a new one, or give it up."""
        self._set_state(_State.RECOVERING)
        with self._mutex:
            old, self._connection = self._connection, None
        previous_pid = self._session_pid
        if old is not None:
            with contextlib.suppress(Exception):  # ends the old session for sure: nothing in it is trusted
                old.invalidate()
        deadline = self._renewed_at + self._ttl.total_seconds()
        while not self._stop.is_set() and time.monotonic() < deadline:
            try:
                taken = self._store._take_session(
                    self.name, self.owner, self._ttl, taking_back=True, previous_pid=previous_pid
                )
            except LockLostError as exc:
                self._set_state(_State.LOST, str(exc))
                return
            except (SQLAlchemyError, OSError, _TryAgain):  # the server is not back yet
                self._stop.wait(RETAKE_EVERY_S)
                continue
            with self._mutex:
                released = self._stop.is_set()
                if not released:
                    self._connection = taken
                    self._session_pid = taken.info.get(_PID_KEY)
            if released:  # released meanwhile: give this session back
                self._store._end_session(taken, self)
                return
            self._renewed_at = time.monotonic()
            self._set_state(_State.HELD)
            return
        if not self._stop.is_set():
            minutes = self._ttl.total_seconds() / 60
            self._set_state(
                _State.LOST,
                f"lost the run lock: the database could not be reached for {minutes:g} min to take "
                f"the {self.name!r} lock back after its session ended.",
            )


class Locks(StoreBase):
    """Acquire, heartbeat and release named locks."""

    _session_engine: Engine | None = None

    # ------------------------------------------------------------------ locks

    def acquire_lock(self, name: str, *, owner: str | None = None, ttl: timedelta = DEFAULT_LOCK_TTL) -> Lock:
        """Take the named lock or raise ``LockHeldError``.

        PostgreSQL: a session-level advisory lock held by a dedicated connection until released
        (a crashed process's connection ends, and the lock with it), and a lease row (see the
        module docstring). SQLite: a row in ``locks`` that expires ``ttl`` after the last
        heartbeat, so a crashed run cannot leave it stuck; a row whose owner was a process of this
        host that no longer exists is taken over at once.
        """
        owner = owner or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"  # see _owner_alive
        if self.dialect == "postgresql":
            conn = self._take_session(name, owner, ttl, taking_back=False)
            return Lock(name, owner, self, conn, ttl)
        now = self._now()
        with self._writer.begin() as conn:
            row = conn.execute(
                sa.select(_locks.c.owner, _locks.c.expires_at).where(_locks.c.lock_name == name)
            ).first()
            values = {"owner": owner, "acquired_at": now, "heartbeat_at": now, "expires_at": now + ttl}
            if row is None:
                conn.execute(sa.insert(_locks).values(lock_name=name, **values))
            elif row.expires_at <= now or row.owner == owner or _owner_is_dead(row.owner):
                conn.execute(sa.update(_locks).where(_locks.c.lock_name == name).values(values))
            else:
                raise LockHeldError(
                    f"Another run ({row.owner}) holds the {name!r} lock until "
                    f"{row.expires_at:%Y-%m-%d %H:%M:%S} UTC unless it heartbeats; wait for it to finish."
                )
        return Lock(name, owner, self, ttl=ttl)

    def heartbeat_lock(self, lock: Lock, *, ttl: timedelta | None = None) -> None:
        """Extend the lock. SQLite: raises ``LockHeldError`` if it expired and another run took it.
        PostgreSQL: renews the lease on the lock's session, taking the lock back on a new session
        if that one ended; raises ``LockLostError`` if it cannot."""
        if lock.released:
            raise LockHeldError(f"The {lock.name!r} lock was released.")
        if ttl is not None:
            lock._ttl = ttl
        if self.dialect == "postgresql":
            # With keep_alive running, its guard owns the session: only report what it found.
            if lock._thread is None and not lock._renew():
                lock._retake()
            if lock.lost_reason is not None:
                raise LockLostError(lock.lost_reason)
            return
        now = self._now()
        with self._writer.begin() as conn:
            result = conn.execute(
                sa.update(_locks)
                .where(_locks.c.lock_name == lock.name, _locks.c.owner == lock.owner)
                .values(heartbeat_at=now, expires_at=now + lock._ttl)
            )
            if result.rowcount == 0:
                raise LockHeldError(f"The {lock.name!r} lock expired and was taken by another run.")

    def release_lock(self, lock: Lock) -> None:
        if lock.released:
            return
        lock.released = True
        lock._stop_guard()
        lock._set_state(_State.RELEASED)
        if self.dialect != "postgresql":
            with self._writer.begin() as conn:
                conn.execute(
                    sa.delete(_locks).where(_locks.c.lock_name == lock.name, _locks.c.owner == lock.owner)
                )
            return
        with lock._mutex:
            session, lock._connection = lock._connection, None
        if session is not None:
            self._end_session(session, lock)
            return
        # The session was gone (lost, or the server still down): drop our lease if we can, so
        # that the next run need not wait for it to expire; a row of another owner stays.
        try:
            with self._writer.begin() as conn:
                conn.execute(
                    sa.delete(_locks).where(_locks.c.lock_name == lock.name, _locks.c.owner == lock.owner)
                )
        except SQLAlchemyError:
            pass

    # ------------------------------------------------------------------ PostgreSQL sessions

    def _take_session(
        self, name: str, owner: str, ttl: timedelta, *, taking_back: bool, previous_pid: int | None = None
    ) -> Connection:
        """A new dedicated session holding the advisory lock ``name`` and the lease of ``owner``.

        Raises ``LockHeldError`` (``LockLostError`` when ``taking_back``) when another run holds
        it or may still be running; database errors propagate. When taking back, the advisory
        lock held elsewhere is not yet a loss (``_TryAgain``) while our lease row is still ours:
        the holder is our own previous session ``previous_pid``, cut off but not yet ended on the
        server (it is told to end), or a run starting that will see the lease and back off.
        """
        if self._session_engine is None:
            self._session_engine = create_session_engine(self.engine)
        conn = self._session_engine.connect()
        key = _advisory_key(name)
        try:
            conn.info[_PID_KEY] = conn.scalar(sa.select(sa.func.pg_backend_pid()))
            if not conn.scalar(sa.select(sa.func.pg_try_advisory_lock(key))):
                if taking_back:
                    holder = conn.scalar(_ADVISORY_HOLDER, {"key": key})
                    if holder is not None and holder == previous_pid:
                        conn.scalar(sa.select(sa.func.pg_terminate_backend(holder)))
                    leased_to = conn.scalar(sa.select(_locks.c.owner).where(_locks.c.lock_name == name))
                    if holder is None or holder == previous_pid or leased_to == owner:
                        conn.rollback()
                        raise _TryAgain
                conn.rollback()
                if taking_back:
                    raise LockLostError(
                        f"lost the run lock: another run took the {name!r} lock while this run's "
                        "database session was down."
                    )
                raise LockHeldError(f"Another run holds the {name!r} lock; wait for it to finish.")
            refusal = _claim_lease(conn, name, owner, ttl, taking_back=taking_back)
            if refusal is not None:
                conn.rollback()
                conn.scalar(sa.select(sa.func.pg_advisory_unlock(key)))
                conn.commit()
                raise refusal
            conn.commit()
        except BaseException:
            conn.close()
            raise
        return conn

    def _renew_lease(self, conn: Connection, lock: Lock) -> bool:
        """Extend ``lock``'s lease on its session (server time); False when the row is not ours."""
        result = conn.execute(
            sa.update(_locks)
            .where(_locks.c.lock_name == lock.name, _locks.c.owner == lock.owner)
            .values(heartbeat_at=sa.func.now(), expires_at=sa.func.now() + lock._ttl)
        )
        conn.commit()
        return result.rowcount == 1

    def _end_session(self, conn: Connection, lock: Lock) -> None:
        """Drop the lease and the advisory lock, and close the session (which frees it anyway)."""
        try:
            conn.execute(
                sa.delete(_locks).where(_locks.c.lock_name == lock.name, _locks.c.owner == lock.owner)
            )
            conn.scalar(sa.select(sa.func.pg_advisory_unlock(_advisory_key(lock.name))))
            conn.commit()
        except SQLAlchemyError:
            pass  # the session is gone: so is the advisory lock; the lease row lapses
        finally:
            conn.close()


def _claim_lease(
    conn: Connection, name: str, owner: str, ttl: timedelta, *, taking_back: bool
) -> LockHeldError | LockLostError | None:
    """Write ``owner``'s lease under the advisory lock, or say why not (see the module docstring)."""
    row = conn.execute(
        sa.select(
            _locks.c.owner,
            _locks.c.expires_at,
            (_locks.c.expires_at <= sa.func.now()).label("expired"),
            (_locks.c.heartbeat_at >= sa.func.pg_postmaster_start_time()).label("since_start"),
        ).where(_locks.c.lock_name == name)
    ).first()
    lease = {"owner": owner, "heartbeat_at": sa.func.now(), "expires_at": sa.func.now() + ttl}
    if row is not None and row.owner == owner:
        conn.execute(sa.update(_locks).where(_locks.c.lock_name == name).values(lease))
        return None
    if taking_back:
        # No row: another run took the lock and released it meanwhile; another owner's row: it
        # holds or held it. Either way this run went on without the lock for a while.
        taker = f" ({row.owner})" if row is not None else ""
        return LockLostError(
            f"lost the run lock: another run{taker} took the {name!r} lock while this run's "
            "database session was down."
        )
    if row is None:
        conn.execute(sa.insert(_locks).values(lock_name=name, acquired_at=sa.func.now(), **lease))
        return None
    alive = _owner_alive(row.owner)
    if row.expired or alive is False or (row.since_start and alive is None):
        taken_over = sa.update(_locks).where(_locks.c.lock_name == name)
        conn.execute(taken_over.values(acquired_at=sa.func.now(), **lease))
        return None
    return LockHeldError(
        f"Another run ({row.owner}) holds the {name!r} lock: its database session ended"
        f"{'' if row.since_start else ' in a database restart'} and it may be taking the lock back; "
        f"wait for it to finish (or until {row.expires_at:%Y-%m-%d %H:%M:%S} UTC if it died)."
    )


def _owner_alive(owner: str) -> bool | None:
    """Whether a lock owner ("host:pid:nonce") is a live process: None when it is not of this host."""
    parts = owner.rsplit(":", 2)
    if len(parts) != 3 or os.name != "posix" or parts[0] != socket.gethostname():
        return None
    try:
        pid = int(parts[1])
    except ValueError:
        return None
    if pid == os.getpid():
        return True
    if pid <= 0:
        return None
    try:
        os.kill(pid, 0)  # signal 0: existence check only
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _owner_is_dead(owner: str) -> bool:
    """True when a lock owner ("host:pid:nonce") was a process of this host that has exited."""
    return _owner_alive(owner) is False


def _advisory_key(name: str) -> int:
    """A stable signed 64-bit key for pg_advisory_lock from a lock name."""
    return int.from_bytes(hashlib.sha256(f"edgar_ingest:{name}".encode()).digest()[:8], "big", signed=True)
