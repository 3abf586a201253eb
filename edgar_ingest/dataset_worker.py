"""An archive's rows read and prepared in a worker process while the store writes.

A data-set load is Python from end to end: reading the archive (``datasets``) and preparing each
filing's rows (``store.prepare``: digests, checks, binding) take about as long as the database's
writing of them, and one process runs its Python on one core at a time. So a load runs the
reading and preparing in a second process (this module, ``python -m edgar_ingest.dataset_worker``)
and writes in its own: the two overlap on two cores, and the filings cross the pipe as plain rows
(``PreparedFiling``: tuples of str, int, None and dates; pickling those costs ~13 us a filing where
pickling the records themselves would cost ~70).

The worker only reads the archive file and writes to its standard output; it never opens the
database. What it writes are frames (8-byte length, then a pickle) of messages, in order:

- ``("items", [PreparedFiling | DatasetRowFailure | DatasetNotice, ...])``: up to ``batch_size``
  filings with the failures and notices met among them, in the archive's order;
- ``("archive_error", reason)``: the archive cannot be read as a whole (``DatasetArchiveError``),
  sent before any item, as ``read_dataset_archive`` raises it before yielding anything;
- ``("error", reason)``: anything else went wrong (a bug): the load stops with that reason;
- ``("end", peak_rss_kib)``: everything was sent.

The worker ignores Ctrl-C and SIGTERM: the loading process decides when a load stops, and then
closes the pipe and kills the worker (a worker whose loader died gets a broken pipe and exits).
"""

from __future__ import annotations

import json
import os
import pickle
import queue
import resource
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import IO, Any, Final

import edgar_ingest
from edgar_ingest.datasets import DatasetArchiveError, DatasetNotice, DatasetRowFailure

_LENGTH_BYTES: Final = 8
# Ask for a pipe that holds a whole batch (~0.8 MB), so that the worker prepares the next batch
# while the loader takes this one; Linux grants up to /proc/sys/fs/pipe-max-size (1 MiB).
_PIPE_BYTES: Final = 1 << 20

PreparedItem = Any  # PreparedFiling | DatasetRowFailure | DatasetNotice (kept loose: a pickle)


class DatasetWorkerError(RuntimeError):
    """The worker reading an archive stopped without finishing (the reason says why)."""


@dataclass(frozen=True, slots=True)
class ArchiveJob:
    """What a worker reads: one archive file, the filing dates wanted, how to prepare rows."""

    path: Path
    archive_name: str
    start: date | None
    end: date | None
    dialect: str  # SQLAlchemy's "name+driver", e.g. "sqlite+pysqlite", "postgresql+psycopg"
    sha256: str  # of the archive: the key of a filing without accession number (none has one)
    batch_size: int

    def to_json(self) -> str:
        return json.dumps(
            {
                "path": str(self.path),
                "archive_name": self.archive_name,
                "start": self.start.isoformat() if self.start else None,
                "end": self.end.isoformat() if self.end else None,
                "dialect": self.dialect,
                "sha256": self.sha256,
                "batch_size": self.batch_size,
            }
        )

    @classmethod
    def from_json(cls, text: str) -> ArchiveJob:
        data = json.loads(text)
        return cls(
            path=Path(data["path"]),
            archive_name=data["archive_name"],
            start=date.fromisoformat(data["start"]) if data["start"] else None,
            end=date.fromisoformat(data["end"]) if data["end"] else None,
            dialect=data["dialect"],
            sha256=data["sha256"],
            batch_size=int(data["batch_size"]),
        )


# ----------------------------------------------------------------------------- the loader's side


class PreparedArchive:
    """The worker of one archive, seen from the loading process: ``batches()`` yields what it sends.

    Use as a context manager: leaving it (at the end, on an error, on Ctrl-C) closes the pipe and
    kills a worker that is still running, so no worker outlives its load.
    """

    def __init__(self, job: ArchiveJob) -> None:
        self._job = job
        self._stderr: IO[bytes] | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self.peak_rss_kib = 0  # the worker's, once it has ended

    def __enter__(self) -> PreparedArchive:
        self._stderr = tempfile.TemporaryFile()
        package_root = str(Path(edgar_ingest.__file__).resolve().parent.parent)
        env = dict(os.environ)
        # The worker imports the very package the loader runs (a checkout, a bench's sys.path).
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_root, env.get("PYTHONPATH")]))
        self._process = subprocess.Popen(
            [sys.executable, "-m", "edgar_ingest.dataset_worker", self._job.to_json()],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            env=env,
        )
        assert self._process.stdout is not None
        _grow_pipe(self._process.stdout.fileno())
        return self

    def batches(self, *, read_ahead: bool = False) -> Iterator[list[PreparedItem]]:
        """The worker's batches, in the archive's order.

        With ``read_ahead`` a thread takes the next batch off the pipe (and unpickles it, ~27 us
        a filing) while the caller stores this one: worth it when storing mostly waits for a
        database server. Raises ``DatasetArchiveError`` when the archive cannot be read as a
        whole (before any batch), ``DatasetWorkerError`` when the worker fails or dies.
        """
        assert self._process is not None
        assert self._process.stdout is not None
        stream = self._process.stdout
        messages = _read_ahead(stream) if read_ahead else iter(lambda: _read_frame(stream), _NO_FRAME)
        for message in messages:
            if message is None:
                raise DatasetWorkerError(self._died())
            kind, payload = message
            if kind == "items":
                yield payload
            elif kind == "end":
                self.peak_rss_kib = int(payload)
                return
            elif kind == "archive_error":
                raise DatasetArchiveError(str(payload))
            else:
                raise DatasetWorkerError(f"reading {self._job.archive_name} failed: {payload}")

    def _died(self) -> str:
        assert self._process is not None
        assert self._stderr is not None
        code = self._process.wait()
        self._stderr.seek(0)
        lines = self._stderr.read().decode("utf-8", "replace").strip().splitlines()
        last = f": {lines[-1]}" if lines else ""
        return f"the process reading {self._job.archive_name} stopped (exit code {code}){last}"

    def __exit__(self, *_exc: object) -> None:
        process = self._process
        if process is not None:
            if process.stdout is not None:
                process.stdout.close()
            if process.poll() is None:
                process.kill()
            process.wait()
        if self._stderr is not None:
            self._stderr.close()


# Batches taken off the pipe and waiting for the loader (~1.5 MB each): room for the worker to
# run ahead while the database is slower for a moment (an index page split, a checkpoint).
_READ_AHEAD: Final = 2
_NO_FRAME: Final = ("", None)  # never read: ``_read_frame`` gives a message or None


def _read_ahead(stream: IO[bytes]) -> Iterator[tuple[str, Any] | None]:
    """The messages of ``stream`` as ``_read_frame`` gives them, read one ahead on a thread.

    The thread stops after the end of the stream (None) or an "end" message; it is a daemon,
    blocked at most on a pipe that the loader closes when it leaves (``__exit__``).
    """
    ready: queue.Queue[tuple[str, Any] | BaseException | None] = queue.Queue(maxsize=_READ_AHEAD)

    def read() -> None:
        while True:
            try:
                message = _read_frame(stream)
            except BaseException as exc:  # a closed pipe when the loader left early: it is gone
                ready.put(exc)
                return
            ready.put(message)
            if message is None or message[0] != "items":
                return

    threading.Thread(target=read, name="dataset-worker-reader", daemon=True).start()
    while True:
        message = ready.get()
        if isinstance(message, BaseException):
            raise message
        yield message
        if message is None or message[0] != "items":
            return


def _grow_pipe(fd: int) -> None:
    try:
        import fcntl

        fcntl.fcntl(fd, getattr(fcntl, "F_SETPIPE_SZ", 1031), _PIPE_BYTES)
    except (ImportError, OSError):
        pass  # a smaller pipe only means less read-ahead


def _read_frame(stream: IO[bytes]) -> tuple[str, Any] | None:
    """The next message, or None at the end of the stream (the worker is gone)."""
    head = _read_exactly(stream, _LENGTH_BYTES)
    if head is None:
        return None
    body = _read_exactly(stream, int.from_bytes(head, "big"))
    if body is None:
        return None
    # The worker is our own process, started with our own code: its pickles are trusted.
    message: tuple[str, Any] = pickle.loads(body)
    return message


def _read_exactly(stream: IO[bytes], size: int) -> bytes | None:
    data = stream.read(size)
    return data if len(data) == size else None


# ----------------------------------------------------------------------------- the worker's side


def _send(out: IO[bytes], message: tuple[str, Any]) -> None:
    body = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    out.write(len(body).to_bytes(_LENGTH_BYTES, "big"))
    out.write(body)
    out.flush()


def _work(job: ArchiveJob, out: IO[bytes]) -> None:
    import gc

    import sqlalchemy as sa

    from edgar_ingest.datasets import read_dataset_archive
    from edgar_ingest.records import FormDFiling
    from edgar_ingest.store.prepare import FilingPreparer, describe_error

    # Millions of short-lived objects, freed by reference counting (see ``bulk``).
    gc.set_threshold(100_000, 50, 1_000)
    preparer = FilingPreparer(sa.engine.URL.create(job.dialect).get_dialect()())
    items = read_dataset_archive(job.path, archive_name=job.archive_name, start=job.start, end=job.end)
    batch: list[Any] = []  # FormDFiling | DatasetRowFailure | DatasetNotice, in order
    filings = 0

    def send_batch() -> None:
        prepared = iter(preparer.prepare_many([(i, job.sha256) for i in batch if isinstance(i, FormDFiling)]))
        _send(out, ("items", [next(prepared) if isinstance(i, FormDFiling) else i for i in batch]))

    try:
        for item in items:
            batch.append(item)
            if isinstance(item, FormDFiling):
                filings += 1
                if filings == job.batch_size:
                    send_batch()
                    batch, filings = [], 0
            else:
                assert isinstance(item, DatasetRowFailure | DatasetNotice)
        if batch:
            send_batch()
    except DatasetArchiveError as exc:
        _send(out, ("archive_error", str(exc)))
        return
    except (BrokenPipeError, KeyboardInterrupt):
        raise
    except Exception as exc:
        _send(out, ("error", describe_error(exc)))
        return
    _send(out, ("end", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print(
            "usage: python -m edgar_ingest.dataset_worker JOB_JSON (started by a data-set load)",
            file=sys.stderr,
        )
        return 2
    # The loader decides when to stop; it then closes the pipe and kills this process.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    out = sys.stdout.buffer
    try:
        _work(ArchiveJob.from_json(args[0]), out)
    except BrokenPipeError:
        os._exit(0)  # the loader is gone: nobody is left to tell
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
