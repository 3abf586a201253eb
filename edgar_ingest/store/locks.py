"""Named locks that keep two runs from working at once: a PostgreSQL advisory lock, or on SQLite
a row in ``locks`` with an expiry and a heartbeat.
"""

from __future__ import annotations

import hashlib
import os
import socket
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Final

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from edgar_ingest.errors import LockHeldError
from edgar_ingest.store.base import StoreBase, _locks

DEFAULT_LOCK_TTL: Final = timedelta(minutes=10)


@dataclass
class Lock:
    """A held named lock; ``release`` it (or use it as a context manager)."""

    name: str
    owner: str
    _store: Locks
    _connection: Connection | None = None  # PostgreSQL: the session holding the advisory lock
    released: bool = field(default=False)

    def heartbeat(self) -> None:
        self._store.heartbeat_lock(self)

    def release(self) -> None:
        self._store.release_lock(self)

    def __enter__(self) -> Lock:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.release()


class Locks(StoreBase):
    """Acquire, heartbeat and release named locks."""

    # ------------------------------------------------------------------ locks

    def acquire_lock(self, name: str, *, owner: str | None = None, ttl: timedelta = DEFAULT_LOCK_TTL) -> Lock:
        """Take the named lock or raise ``LockHeldError``.

        PostgreSQL: a session-level advisory lock, held by a dedicated connection until released
        (a crashed process's connection ends, and the lock with it). SQLite: a row in ``locks``
        that expires ``ttl`` after the last heartbeat, so a crashed run cannot leave it stuck; a
        row whose owner was a process of this host that no longer exists is taken over at once.
        """
        owner = owner or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"  # see _owner_is_dead
        if self.dialect == "postgresql":
            conn = self.engine.connect()
            try:
                got = conn.scalar(sa.select(sa.func.pg_try_advisory_lock(_advisory_key(name))))
                conn.commit()
            except BaseException:
                conn.close()
                raise
            if not got:
                conn.close()
                raise LockHeldError(f"Another run holds the {name!r} lock; wait for it to finish.")
            return Lock(name=name, owner=owner, _store=self, _connection=conn)
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
        return Lock(name=name, owner=owner, _store=self)

    def heartbeat_lock(self, lock: Lock, *, ttl: timedelta = DEFAULT_LOCK_TTL) -> None:
        """Extend a SQLite lock; raises ``LockHeldError`` if it expired and another run took it."""
        if lock.released:
            raise LockHeldError(f"The {lock.name!r} lock was released.")
        if lock._connection is not None:
            lock._connection.execute(sa.select(1))  # keep the session (and its lock) alive
            lock._connection.commit()
            return
        now = self._now()
        with self._writer.begin() as conn:
            result = conn.execute(
                sa.update(_locks)
                .where(_locks.c.lock_name == lock.name, _locks.c.owner == lock.owner)
                .values(heartbeat_at=now, expires_at=now + ttl)
            )
            if result.rowcount == 0:
                raise LockHeldError(f"The {lock.name!r} lock expired and was taken by another run.")

    def release_lock(self, lock: Lock) -> None:
        if lock.released:
            return
        lock.released = True
        if lock._connection is not None:
            try:
                lock._connection.scalar(sa.select(sa.func.pg_advisory_unlock(_advisory_key(lock.name))))
                lock._connection.commit()
            finally:
                lock._connection.close()
            return
        with self._writer.begin() as conn:
            conn.execute(
                sa.delete(_locks).where(_locks.c.lock_name == lock.name, _locks.c.owner == lock.owner)
            )


def _owner_is_dead(owner: str) -> bool:
    """True when a lock owner ("host:pid:nonce") was a process of this host that has exited."""
    parts = owner.rsplit(":", 2)
    if len(parts) != 3 or os.name != "posix" or parts[0] != socket.gethostname():
        return False
    try:
        pid = int(parts[1])
    except ValueError:
        return False
    if pid == os.getpid() or pid <= 0:
        return False
    try:
        os.kill(pid, 0)  # signal 0: existence check only
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def _advisory_key(name: str) -> int:
    """A stable signed 64-bit key for pg_advisory_lock from a lock name."""
    return int.from_bytes(hashlib.sha256(f"edgar_ingest:{name}".encode()).digest()[:8], "big", signed=True)
