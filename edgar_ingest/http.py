"""The only module that touches the network: a polite, block-aware EDGAR client.

Politeness (DESIGN.md section 1, "Fair access"):

- One :class:`RateLimiter` per process, shared by every thread and by both hosts
  (``www.sec.gov`` archives and the ``data.sec.gov`` submissions API). Requests leave on an even
  grid of slots, never in bursts; every attempt, retries included, takes a slot.
- The grid is slightly wider than ``1/rate`` (see :func:`slot_interval`) so that, as measured at
  the server, no sliding one-second window -- closed at both ends -- ever holds more than ``rate``
  requests, even when arrivals jitter by up to ``margin_s``.
- Transient failures (5xx, 429 with Retry-After, connection errors and resets, timeouts,
  truncated bodies) are retried by one tenacity policy with exponential backoff and jitter,
  honouring Retry-After, with a cap on attempts.
- A 403 is classified by its body. The S3 ``AccessDenied`` page (and 404) means "absent":
  :meth:`EdgarClient.get` returns ``None``. The "Request Rate Threshold Exceeded" page (also seen
  as 429 without Retry-After) pauses every request of the process for ``block_pause_s``, then
  resumes at a reduced rate; a few blocks in a row stop the run. The "Undeclared Automated Tool"
  page stops the run at once: retrying cannot fix a User-Agent.

:meth:`EdgarClient.get` (a body in memory) and :meth:`EdgarClient.download` (a body streamed to a
file, for the data sets' archives of tens of MB) share one attempt: the limiter slot, the retry
policy and the reading of refusals (a 403/429 is classified from the first bytes of its body).
They differ only in what they do with a 200.
"""

from __future__ import annotations

import contextlib
import email.utils
import hashlib
import logging
import math
import os
import random
import socket
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TypeVar

import httpx
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt

from edgar_ingest.errors import FetchError, RateLimitBlockedError, UndeclaredUserAgentError
from edgar_ingest.records import DownloadResult, HttpValidators, NotModified
from edgar_ingest.settings import SEC_MAX_RPS, Settings

log = logging.getLogger(__name__)

T = TypeVar("T")

Clock = Callable[[], float]
Sleep = Callable[[float], object]  # time.sleep, or Event.wait (which returns a bool)

# Seconds of arrival jitter the pacing absorbs: n+1 requests always span more than 1 s + margin.
# 50 ms keeps 9.52 req/s at a limit of 10, above the 9.0 we aim for, and covers a thread waking
# late or a request waiting for a pooled connection on a loaded machine.
DEFAULT_MARGIN_S = 0.05

DEFAULT_TIMEOUT = httpx.Timeout(connect=10.0, read=60.0, write=30.0, pool=None)
DEFAULT_MAX_ATTEMPTS = 6
DEFAULT_MAX_CONSECUTIVE_BLOCKS = 3
# The SEC lifts a block once the rate has stayed under the threshold for 10 minutes: stay slow
# that long after a pause before going back to the full rate.
DEFAULT_RECOVERY_S = 600.0
DEFAULT_SLOWDOWN = 0.5
RETRY_AFTER_CAP_S = 120.0

BLOCK_MARKER = "Request Rate Threshold Exceeded"
UNDECLARED_MARKER = "Undeclared Automated Tool"
ACCESS_DENIED_MARKER = "AccessDenied"
# An ETag or Last-Modified longer than this is no validator a server means to be sent back.
_MAX_VALIDATOR_CHARS = 500
_SNIFF_BYTES = 65536  # the pages we classify are small; never decode a huge body to look


def slot_interval(rate: float, margin_s: float = DEFAULT_MARGIN_S) -> float:
    """Seconds between two requests so that no closed 1 s window holds more than ``rate``.

    With ``n = floor(rate)`` requests allowed per window, ``n + 1`` consecutive requests must span
    strictly more than one second (requests at exactly 0.0 and 1.0 s share a closed window), plus
    the jitter margin: ``(1 + margin) / n``. Below 1 req/s one request per window is the most a
    window can hold, so the interval is ``(1 + margin) / rate``.
    """
    per_window = math.floor(rate) if rate >= 1 else rate
    return (1.0 + margin_s) / per_window


class RateLimiter:
    """Evenly paced slots shared by every thread: one slot every :func:`slot_interval` seconds.

    A slot is reserved under the lock and waited for outside it, so threads queue in order without
    holding each other up. There is no credit for idle time (no bursts after a quiet spell) and no
    batch-then-sleep. :meth:`pause_for` voids every reservation made before it: a thread that was
    waiting for a slot inside the pause goes back to the queue rather than sending.

    The slots alone assume that a thread wakes when its slot comes. On a loaded machine it can wake
    late (76 ms was seen), send right before the next thread's slot, and put 11 requests into one
    second at the server. So the requests actually let through are also counted: one may go only
    if the ``floor(rate)`` before it span at least 1 s + margin, else it waits for the oldest to
    leave that window.
    """

    def __init__(
        self,
        rate: float,
        *,
        clock: Clock = time.monotonic,
        sleep: Sleep = time.sleep,
        margin_s: float = DEFAULT_MARGIN_S,
    ) -> None:
        if margin_s < 0:
            raise ValueError(f"margin_s must be zero or more, got {margin_s}")
        self._clock = clock
        self._sleep = sleep
        self._margin_s = margin_s
        self._lock = threading.Lock()
        self._next = -math.inf  # earliest time the next reservation may take
        self._last_sent = -math.inf  # time of the latest acquire that returned
        self._window = 1.0 + margin_s
        self._sent: deque[float] = deque(maxlen=1)  # times of the latest acquires that returned
        self._paused_until = -math.inf
        self._generation = 0  # bumped by pause_for: reservations of older generations are void
        self._rate = 0.0
        self._interval = 0.0
        self.set_rate(rate)

    @property
    def rate(self) -> float:
        return self._rate

    @property
    def interval(self) -> float:
        return self._interval

    @property
    def paused_until(self) -> float:
        return self._paused_until

    def set_rate(self, rate: float) -> None:
        """Change the rate; takes effect from the next reservation."""
        if not 0 < rate <= SEC_MAX_RPS:
            raise ValueError(f"rate must be above 0 and at most {SEC_MAX_RPS:g} per second, got {rate}")
        with self._lock:
            self._rate = float(rate)
            self._interval = slot_interval(rate, self._margin_s)
            self._sent = deque(self._sent, maxlen=math.floor(rate) if rate >= 1 else 1)
            # A slower rate also spaces the next request from the last one sent at the new interval.
            self._next = max(self._next, self._last_sent + self._interval)

    def acquire(self) -> None:
        """Block until this thread may send one request."""
        while True:
            with self._lock:
                now = self._clock()
                slot = max(now, self._next, self._paused_until)
                self._next = slot + self._interval
                generation = self._generation
            if slot > now:
                self._sleep(slot - now)
            while True:
                with self._lock:
                    if generation != self._generation:
                        break  # a pause began while this thread waited: its slot is void, queue again
                    now = self._clock()
                    sent = self._sent
                    earliest = sent[0] + self._window if len(sent) == sent.maxlen else now
                    # 1 ns of slack: on-time slots span the window exactly, give or take rounding.
                    if now >= earliest - 1e-9:
                        sent.append(now)
                        self._last_sent = max(self._last_sent, now)
                        return
                self._sleep(earliest - now)  # woke late: let the oldest request age out of the window

    def pause_for(self, seconds: float) -> None:
        """No request may be sent by anyone until ``seconds`` from now (the block pause)."""
        with self._lock:
            until = self._clock() + max(0.0, seconds)
            self._paused_until = max(self._paused_until, until)
            self._generation += 1
            # Outstanding reservations are void; the queue restarts at the end of the pause but
            # never closer than one interval to the last request actually sent.
            self._next = max(self._paused_until, self._last_sent + self._interval)


class ClientStats:
    """Thread-safe counters of one client: attempts sent, retries, block pauses, bytes received."""

    __slots__ = ("_lock", "block_pauses", "bytes", "requests", "retries")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests = 0  # every attempt that left the machine
        self.retries = 0  # attempts after the first one of a get()
        self.block_pauses = 0  # block episodes that paused the whole process
        self.bytes = 0  # body bytes received, as transferred (compressed when gzip)

    def add(self, *, requests: int = 0, retries: int = 0, block_pauses: int = 0, bytes: int = 0) -> None:
        with self._lock:
            self.requests += requests
            self.retries += retries
            self.block_pauses += block_pauses
            self.bytes += bytes

    def snapshot(self) -> StatsSnapshot:
        with self._lock:
            return StatsSnapshot(self.requests, self.retries, self.block_pauses, self.bytes)


@dataclass(frozen=True, slots=True)
class StatsSnapshot:
    requests: int
    retries: int
    block_pauses: int
    bytes: int


# --------------------------------------------------------------------------- attempt outcomes


class _TransientError(Exception):
    """An attempt that may succeed if repeated (retried by the tenacity policy)."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


class _BlockPageError(Exception):
    """The SEC's rate block page: handled by a process-wide pause, never by a quick retry."""

    def __init__(self, reason: str, generation: int) -> None:
        super().__init__(reason)
        self.generation = generation


def _read_head(response: httpx.Response) -> str:
    """The first bytes of a refusal's body, decoded: enough to tell the 403 pages apart.

    Reads at most about ``_SNIFF_BYTES`` whatever the body's size; a small body (every page we
    classify) is read to its end, so the connection stays reusable.
    """
    head = bytearray()
    for chunk in response.iter_bytes():
        head += chunk
        if len(head) >= _SNIFF_BYTES:
            break
    return bytes(head[:_SNIFF_BYTES]).decode("utf-8", errors="replace")


def _retry_after_seconds(response: httpx.Response, clock_now: Callable[[], float]) -> float | None:
    """Retry-After as seconds (delta-seconds or an HTTP-date); None when absent or unreadable."""
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    # Measure against the server's own Date header when it sent one: no clock skew, and tests
    # stay deterministic.
    date_header = response.headers.get("Date")
    try:
        now = email.utils.parsedate_to_datetime(date_header).timestamp() if date_header else clock_now()
    except (TypeError, ValueError):
        now = clock_now()
    return max(0.0, when.timestamp() - now)


def _bytes_received(response: httpx.Response) -> int:
    """Body bytes as transferred (compressed when gzip), as far as the body was read."""
    if response.num_bytes_downloaded:
        return response.num_bytes_downloaded
    # A response built in memory (httpx.MockTransport) arrives read, with no transfer counted.
    try:
        return len(response.content)
    except httpx.ResponseNotRead:
        return 0


def _validators(response: httpx.Response) -> HttpValidators:
    """The ``ETag`` and ``Last-Modified`` of an answer, as sent (a value too long to be one is
    left out: it would only be sent back)."""
    etag, last_modified = response.headers.get("ETag"), response.headers.get("Last-Modified")
    return HttpValidators(
        etag=etag if etag and len(etag) <= _MAX_VALIDATOR_CHARS else None,
        last_modified=last_modified if last_modified and len(last_modified) <= _MAX_VALIDATOR_CHARS else None,
    )


def _shut(sock: socket.socket) -> None:
    """Shut a socket down from another thread: a read blocked on it returns at once."""
    with contextlib.suppress(OSError):  # already closed: nothing left to wake
        sock.shutdown(socket.SHUT_RDWR)


def _content_length(response: httpx.Response) -> int | None:
    declared = response.headers.get("Content-Length", "").strip()
    return int(declared) if declared.isdigit() else None


def _shortfall(response: httpx.Response, decoded_size: int) -> str | None:
    """Why the body received is shorter than the Content-Length announced; None when it is not."""
    declared = _content_length(response)
    if declared is None:
        return None
    encoding = response.headers.get("Content-Encoding", "identity").strip().lower()
    if encoding in ("", "identity"):
        received = decoded_size
    else:
        # Content-Length counts the compressed bytes; a real transport counts them as they come.
        received = response.num_bytes_downloaded
        if received == 0:
            return None
    if received < declared:
        return f"body truncated ({received} of {declared} bytes)"
    return None


class EdgarClient:
    """One HTTP client for the process: both EDGAR hosts, paced, retried, block-aware, thread-safe.

    ``get`` returns the response for 200, ``None`` for an absent file (404, or 403 with the S3
    ``AccessDenied`` body), and raises :class:`FetchError` (or its subclasses
    :class:`UndeclaredUserAgentError` and :class:`RateLimitBlockedError`) otherwise.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        transport: httpx.BaseTransport | None = None,
        clock: Clock = time.monotonic,
        sleep: Sleep | None = None,
        limiter: RateLimiter | None = None,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        max_consecutive_blocks: int = DEFAULT_MAX_CONSECUTIVE_BLOCKS,
        recovery_s: float = DEFAULT_RECOVERY_S,
        slowdown: float = DEFAULT_SLOWDOWN,
        backoff_initial_s: float = 1.0,
        backoff_max_s: float = 60.0,
        backoff_jitter_s: float = 1.0,
        retry_after_cap_s: float = RETRY_AFTER_CAP_S,
        gate: Callable[[], bool] | None = None,
    ) -> None:
        # ``gate`` is asked after each rate-limiter slot, before the request leaves (the run
        # lock's Lock.gate): True sends; False (after a wait) takes a fresh slot and asks again;
        # an exception stops the request, unretried.
        # First, before anything that could send: no User-Agent, no client.
        user_agent = settings.require_user_agent()
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if max_consecutive_blocks < 1:
            raise ValueError("max_consecutive_blocks must be at least 1")
        if not 0 < slowdown <= 1:
            raise ValueError("slowdown must be in (0, 1]")
        self.settings = settings
        self._clock = clock
        # Real waits (the block pause, backoff, pacing) end early when the client is closed, so
        # that stopping a run never waits out a 600 s pause in a worker thread.
        self._closed = threading.Event()
        self._sleep: Sleep = sleep if sleep is not None else self._closed.wait
        self._limiter = (
            limiter if limiter is not None else RateLimiter(settings.max_rps, clock=clock, sleep=self._sleep)
        )
        self._full_rate = self._limiter.rate
        self._gate = gate
        self._max_consecutive_blocks = max_consecutive_blocks
        self._recovery_s = recovery_s
        self._slowdown = slowdown
        self._backoff_initial_s = backoff_initial_s
        self._backoff_max_s = backoff_max_s
        self._backoff_jitter_s = backoff_jitter_s
        self._retry_after_cap_s = retry_after_cap_s
        self.stats = ClientStats()
        self._state_lock = threading.Lock()
        self._block_generation = 0
        self._consecutive_blocks = 0
        self._slow_until: float | None = None
        self._fatal: FetchError | None = None  # once set, no request leaves this client again
        # Sockets of the answers being read, so that close() can wake a read blocked on a slow or
        # stalled server at once instead of after the next chunk or the read timeout.
        self._reading: set[socket.socket] = set()
        # Building an httpx.Client opens no connection: connections are made on first use.
        self._http = httpx.Client(
            headers={"User-Agent": user_agent, "Accept-Encoding": "gzip, deflate"},
            timeout=timeout,
            transport=transport,
            follow_redirects=False,  # a followed hop would bypass the limiter
        )
        self._retrying = Retrying(
            retry=retry_if_exception_type(_TransientError),
            stop=stop_after_attempt(max_attempts),
            wait=self._wait,
            sleep=self._backoff_sleep,
            before_sleep=self._before_retry,
            reraise=True,
        )
        self.max_attempts = max_attempts

    # ------------------------------------------------------------------ public API

    @property
    def limiter(self) -> RateLimiter:
        return self._limiter

    def archive_url(self, path: str) -> str:
        """Absolute URL on the archive host (``settings.base_url``) of ``/Archives/...``."""
        return self.settings.base_url.rstrip("/") + "/" + path.lstrip("/")

    def data_url(self, path: str) -> str:
        """Absolute URL on the data API host (``settings.data_url``) of ``/submissions/...``."""
        return self.settings.data_url.rstrip("/") + "/" + path.lstrip("/")

    def get(self, url: str, *, complete: Callable[[bytes], bool] | None = None) -> httpx.Response | None:
        """GET an absolute URL: the 200 response, or None when the file is absent.

        ``complete`` judges a 200 body; ``False`` means it was cut off and is retried like a
        transport truncation (e.g. a full submission that does not end with ``</SEC-DOCUMENT>``).
        """

        def accept(response: httpx.Response) -> httpx.Response:
            content = response.read()
            shortfall = _shortfall(response, len(content))
            if shortfall is not None:
                raise _TransientError(shortfall)
            if complete is not None and not complete(content):
                raise _TransientError("document cut off (incomplete body)")
            return response

        return self._request(url, accept)

    def download(
        self,
        url: str,
        dest: Path,
        *,
        max_bytes: int,
        validate: Callable[[Path], str | None] | None = None,
        if_changed_since: HttpValidators | None = None,
    ) -> DownloadResult | NotModified | None:
        """GET an absolute URL into the file ``dest``, whole or not at all; None when absent.

        The body streams into a temporary file beside ``dest`` (its folder is created), its sha256
        and size computed on the way, and is renamed to ``dest`` only once complete and valid: a
        reader of ``dest`` never sees half a file, and a failure leaves no temporary file behind.
        ``validate(path)`` judges the complete temporary file and returns why it is unusable (e.g.
        "CRC error in member X") or None; like a body shorter than its Content-Length or a
        connection reset mid-body, an unusable file is retried by the same policy as :meth:`get`
        and then raises :class:`FetchError` naming the URL and the last reason.

        ``max_bytes`` bounds the bytes written (decoded, when the server sent gzip) and the
        Content-Length announced: a body over it raises :class:`FetchError` at once, never retried
        (a larger file will be as large next time). :meth:`close` from another thread ends a
        download between two chunks.

        ``if_changed_since`` makes the GET conditional (``If-None-Match``, ``If-Modified-Since``:
        the validators of the ``DownloadResult`` that brought the copy held): a server that finds
        the file unchanged answers 304 and :class:`NotModified` comes back, nothing written; one
        that ignores the headers sends the file as usual.
        """
        if max_bytes < 1:
            raise ValueError(f"max_bytes must be at least 1, got {max_bytes}")
        dest.parent.mkdir(parents=True, exist_ok=True)
        headers: dict[str, str] = {}
        if if_changed_since is not None:
            if if_changed_since.etag is not None:
                headers["If-None-Match"] = if_changed_since.etag
            if if_changed_since.last_modified is not None:
                headers["If-Modified-Since"] = if_changed_since.last_modified

        def accept(response: httpx.Response) -> DownloadResult | NotModified:
            if response.status_code == 304:  # only ever passed on for a conditional GET
                return NotModified()
            return self._stream_to_file(response, url=url, dest=dest, max_bytes=max_bytes, validate=validate)

        return self._request(url, accept, headers=headers)

    def _backoff_sleep(self, seconds: float) -> None:
        self._sleep(seconds)

    def close(self) -> None:
        """Stop: waits in progress end at once and no request leaves this client again."""
        self._set_fatal(FetchError("The EDGAR client was closed: the run is stopping."))
        self._closed.set()
        with self._state_lock:
            reading = list(self._reading)
        for sock in reading:
            _shut(sock)
        self._http.close()

    def __enter__(self) -> EdgarClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # ------------------------------------------------------------------ one request, one attempt

    def _request(
        self,
        url: str,
        accept: Callable[[httpx.Response], T],
        *,
        headers: Mapping[str, str] | None = None,
    ) -> T | None:
        """Attempts under the retry policy and the block pauses; ``accept`` turns a 200 into T,
        and a 304 too when ``headers`` make the GET conditional (they are sent only for that)."""
        while True:
            try:
                return self._retrying.copy()(self._attempt, url, accept, headers)
            except _BlockPageError as block:
                self._on_block(url, block)
                self.stats.add(retries=1)
            except _TransientError as exc:
                raise FetchError(
                    f"GET {url} failed after {self.max_attempts} attempts: {exc.reason}."
                ) from exc

    def _attempt(
        self,
        url: str,
        accept: Callable[[httpx.Response], T],
        headers: Mapping[str, str] | None = None,
    ) -> T | None:
        self._raise_if_fatal()
        self._restore_rate_if_recovered()
        self._limiter.acquire()
        # After a wait at the gate the slot is stale: sending on it would make a burst.
        while self._gate is not None and not self._gate():
            self._raise_if_fatal()
            self._limiter.acquire()
        # Another thread may have hit a fatal page while this one waited for its slot.
        self._raise_if_fatal()
        with self._state_lock:
            generation = self._block_generation
        self.stats.add(requests=1)
        response: httpx.Response | None = None
        try:
            # Streamed, so that only a 200 is read whole (by ``accept``) and a refusal only as far
            # as its first bytes.
            with self._http.stream("GET", url, headers=headers) as response, self._interruptible(response):
                if response.status_code == 200 or (response.status_code == 304 and headers):
                    result = accept(response)
                    self._not_blocked()
                    return result
                self._classify_refusal(url, response, generation)  # raises unless absent
                return None
        except (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError) as exc:
            if self._closed.is_set():
                self._raise_if_fatal()  # close() cut the connection: stop, no retry
            # Includes resets (ReadError), refused connections and bodies cut short (h11 raises
            # RemoteProtocolError when the peer closes before Content-Length bytes arrived).
            raise _TransientError(f"{type(exc).__name__}: {exc}") from exc
        except httpx.DecodingError as exc:  # a gzip stream cut off mid-way
            raise _TransientError(f"undecodable body: {exc}") from exc
        finally:
            if response is not None:
                self.stats.add(bytes=_bytes_received(response))

    @contextlib.contextmanager
    def _interruptible(self, response: httpx.Response) -> Iterator[None]:
        """While the body is read, :meth:`close` can shut its socket down (waking a blocked read)."""
        stream = response.extensions.get("network_stream")
        sock = stream.get_extra_info("socket") if stream is not None else None
        if not isinstance(sock, socket.socket):  # httpx.MockTransport: nothing to interrupt
            yield
            return
        with self._state_lock:
            self._reading.add(sock)
        try:
            if self._closed.is_set():  # close() ran between the send and the line above
                _shut(sock)
            yield
        finally:
            with self._state_lock:
                self._reading.discard(sock)

    def _stream_to_file(
        self,
        response: httpx.Response,
        *,
        url: str,
        dest: Path,
        max_bytes: int,
        validate: Callable[[Path], str | None] | None,
    ) -> DownloadResult:
        """The ``accept`` of :meth:`download`: one 200 body into ``dest``, or an exception."""
        declared = _content_length(response)
        if declared is not None and declared > max_bytes:
            raise FetchError(
                f"GET {url} announced {declared} bytes, more than the {max_bytes} allowed: not downloaded."
            )
        # Beside dest, so that the final rename stays on one file system and is atomic. The dot
        # hides it from a glob of the folder's archives.
        fd, name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
        temporary = Path(name)
        try:
            digest = hashlib.sha256()
            size = 0
            with os.fdopen(fd, "wb") as out:
                for chunk in response.iter_bytes():  # decoded when the server sent gzip
                    if self._closed.is_set():
                        self._raise_if_fatal()  # close() was called: stop between two chunks
                    size += len(chunk)
                    if size > max_bytes:
                        raise FetchError(
                            f"GET {url} sent more than the {max_bytes} bytes allowed: download abandoned."
                        )
                    digest.update(chunk)
                    out.write(chunk)
            shortfall = _shortfall(response, size)
            if shortfall is not None:
                raise _TransientError(shortfall)
            problem = validate(temporary) if validate is not None else None
            if problem is not None:
                raise _TransientError(problem)
            os.replace(temporary, dest)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
        return DownloadResult(
            path=dest, sha256=digest.hexdigest(), size_bytes=size, validators=_validators(response)
        )

    def _classify_refusal(self, url: str, response: httpx.Response, generation: int) -> None:
        """Any answer but 200: returns when the file is absent, else raises what to do next."""
        status = response.status_code
        if status == 404:
            self._not_blocked()
            return None
        if status in (403, 429):
            text = _read_head(response)
            retry_after = _retry_after_seconds(response, time.time) if status == 429 else None
            # The rate block page's heading also says "Undeclared Automated Tool": test for the
            # block phrase first, or a rate block would be taken for a User-Agent refusal.
            if BLOCK_MARKER in text or (status == 429 and retry_after is None):
                raise _BlockPageError(f"{status} rate threshold exceeded", generation)
            if UNDECLARED_MARKER in text:
                error = UndeclaredUserAgentError(
                    f"The SEC refused the User-Agent {self._http.headers['User-Agent']!r} as an "
                    "undeclared automated tool: set EDGAR_INGEST_USER_AGENT to your organisation and "
                    "a contact e-mail, e.g. 'Acme Research data@acme.example'."
                )
                self._set_fatal(error)
                raise error
            if status == 429:
                raise _TransientError("429 Too Many Requests", retry_after=retry_after)
            if ACCESS_DENIED_MARKER in text:
                # S3's answer for a key that does not exist: "absent", not an error.
                self._not_blocked()
                return None
            self._not_blocked()
            raise FetchError(f"GET {url} answered 403 Forbidden with an unrecognised page.")
        if status >= 500:
            raise _TransientError(
                f"{status} {response.reason_phrase}", retry_after=_retry_after_seconds(response, time.time)
            )
        self._not_blocked()
        raise FetchError(f"GET {url} answered {status} {response.reason_phrase}.")

    # ------------------------------------------------------------------ retry policy

    def _wait(self, retry_state: RetryCallState) -> float:
        """Exponential backoff with jitter; never shorter than the (capped) Retry-After."""
        n = retry_state.attempt_number  # attempts made so far (>= 1)
        backoff = min(self._backoff_max_s, self._backoff_initial_s * 2.0 ** (n - 1))
        backoff += random.uniform(0, self._backoff_jitter_s)
        outcome = retry_state.outcome
        exc = outcome.exception() if outcome is not None else None
        if isinstance(exc, _TransientError) and exc.retry_after is not None:
            return max(backoff, min(exc.retry_after, self._retry_after_cap_s))
        return backoff

    def _before_retry(self, retry_state: RetryCallState) -> None:
        self.stats.add(retries=1)
        outcome = retry_state.outcome
        exc = outcome.exception() if outcome is not None else None
        wait = retry_state.upcoming_sleep
        log.info("retrying in %.1f s after attempt %d: %s", wait, retry_state.attempt_number, exc)

    # ------------------------------------------------------------------ block handling

    def _on_block(self, url: str, block: _BlockPageError) -> None:
        """Pause every request of the process, slow down afterwards; give up after a few in a row."""
        with self._state_lock:
            if block.generation != self._block_generation:
                # The request left before the current pause began: same block episode, already
                # paused for. Just queue again (the limiter holds it until the pause ends).
                return
            self._block_generation += 1
            self._consecutive_blocks += 1
            if self._consecutive_blocks >= self._max_consecutive_blocks:
                error = RateLimitBlockedError(
                    f"The SEC rate-limited this machine {self._consecutive_blocks} times in a row "
                    f"(last on {url}); stopped. Wait at least 10 minutes without any request to "
                    "sec.gov, then run again, possibly with a lower --max-rps."
                )
                self._fatal = error
                raise error
            pause = self.settings.block_pause_s
            slow_rate = max(self._limiter.rate * self._slowdown, 0.1)
            self._slow_until = self._clock() + pause + self._recovery_s
            # Slow down first so that the first slot after the pause is already at the slow pace.
            self._limiter.set_rate(slow_rate)
            self._limiter.pause_for(pause)
            self.stats.add(block_pauses=1)
        log.warning(
            "SEC rate block page (%s) on %s: pausing all requests for %g s, then %g req/s for %g s",
            block,
            url,
            pause,
            slow_rate,
            self._recovery_s,
        )

    def _restore_rate_if_recovered(self) -> None:
        with self._state_lock:
            if self._slow_until is not None and self._clock() >= self._slow_until:
                self._slow_until = None
                self._limiter.set_rate(self._full_rate)
                log.info("no block for %g s: back to %g req/s", self._recovery_s, self._full_rate)

    def _not_blocked(self) -> None:
        with self._state_lock:
            self._consecutive_blocks = 0

    def _set_fatal(self, error: FetchError) -> None:
        with self._state_lock:
            if self._fatal is None:
                self._fatal = error

    def _raise_if_fatal(self) -> None:
        with self._state_lock:
            fatal = self._fatal
        if fatal is not None:
            raise type(fatal)(str(fatal))
