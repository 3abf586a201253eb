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
"""

from __future__ import annotations

import email.utils
import logging
import math
import random
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType

import httpx
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt

from edgar_ingest.errors import FetchError, RateLimitBlockedError, UndeclaredUserAgentError
from edgar_ingest.settings import SEC_MAX_RPS, Settings

log = logging.getLogger(__name__)

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


def _sniff(response: httpx.Response) -> str:
    return response.content[:_SNIFF_BYTES].decode("utf-8", errors="replace")


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


def _is_truncated(response: httpx.Response) -> bool:
    """True when the body is shorter than the Content-Length the server announced."""
    declared = response.headers.get("Content-Length")
    if declared is None or not declared.strip().isdigit():
        return False
    encoding = response.headers.get("Content-Encoding", "identity").strip().lower()
    if encoding in ("", "identity"):
        received = len(response.content)
    else:
        # Content-Length counts the compressed bytes; a real transport counts them as they come.
        received = response.num_bytes_downloaded
        if received == 0:
            return False
    return received < int(declared)


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
    ) -> None:
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
        while True:
            try:
                return self._retrying.copy()(self._attempt, url, complete)
            except _BlockPageError as block:
                self._on_block(url, block)
                self.stats.add(retries=1)
            except _TransientError as exc:
                raise FetchError(
                    f"GET {url} failed after {self.max_attempts} attempts: {exc.reason}."
                ) from exc

    def _backoff_sleep(self, seconds: float) -> None:
        self._sleep(seconds)

    def close(self) -> None:
        """Stop: waits in progress end at once and no request leaves this client again."""
        self._set_fatal(FetchError("The EDGAR client was closed: the run is stopping."))
        self._closed.set()
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

    # ------------------------------------------------------------------ one attempt

    def _attempt(self, url: str, complete: Callable[[bytes], bool] | None) -> httpx.Response | None:
        self._raise_if_fatal()
        self._restore_rate_if_recovered()
        self._limiter.acquire()
        # Another thread may have hit a fatal page while this one waited for its slot.
        self._raise_if_fatal()
        with self._state_lock:
            generation = self._block_generation
        self.stats.add(requests=1)
        try:
            response = self._http.get(url)
        except (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError) as exc:
            # Includes resets (ReadError), refused connections and bodies cut short (h11 raises
            # RemoteProtocolError when the peer closes before Content-Length bytes arrived).
            raise _TransientError(f"{type(exc).__name__}: {exc}") from exc
        except httpx.DecodingError as exc:  # a gzip stream cut off mid-way
            raise _TransientError(f"undecodable body: {exc}") from exc
        self.stats.add(bytes=response.num_bytes_downloaded or len(response.content))
        return self._classify(url, response, generation, complete)

    def _classify(
        self,
        url: str,
        response: httpx.Response,
        generation: int,
        complete: Callable[[bytes], bool] | None,
    ) -> httpx.Response | None:
        status = response.status_code
        if status == 200:
            if _is_truncated(response):
                raise _TransientError(
                    f"body truncated ({len(response.content)} of {response.headers['Content-Length']} bytes)"
                )
            if complete is not None and not complete(response.content):
                raise _TransientError("document cut off (incomplete body)")
            self._not_blocked()
            return response
        if status == 404:
            self._not_blocked()
            return None
        if status in (403, 429):
            text = _sniff(response)
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
