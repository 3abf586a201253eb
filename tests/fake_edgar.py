"""A fake EDGAR HTTP server of our own, on 127.0.0.1, for integration and end-to-end tests.

It serves both EDGAR hosts from one in-memory mapping ``path -> bytes`` (``/Archives/...`` for the
archive host, ``/submissions/...`` for the data API), so point both
``EDGAR_INGEST_BASE_URL`` and ``EDGAR_INGEST_DATA_URL`` at :attr:`FakeEdgar.url`.

Behaviour, like the real thing (DESIGN.md section 1):

- a known path answers 200; HTTP/1.1 keep-alive; the body is gzip-encoded
  (``Content-Encoding: gzip``) when the client accepts it, as the SEC does, except ``.zip``
  archives, which go as they are (``application/zip``; compressing a compressed file gains
  nothing, and CDNs do not); a body is compressed once per content, not once per request, and
  written in pieces of 256 KiB, so archives of tens of MB are cheap to serve again and again;
- an unknown path answers **403 with the S3 ``AccessDenied`` XML body** (``missing_status=404``
  mimics the mirrors that answer 404 instead);
- every request is logged with its arrival time (``time.monotonic()``, taken when the request line
  has been read, before any latency or fault), so tests can assert
  ``server.max_requests_in_any_sliding_second() <= rate``;
- the latest-filings feed (``/cgi-bin/browse-edgar?action=getcurrent...&output=atom``) is absent
  until :meth:`FakeEdgar.add_feed_entries` is called; then it lists every entry added so far,
  newest acceptance first, ``count`` entries from ``start`` (both read from the query), as an
  Atom page in EDGAR's format (see :func:`feed_page`); faults injected for ``FEED_PATH`` apply;
- a 200 of a known file carries an ``ETag`` (from its content) and a ``Last-Modified`` (when it
  was added); a GET whose ``If-None-Match`` names the ETag, or, without one, whose
  ``If-Modified-Since`` is not older than that time, answers ``304 Not Modified`` without a body
  (logged as ``"304"``), unless ``conditional_get`` is False (a server that ignores them);
- optional ``enforce_rate``: like the SEC, answer the 403 "Request Rate Threshold Exceeded" page
  to every request that makes some closed one-second window hold more than that many requests.

API::

    with FakeEdgar(latency=0.1) as server:           # or the ``fake_edgar`` pytest fixture
        server.add("/Archives/edgar/data/1/0000000001-24-000001.txt", b"...")
        server.add_tree(Path("dir"))                 # every file, path = "/" + relative path
        server.add_filing(cik, accession, content)   # /Archives/edgar/data/{cik}/{acc}.txt
        server.add_daily_index(day, content)         # /Archives/edgar/daily-index/.../master.YYYYMMDD.idx
        server.add_submissions(cik, content)         # /submissions/CIK##########.json
        server.add_dataset_page(html)                # the Form D data sets' index page
        server.add_dataset_archive(name, content)    # /files/.../form-d-data-sets/{name}
        server.add_feed_entries([FeedItem(...), ...]) # the latest-filings feed (newest first, paged
                                                     # by start= and count=, like EDGAR's)
        server.feed_requests()                       # the start= of each feed request, in order
        server.inject(path, ["503", "429:2", "reset", "truncate", "corrupt", "slow:0.5", "block403"])
        server.latency = 0.05                        # seconds added to every answer
        server.url                                   # http://127.0.0.1:PORT
        server.requests                              # [RequestRecord(time, path, headers, answer)]
        server.count(path), server.arrival_times(), server.max_requests_in_any_sliding_second()
        server.block_pages_served, server.reset_log()

Faults given to :meth:`FakeEdgar.inject` apply in order to the successive requests for that path
(one fault per request); then the path is served normally again:

``"503"``, ``"500"``, any ``"5xx"``           that status, small HTML body
``"503:N"``                                  that status with ``Retry-After: N``
``"429:N"``                                  429 with ``Retry-After: N`` (a transient throttle)
``"429"`` or ``"block429"``                  429 without Retry-After, the block page
``"block403"``                               403 "Request Rate Threshold Exceeded" page
``"ua403"``                                  403 "Undeclared Automated Tool" page
``"absent"``/``"403"``, ``"404"``            the missing-file answers, even for a known path
``"reset"``                                  the connection is reset (RST) without an answer
``"truncate"``                               Content-Length of the whole body, half of it sent,
                                             connection closed
``"reset-mid"``                              Content-Length of the whole body, half of it sent,
                                             then the connection is reset (RST)
``"cut"``                                    a well-formed 200 of the first half of the body
                                             (a document cut off without transport evidence)
``"corrupt"``                                a well-formed 200 of the right length with 16 bytes
                                             in the middle flipped (a damaged archive: only its
                                             CRCs can tell)
``"nolength"``                               200 without Content-Length: the whole body, then the
                                             connection is closed (the end of the body is the end
                                             of the connection)
``"slow:S"``                                 wait S seconds, then answer normally
``"drip:S"``                                 answer at once, but send the body in pieces of
                                             64 KiB with S seconds between two pieces
``"ok"``                                     answer normally (a placeholder)

As a subprocess (for CLI end-to-end tests)::

    python -m tests.fake_edgar --port 0 --root DIR [--latency 0.1] [--enforce-rate 10]

serves the files under DIR and prints its URL on the first line of stdout; SIGTERM stops it.
"""

from __future__ import annotations

import argparse
import email.utils
import gzip
import hashlib
import json
import signal
import socket
import struct
import sys
import threading
import time
from collections import defaultdict, deque
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

import pytest

from edgar_ingest.discover import DATASETS_PAGE_PATH

ACCESS_DENIED_BODY = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b"<Error><Code>AccessDenied</Code><Message>Access Denied</Message>"
    b"<RequestId>FAKE0000</RequestId><HostId>fake-edgar</HostId></Error>"
)
BLOCK_PAGE = (
    b"<!DOCTYPE html><html><head><title>SEC.gov | Request Rate Threshold Exceeded</title></head>"
    b"<body><h1>Your Request Originates from an Undeclared Automated Tool</h1>"
    b"<p>Request Rate Threshold Exceeded</p><p>To allow for equitable access to all users, SEC "
    b"reserves the right to limit requests originating from undeclared automated tools.</p>"
    b"</body></html>"
)
# Like the real one, the block page's heading also names "Undeclared Automated Tool": the client
# must tell the two pages apart by the "Request Rate Threshold Exceeded" phrase.
UNDECLARED_PAGE = (
    b"<!DOCTYPE html><html><head><title>SEC.gov | Your Request Originates from an Undeclared "
    b"Automated Tool</title></head><body><h1>Your Request Originates from an Undeclared Automated "
    b"Tool</h1><p>Please declare your traffic by updating your user agent to include company "
    b"specific information.</p></body></html>"
)
FEED_PATH = "/cgi-bin/browse-edgar"
# Where the data sets' archives live since 2026 (before: /files/structureddata/data/...).
DATASETS_FOLDER = "/files/datastandardsinnovation/data/form-d-data-sets/"
_PIECE = 256 * 1024  # bytes per write of a body
_DRIP_PIECE = 64 * 1024


@dataclass(frozen=True, slots=True)
class RequestRecord:
    time: float  # time.monotonic() at arrival
    path: str
    headers: Mapping[str, str]
    answer: str  # "200", "403-absent", a fault name, "403-enforced", ...
    query: str = ""  # the query string, without "?"


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    owner: FakeEdgar

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients that time out or get reset leave broken pipes behind: expected, not noise.
        pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as a real client pool expects
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self.server.owner._handle(self)


class FakeEdgar:
    """The fake server (see the module docstring)."""

    def __init__(
        self,
        files: Mapping[str, bytes] | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        latency: float = 0.0,
        enforce_rate: float | None = None,
        gzip_responses: bool = True,
        missing_status: int = 403,
    ) -> None:
        self._lock = threading.Lock()
        self._files: dict[str, bytes] = {}
        self._validators: dict[str, tuple[str, float]] = {}  # path -> (ETag, when added)
        self.conditional_get = True
        self._faults: dict[str, deque[str]] = defaultdict(deque)
        # path -> (the content compressed, its gzip copy): compressing 40 MB takes ~0.85 s.
        self._gzipped: dict[str, tuple[bytes, bytes]] = {}
        self._log: list[RequestRecord] = []
        self.latency = latency
        self.enforce_rate = enforce_rate
        self.gzip_responses = gzip_responses
        self.missing_status = missing_status
        self.block_pages_served = 0
        # Cleared, every answer waits until it is set again (at most a minute): a test holds a
        # run in the middle of its work, whatever the machine's load, instead of racing it.
        self.answering = threading.Event()
        self.answering.set()
        self._feed: list[FeedItem] | None = None  # newest first; None: the feed is absent
        for path, content in (files or {}).items():
            self.add(path, content)
        self._server = _Server((host, port), _Handler)
        self._server.owner = self
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ lifecycle

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> FakeEdgar:
        # A short poll interval: shutdown() waits for it, and tests start and stop many servers.
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.02,), name="fake-edgar", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(5)
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> FakeEdgar:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------------ content

    def add(self, path: str, content: bytes) -> None:
        """Serve ``content`` at ``path`` (replacing what was there: a new ETag and Last-Modified)."""
        key = "/" + path.lstrip("/")
        etag = '"' + hashlib.sha256(content).hexdigest()[:20] + '"'
        with self._lock:
            self._files[key] = content
            self._validators[key] = (etag, time.time())

    def add_tree(self, root: Path) -> int:
        """Serve every file under ``root`` at ``/`` + its relative path; returns the count."""
        count = 0
        for file in sorted(root.rglob("*")):
            if file.is_file():
                self.add("/" + file.relative_to(root).as_posix(), file.read_bytes())
                count += 1
        return count

    def add_filing(self, cik: str | int, accession: str, content: bytes) -> str:
        path = f"/Archives/edgar/data/{int(cik)}/{accession}.txt"
        self.add(path, content)
        return path

    def add_daily_index(self, day: date, content: bytes, kind: str = "master") -> str:
        quarter = (day.month - 1) // 3 + 1
        path = f"/Archives/edgar/daily-index/{day.year}/QTR{quarter}/{kind}.{day:%Y%m%d}.idx"
        self.add(path, content)
        return path

    def add_quarterly_index(self, year: int, quarter: int, content: bytes, *, gz: bool = True) -> str:
        path = f"/Archives/edgar/full-index/{year}/QTR{quarter}/master.idx"
        if gz:
            path += ".gz"
            content = gzip.compress(content)
        self.add(path, content)
        return path

    def add_submissions(
        self, cik: str | int, content: bytes | Mapping[str, Any], page: str | None = None
    ) -> str:
        """The submissions document of a CIK, or one of its older pages (``page`` = file name)."""
        body = content if isinstance(content, bytes) else json.dumps(content).encode()
        path = f"/submissions/{page}" if page else f"/submissions/CIK{int(cik):010d}.json"
        self.add(path, body)
        return path

    def add_dataset_page(self, html: bytes) -> str:
        """The Form D data sets' index page (absent until added: 403 ``AccessDenied``)."""
        self.add(DATASETS_PAGE_PATH, html)
        return DATASETS_PAGE_PATH

    def add_dataset_archive(self, name: str, content: bytes, *, folder: str = DATASETS_FOLDER) -> str:
        """An archive of the data sets at ``folder + name``; returns its path."""
        path = "/" + folder.strip("/") + "/" + name
        self.add(path, content)
        return path

    def add_feed_entries(self, items: Iterable[FeedItem]) -> None:
        """New entries of the latest-filings feed (it lists them newest acceptance first)."""
        with self._lock:
            feed = (self._feed or []) + list(items)
            # Stable: entries accepted at the same second (a co-issued filing's) keep their order.
            self._feed = sorted(feed, key=lambda item: item.accepted_at, reverse=True)

    def feed_requests(self) -> list[int]:
        """The ``start=`` of each feed request so far, in arrival order (0: a poll's first page)."""
        return [int(parse_qs(r.query).get("start", ["0"])[0]) for r in self.requests if r.path == FEED_PATH]

    def inject(self, path: str, faults: Iterable[str]) -> None:
        with self._lock:
            self._faults["/" + path.lstrip("/")].extend(faults)

    # ------------------------------------------------------------------ the request log

    @property
    def requests(self) -> list[RequestRecord]:
        with self._lock:
            return list(self._log)

    def reset_log(self) -> None:
        with self._lock:
            self._log.clear()
            self.block_pages_served = 0

    def count(self, path: str | None = None) -> int:
        return len(self.arrival_times(path))

    def arrival_times(self, path: str | None = None) -> list[float]:
        return [r.time for r in self.requests if path is None or r.path == path]

    def max_requests_in_any_sliding_second(self, window: float = 1.0) -> int:
        """Most requests that arrived within any closed window ``[t, t + window]``."""
        return _max_in_window(self.arrival_times(), window)

    # ------------------------------------------------------------------ serving

    def _handle(self, handler: _Handler) -> None:
        arrived = time.monotonic()
        path, _, query = handler.path.partition("?")
        with self._lock:
            queue = self._faults.get(path)
            fault = queue.popleft() if queue else "ok"
            content = self._files.get(path)
            if path == FEED_PATH and self._feed is not None:
                content = _feed_answer(self._feed, query)
            enforced = False
            if self.enforce_rate is not None:
                recent = [r.time for r in self._log if arrived - r.time <= 1.0]
                enforced = len(recent) + 1 > self.enforce_rate
            answer = "403-enforced" if enforced else fault
            validators = self._validators.get(path) if content is not None else None
            if fault in ("ok", "slow") and validators and self._unchanged(handler, *validators):
                answer = fault = "304"
            self._log.append(RequestRecord(arrived, path, dict(handler.headers.items()), answer, query))
            if enforced or fault in ("block403", "block429", "429"):
                self.block_pages_served += 1
        self.answering.wait(timeout=60)
        delay = self.latency
        if fault.startswith("slow:"):
            delay += float(fault.split(":", 1)[1])
        if delay > 0:
            time.sleep(delay)
        if enforced:
            self._send(handler, 403, BLOCK_PAGE, "text/html")
            return
        kind, _, arg = fault.partition(":")
        if kind == "reset":
            self._reset(handler)
        elif kind in ("block403",):
            self._send(handler, 403, BLOCK_PAGE, "text/html")
        elif kind in ("block429",) or (kind == "429" and not arg):
            self._send(handler, 429, BLOCK_PAGE, "text/html")
        elif kind == "429":
            self._send(handler, 429, b"Too Many Requests", "text/plain", {"Retry-After": arg})
        elif kind == "ua403":
            self._send(handler, 403, UNDECLARED_PAGE, "text/html")
        elif kind in ("absent", "403"):
            self._send(handler, 403, ACCESS_DENIED_BODY, "application/xml")
        elif kind == "404":
            self._send(handler, 404, b"Not Found", "text/plain")
        elif kind.isdigit() and kind.startswith("5"):
            extra = {"Retry-After": arg} if arg else {}
            self._send(handler, int(kind), b"<html>Service Unavailable</html>", "text/html", extra)
        elif content is None:
            if self.missing_status == 404:
                self._send(handler, 404, b"Not Found", "text/plain")
            else:
                self._send(handler, 403, ACCESS_DENIED_BODY, "application/xml")
        elif kind == "truncate":
            self._send(handler, 200, content, _content_type(path), truncate=True, path=path)
        elif kind == "reset-mid":
            self._send(handler, 200, content, _content_type(path), truncate=True, path=path)
            self._reset(handler)
        elif kind == "cut":
            self._send(handler, 200, content[: len(content) // 2], _content_type(path))
        elif kind == "corrupt":
            self._send(handler, 200, _flip_middle(content), _content_type(path))
        elif kind == "nolength":
            self._send(handler, 200, content, _content_type(path), path=path, length=False)
        elif kind == "drip":
            self._send(handler, 200, content, _content_type(path), path=path, drip=float(arg))
        elif kind == "304":
            self._send(handler, 304, b"", _content_type(path), length=False, closes=False)
        elif kind in ("ok", "slow"):
            extra: dict[str, str] = {}
            if validators is not None:  # a file added (the feed is built for each request)
                etag, added = validators
                extra = {"ETag": etag, "Last-Modified": email.utils.formatdate(added, usegmt=True)}
            self._send(handler, 200, content, _content_type(path), extra, path=path)
        else:
            raise ValueError(f"unknown fault {fault!r} for {path}")

    def _send(
        self,
        handler: _Handler,
        status: int,
        body: bytes,
        content_type: str,
        extra: Mapping[str, str] | None = None,
        *,
        truncate: bool = False,
        path: str | None = None,
        length: bool = True,
        drip: float = 0.0,
        closes: bool | None = None,
    ) -> None:
        """One answer. ``path``: ``body`` is that file's content, so its gzip copy is reusable."""
        encoding = None
        if (
            self.gzip_responses
            and "gzip" in handler.headers.get("Accept-Encoding", "")
            and body
            and content_type != "application/zip"
        ):
            body = self._gzip(body, path)
            encoding = "gzip"
        view = memoryview(body)  # slices of a view copy nothing (bodies of tens of MB)
        sent = view[: len(body) // 2] if truncate else view
        if closes is None:  # without a length, the end of the body is the end of the connection
            closes = truncate or not length
        try:
            handler.send_response(status)
            handler.send_header("Content-Type", content_type)
            if length:
                handler.send_header("Content-Length", str(len(body)))
            if encoding:
                handler.send_header("Content-Encoding", encoding)
            for name, value in (extra or {}).items():
                handler.send_header(name, value)
            if closes:
                handler.send_header("Connection", "close")
            handler.end_headers()
            piece = _DRIP_PIECE if drip else _PIECE
            for start in range(0, len(sent), piece):
                if drip and start:
                    handler.wfile.flush()
                    time.sleep(drip)
                handler.wfile.write(sent[start : start + piece])
            handler.wfile.flush()
        except OSError:
            handler.close_connection = True
            return
        if closes:
            handler.close_connection = True

    def _unchanged(self, handler: _Handler, etag: str, added: float) -> bool:
        """Whether a conditional GET finds the file as the client holds it (RFC 9110 13.1)."""
        if not self.conditional_get:
            return False
        if_none_match = handler.headers.get("If-None-Match")
        if if_none_match is not None:
            tags = [tag.strip() for tag in if_none_match.split(",")]
            return "*" in tags or etag in tags or f"W/{etag}" in tags
        if_modified_since = handler.headers.get("If-Modified-Since")
        if if_modified_since is None:
            return False
        try:
            since = email.utils.parsedate_to_datetime(if_modified_since).timestamp()
        except (TypeError, ValueError):
            return False  # an invalid date is ignored, as the RFC says
        return int(added) <= since

    def _gzip(self, body: bytes, path: str | None) -> bytes:
        if path is None:
            return gzip.compress(body, mtime=0)
        with self._lock:
            cached = self._gzipped.get(path)
        if cached is not None and cached[0] is body:
            return cached[1]
        compressed = gzip.compress(body, mtime=0)
        with self._lock:
            self._gzipped[path] = (body, compressed)
        return compressed

    @staticmethod
    def _reset(handler: _Handler) -> None:
        # SO_LINGER with a zero timeout turns close() into a TCP RST: "connection reset by peer".
        sock: socket.socket = handler.connection
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        handler.close_connection = True
        sock.close()


def _content_type(path: str) -> str:
    if path.endswith(".json"):
        return "application/json"
    if path.endswith(".gz"):
        return "application/x-gzip"
    if path.lower().endswith(".zip"):
        return "application/zip"
    if path == DATASETS_PAGE_PATH:
        return "text/html"
    if path == FEED_PATH:
        return "application/atom+xml"
    return "text/plain"


def _flip_middle(content: bytes, count: int = 16) -> bytes:
    """The same length, with ``count`` bytes in the middle inverted."""
    start = max(0, len(content) // 2 - count // 2)
    end = min(len(content), start + count)
    flipped = bytes(b ^ 0xFF for b in content[start:end])
    return content[:start] + flipped + content[end:]


def _max_in_window(times: Iterable[float], window: float) -> int:
    ordered = sorted(times)
    best = start = 0
    for end, t in enumerate(ordered):
        while t - ordered[start] > window:
            start += 1
        best = max(best, end - start + 1)
    return best


# --------------------------------------------------------------------------- content builders


def master_index(rows: Iterable[tuple[str | int, str, str, str, str]], *, day: date | None = None) -> bytes:
    """A ``master.idx`` with the real header; rows are (cik, company, form, date, file name)."""
    received = f"{day:%b %d, %Y}" if day else "Jan 02, 2024"
    header = (
        "Description:           Daily Index of EDGAR Dissemination Feed\n"
        f"Last Data Received:    {received}\n"
        "Comments:              webmaster@sec.gov\n"
        "Anonymous FTP:         ftp://ftp.sec.gov/edgar/\n"
        " \n"
        "CIK|Company Name|Form Type|Date Filed|File Name\n"
        "--------------------------------------------------------------------------------\n"
    )
    body = "".join(f"{cik}|{name}|{form}|{filed}|{file}\n" for cik, name, form, filed, file in rows)
    return (header + body).encode()


def full_submission(accession: str, cik: str | int, *, form: str = "D", size: int = 2000) -> bytes:
    """A synthetic full submission ``.txt`` (header + a small Form D XML), ``size`` bytes or more."""
    cik10 = f"{int(cik):010d}"
    xml = (
        '<?xml version="1.0"?>\n<edgarSubmission><schemaVersion>X0708</schemaVersion>'
        f"<submissionType>{form}</submissionType><primaryIssuer><cik>{cik10}</cik>"
        "<entityName>Fake Issuer LLC</entityName></primaryIssuer></edgarSubmission>\n"
    )
    filler = "<!-- " + "x" * max(0, size - len(xml) - 600) + " -->\n"
    text = (
        f"<SEC-DOCUMENT>{accession}.txt : 20240102\n"
        f"<SEC-HEADER>{accession}.hdr.sgml : 20240102\n"
        "<ACCEPTANCE-DATETIME>20240102101010\n"
        f"ACCESSION NUMBER:\t\t{accession}\n"
        f"CONFORMED SUBMISSION TYPE:\t{form}\n"
        "PUBLIC DOCUMENT COUNT:\t\t1\n"
        "FILED AS OF DATE:\t\t20240102\n\n"
        "FILER:\n\n\tCOMPANY DATA:\t\n"
        "\t\tCOMPANY CONFORMED NAME:\t\t\tFake Issuer LLC\n"
        f"\t\tCENTRAL INDEX KEY:\t\t\t{cik10}\n\n"
        "\tFILING VALUES:\n\t\tFORM TYPE:\t\tD\n\t\tSEC FILE NUMBER:\t021-999999\n"
        "</SEC-HEADER>\n<DOCUMENT>\n"
        f"<TYPE>{form}\n<SEQUENCE>1\n<FILENAME>primary_doc.xml\n<TEXT>\n<XML>\n{xml}{filler}</XML>\n"
        "</TEXT>\n</DOCUMENT>\n</SEC-DOCUMENT>\n"
    )
    return text.encode()


@dataclass(frozen=True, slots=True)
class FeedItem:
    """One entry of the latest-filings feed: one filer of one filing (co-issuers: one each)."""

    accession: str
    cik: str | int  # this entry's filer
    company: str
    accepted_at: datetime  # aware
    form: str = "D"
    filed: date | None = None  # default: the acceptance date in US/Eastern


_EASTERN = ZoneInfo("America/New_York")


def feed_page(items: Iterable[FeedItem], *, updated: datetime | None = None) -> bytes:
    """An Atom page of the latest-filings feed as EDGAR writes it (ISO-8859-1, HTML summary)."""
    entries = []
    newest: datetime | None = None
    for item in items:
        newest = newest or item.accepted_at
        accepted = item.accepted_at.astimezone(_EASTERN)
        filed = item.filed or accepted.date()
        folder = item.accession.replace("-", "")
        summary = escape(
            f" <b>Filed:</b> {filed.isoformat()} <b>AccNo:</b> {item.accession} <b>Size:</b> 14 KB\n"
            "<br>Item 06b: Rule 506(b)\n"
        )
        entries.append(
            "<entry>\n"
            f"<title>{escape(item.form)} - {escape(item.company)} ({int(item.cik):010d}) (Filer)</title>\n"
            '<link rel="alternate" type="text/html" href="https://www.sec.gov/Archives/edgar/data/'
            f'{int(item.cik)}/{folder}/{item.accession}-index.htm"/>\n'
            f'<summary type="html">\n{summary}</summary>\n'
            f"<updated>{accepted.isoformat()}</updated>\n"
            f'<category scheme="https://www.sec.gov/" label="form type" term="{escape(item.form)}"/>\n'
            f"<id>urn:tag:sec.gov,2008:accession-number={item.accession}</id>\n"
            "</entry>\n"
        )
    stamp = (updated or newest or datetime(2024, 1, 2, 17, 0, tzinfo=_EASTERN)).astimezone(_EASTERN)
    text = (
        '<?xml version="1.0" encoding="ISO-8859-1" ?>\n'
        '<feed xmlns="http://www.w3.org/2005/Atom">\n'
        f"<title>Latest Filings - {stamp:%a, %d %b %Y %H:%M:%S} EST</title>\n"
        '<link rel="alternate" href="/cgi-bin/browse-edgar?action=getcurrent"/>\n'
        '<link rel="self" href="/cgi-bin/browse-edgar?action=getcurrent"/>\n'
        "<id>https://www.sec.gov/cgi-bin/browse-edgar?action=getcurrent</id>\n"
        "<author><name>Webmaster</name><email>webmaster@sec.gov</email></author>\n"
        f"<updated>{stamp.isoformat()}</updated>\n" + "".join(entries) + "</feed>\n"
    )
    return text.encode("latin-1", errors="xmlcharrefreplace")


def _feed_answer(feed: list[FeedItem], query: str) -> bytes:
    params = parse_qs(query)
    start = int(params.get("start", ["0"])[0])
    count = min(100, int(params.get("count", ["40"])[0]))
    return feed_page(feed[start : start + count])


# --------------------------------------------------------------------------- pytest fixture


@pytest.fixture
def fake_edgar() -> Iterator[FakeEdgar]:
    """A started FakeEdgar on 127.0.0.1 with no files; stopped after the test."""
    with FakeEdgar() as server:
        yield server


# --------------------------------------------------------------------------- subprocess


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.fake_edgar", description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port (printed on stdout)")
    parser.add_argument("--root", type=Path, help="serve every file under this folder at /<relative path>")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to every answer")
    parser.add_argument("--enforce-rate", type=float, help="answer the block page above this many req/s")
    parser.add_argument("--missing-status", type=int, choices=(403, 404), default=403)
    args = parser.parse_args(argv)
    server = FakeEdgar(
        host=args.host,
        port=args.port,
        latency=args.latency,
        enforce_rate=args.enforce_rate,
        missing_status=args.missing_status,
    )
    if args.root:
        server.add_tree(args.root)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    with server:
        print(server.url, flush=True)
        stop.wait()
    print(
        f"served {server.count()} requests, max {server.max_requests_in_any_sliding_second()} in any second",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
