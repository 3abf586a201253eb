"""The EDGAR client and its limiter, through httpx.MockTransport and fake clocks (no real sleeping)."""

from __future__ import annotations

import email.utils
import functools
import itertools
import random
import threading
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import httpx
import pytest
from fake_clock import FakeClock, VirtualClock, max_in_any_window
from fake_edgar import ACCESS_DENIED_BODY, BLOCK_PAGE, UNDECLARED_PAGE

from edgar_ingest.errors import ConfigError, FetchError, RateLimitBlockedError, UndeclaredUserAgentError
from edgar_ingest.http import EdgarClient, RateLimiter, slot_interval
from edgar_ingest.settings import Settings

UA = "Acme Research data@acme.example"
SETTINGS = Settings(user_agent=UA, base_url="https://www.sec.test", data_url="https://data.sec.test")
URL = "https://www.sec.test/Archives/edgar/data/1/0000000001-24-000001.txt"
OK_BODY = b"<SEC-DOCUMENT>x\n</SEC-DOCUMENT>\n"

Handler = Callable[[httpx.Request], httpx.Response]


class Recorder:
    """A MockTransport handler that answers from a script and records arrival times."""

    def __init__(self, clock: Callable[[], float], script: list[Callable[[httpx.Request], httpx.Response]]):
        self.clock = clock
        self.script = list(script)
        self.times: list[float] = []
        self.requests: list[httpx.Request] = []
        self._lock = threading.Lock()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        with self._lock:
            self.times.append(self.clock())
            self.requests.append(request)
            answer = self.script.pop(0) if self.script else ok
        return answer(request)


def ok(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, content=OK_BODY)


def status(code: int, body: bytes = b"", headers: dict[str, str] | None = None) -> Handler:
    return lambda request: httpx.Response(code, content=body, headers=headers)


def raises(exc: type[httpx.TransportError]) -> Handler:
    def handler(request: httpx.Request) -> httpx.Response:
        raise exc("simulated", request=request)

    return handler


def client_on(
    clock: FakeClock | VirtualClock, script: list[Handler], settings: Settings = SETTINGS, **kwargs: Any
) -> tuple[EdgarClient, Recorder]:
    recorder = Recorder(clock, script)
    client = EdgarClient(
        settings, transport=httpx.MockTransport(recorder), clock=clock, sleep=clock.sleep, **kwargs
    )
    return client, recorder


def make_client(
    script: list[Handler], settings: Settings = SETTINGS, **kwargs: Any
) -> tuple[EdgarClient, Recorder, FakeClock]:
    clock = FakeClock()
    client, recorder = client_on(clock, script, settings, **kwargs)
    return client, recorder, clock


# --------------------------------------------------------------------------- the limiter


def test_slot_interval_keeps_closed_windows_at_the_rate_with_margin() -> None:
    # Ten slots of 0.1 s would put requests at exactly 0.0 and 1.0 s: 11 in one closed window.
    assert max_in_any_window([i * 0.1 for i in range(11)]) == 11
    interval = slot_interval(10)
    assert interval == pytest.approx(0.105)
    assert max_in_any_window([i * interval for i in range(200)]) == 10
    # The margin absorbs arrival jitter: any 11 consecutive requests span 1 s + 50 ms.
    assert 10 * interval - 1.0 == pytest.approx(0.05)
    assert 1 / interval >= 9.5


def test_limiter_paces_evenly_without_bursts() -> None:
    clock = FakeClock()
    limiter = RateLimiter(10, clock=clock, sleep=clock.sleep)
    times = []
    for _ in range(50):
        limiter.acquire()
        times.append(clock())
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert gaps == pytest.approx([0.105] * 49)
    assert max_in_any_window(times) == 10
    assert (len(times) - 1) / (times[-1] - times[0]) >= 9.0
    # No credit for idle time: after a quiet spell the next requests are still spaced.
    clock.sleep(30)
    idle_times = []
    for _ in range(5):
        limiter.acquire()
        idle_times.append(clock())
    assert idle_times[0] == clock.now - 4 * 0.105
    assert [b - a for a, b in itertools.pairwise(idle_times)] == pytest.approx([0.105] * 4)


@pytest.mark.parametrize(("rate", "per_window"), [(10, 10), (5, 5), (2.5, 2), (1, 1), (0.5, 1)])
def test_limiter_never_exceeds_the_rate_in_any_closed_second(rate: float, per_window: int) -> None:
    clock = FakeClock()
    limiter = RateLimiter(rate, clock=clock, sleep=clock.sleep)
    times = []
    for _ in range(40):
        limiter.acquire()
        times.append(clock())
    assert max_in_any_window(times) == per_window


def test_a_thread_that_wakes_late_does_not_put_eleven_requests_into_a_second() -> None:
    # Seen on a loaded machine: a thread woke 76 ms after its slot and sent just before the next
    # thread's slot; ten slots later the server counted 11 requests in one second.
    clock = FakeClock(start=0.0)

    def sleep(seconds: float) -> None:
        wakes_at_ninth_slot = abs(clock.now + seconds - 8 * 0.105) < 1e-9
        clock.sleep(seconds + (0.076 if wakes_at_ninth_slot else 0.0))

    limiter = RateLimiter(10, clock=clock, sleep=sleep)
    times = []
    for _ in range(40):
        limiter.acquire()
        times.append(clock())
    assert times[8] == pytest.approx(8 * 0.105 + 0.076)  # the late one
    assert max_in_any_window(times) == 10
    assert min(b - a for a, b in zip(times, times[10:], strict=False)) >= 1.05 - 1e-6
    # It costs one wait: the pace is back on the grid right after.
    assert (len(times) - 1) / (times[-1] - times[0]) >= 9.0


@pytest.mark.parametrize("rate", [0, -1, 10.5, 100])
def test_limiter_refuses_rates_outside_the_sec_limit(rate: float) -> None:
    with pytest.raises(ValueError, match="rate"):
        RateLimiter(rate)


def test_limiter_holds_the_window_under_many_threads() -> None:
    """20 threads with requests in flight for random times: the grid holds, at >= 9.0 req/s."""
    clock = VirtualClock()
    limiter = RateLimiter(10, clock=clock, sleep=clock.sleep)
    sent: list[float] = []
    lock = threading.Lock()
    rng = random.Random(7)
    latencies = [[rng.uniform(0.0, 0.8) for _ in range(15)] for _ in range(20)]

    def worker(mine: list[float]) -> None:
        for latency in mine:
            limiter.acquire()
            with lock:
                sent.append(clock())
            clock.sleep(latency)  # the request is in flight; others keep going

    clock.run_threads([functools.partial(worker, mine) for mine in latencies])
    sent.sort()
    assert len(sent) == 300
    assert max_in_any_window(sent) == 10
    assert min(b - a for a, b in itertools.pairwise(sent)) == pytest.approx(0.105)
    assert (len(sent) - 1) / (sent[-1] - sent[0]) >= 9.0


def test_pause_stops_every_thread_including_those_already_waiting_for_a_slot() -> None:
    clock = VirtualClock(start=0.0)
    limiter = RateLimiter(10, clock=clock, sleep=clock.sleep)
    sent: list[float] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(10):
            limiter.acquire()
            with lock:
                sent.append(clock())

    def pauser() -> None:
        clock.sleep(0.5)  # by now the workers hold reservations up to ~4 s ahead
        limiter.pause_for(30)

    clock.run_threads([worker, worker, worker, worker, pauser])
    assert len(sent) == 40
    assert not [t for t in sent if 0.5 < t < 30.5]
    assert limiter.paused_until == 30.5
    assert max_in_any_window(sent) == 10


def test_pause_of_zero_still_spaces_from_the_last_request() -> None:
    clock = FakeClock()
    limiter = RateLimiter(10, clock=clock, sleep=clock.sleep)
    limiter.acquire()
    first = clock()
    limiter.pause_for(0)
    limiter.acquire()
    assert clock() - first == pytest.approx(0.105)


def test_lowering_the_rate_spaces_the_next_request_at_the_new_interval() -> None:
    clock = FakeClock()
    limiter = RateLimiter(10, clock=clock, sleep=clock.sleep)
    limiter.acquire()
    first = clock()
    limiter.set_rate(2)
    limiter.acquire()
    assert limiter.rate == 2
    assert clock() - first == pytest.approx(0.525)


# --------------------------------------------------------------------------- construction


@pytest.mark.parametrize("user_agent", [None, "", "Acme Research", "python-httpx/0.28"])
def test_refuses_to_start_without_a_user_agent_with_an_email_and_sends_nothing(
    user_agent: str | None,
) -> None:
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200)

    with pytest.raises(ConfigError, match="User-Agent"):
        EdgarClient(replace(SETTINGS, user_agent=user_agent), transport=httpx.MockTransport(handler))
    assert sent == []


def test_sends_the_declared_user_agent_gzip_and_timeouts_to_both_hosts() -> None:
    client, recorder, _ = make_client([])
    client.get(client.archive_url("/Archives/edgar/data/1/x.txt"))
    client.get(client.data_url("submissions/CIK0000000001.json"))
    archive, data = recorder.requests
    assert str(archive.url) == "https://www.sec.test/Archives/edgar/data/1/x.txt"
    assert str(data.url) == "https://data.sec.test/submissions/CIK0000000001.json"
    for request in (archive, data):
        assert request.headers["User-Agent"] == UA
        assert request.headers["Accept-Encoding"] == "gzip, deflate"
        timeout = request.extensions["timeout"]
        assert timeout["connect"]
        assert timeout["read"]


def test_200_returns_the_response_and_counts_requests_and_bytes() -> None:
    client, _, _ = make_client([])
    with client:
        response = client.get(URL)
    assert response is not None
    assert response.content == OK_BODY
    stats = client.stats.snapshot()
    assert (stats.requests, stats.retries, stats.block_pauses, stats.bytes) == (1, 0, 0, len(OK_BODY))


@pytest.mark.parametrize(
    "answer",
    [status(404, b"Not Found"), status(403, ACCESS_DENIED_BODY)],
    ids=["404", "403-AccessDenied"],
)
def test_absent_files_are_none_not_errors_and_not_retried(answer: Handler) -> None:
    client, recorder, clock = make_client([answer])
    assert client.get(URL) is None
    assert len(recorder.times) == 1
    assert clock.sleeps == []


# --------------------------------------------------------------------------- transient retries


@pytest.mark.parametrize(
    "failure",
    [
        status(503, b"busy"),
        status(500),
        status(502),
        raises(httpx.ConnectError),
        raises(httpx.ReadError),  # connection reset by peer
        raises(httpx.ReadTimeout),
        raises(httpx.ConnectTimeout),
        raises(httpx.RemoteProtocolError),  # peer closed before Content-Length bytes arrived
        status(200, b"half a body", {"Content-Length": "4000"}),
    ],
    ids=[
        "503",
        "500",
        "502",
        "connect",
        "reset",
        "read-timeout",
        "connect-timeout",
        "protocol",
        "short-body",
    ],
)
def test_transient_failures_are_retried_with_exponential_backoff(failure: Handler) -> None:
    client, recorder, clock = make_client([failure, failure, failure])
    response = client.get(URL)
    assert response is not None
    assert response.content == OK_BODY
    assert len(recorder.times) == 4
    # 1, 2, 4 s plus up to 1 s of jitter each.
    assert len(clock.sleeps) == 3
    for sleep, base in zip(clock.sleeps, (1, 2, 4), strict=True):
        assert base <= sleep <= base + 1
    stats = client.stats.snapshot()
    assert (stats.requests, stats.retries) == (4, 3)


def test_attempts_are_capped_then_fetch_error_names_the_status() -> None:
    client, recorder, _ = make_client([status(503)] * 10, max_attempts=4)
    with pytest.raises(FetchError, match=r"after 4 attempts: 503"):
        client.get(URL)
    assert len(recorder.times) == 4


def test_backoff_is_capped() -> None:
    client, _, clock = make_client([status(500)] * 8, max_attempts=8, backoff_max_s=5, backoff_jitter_s=0)
    with pytest.raises(FetchError):
        client.get(URL)
    assert clock.sleeps == [1, 2, 4, 5, 5, 5, 5]


def test_every_attempt_passes_the_limiter() -> None:
    client, recorder, _ = make_client([status(503)] * 5, backoff_initial_s=0, backoff_jitter_s=0)
    assert client.get(URL) is not None
    gaps = [b - a for a, b in itertools.pairwise(recorder.times)]
    assert len(gaps) == 5
    assert min(gaps) == pytest.approx(0.105)


def test_429_with_retry_after_is_honoured() -> None:
    client, recorder, clock = make_client([status(429, b"slow down", {"Retry-After": "7"})])
    assert client.get(URL) is not None
    assert recorder.times[1] - recorder.times[0] >= 7
    assert 7 <= clock.sleeps[0] < 8
    assert client.stats.snapshot().block_pauses == 0


def test_retry_after_as_an_http_date_is_read_against_the_servers_date() -> None:
    date = "Wed, 01 Jan 2025 00:00:00 GMT"
    later = email.utils.format_datetime(
        email.utils.parsedate_to_datetime(date).replace(second=30), usegmt=True
    )
    client, _, clock = make_client([status(503, b"", {"Retry-After": later, "Date": date})])
    assert client.get(URL) is not None
    assert 30 <= clock.sleeps[0] < 31


def test_retry_after_is_capped() -> None:
    client, _, clock = make_client([status(429, b"", {"Retry-After": "86400"})])
    assert client.get(URL) is not None
    assert 120 <= clock.sleeps[0] < 121


def test_a_document_judged_incomplete_is_retried_then_refused() -> None:
    cut = status(200, b"<SEC-DOCUMENT>x\n<XML>")
    client, recorder, _ = make_client([cut, ok])
    response = client.get(URL, complete=lambda body: body.rstrip().endswith(b"</SEC-DOCUMENT>"))
    assert response is not None
    assert len(recorder.times) == 2
    client, _, _ = make_client([cut] * 6)
    with pytest.raises(FetchError, match="cut off"):
        client.get(URL, complete=lambda body: body.rstrip().endswith(b"</SEC-DOCUMENT>"))


# --------------------------------------------------------------------------- 4xx and 403 kinds


@pytest.mark.parametrize("code", [400, 401, 410, 301])
def test_other_statuses_raise_fetch_error_with_the_status_without_retrying(code: int) -> None:
    client, recorder, _ = make_client([status(code)])
    with pytest.raises(FetchError, match=str(code)):
        client.get(URL)
    assert len(recorder.times) == 1


def test_unrecognised_403_is_an_error_not_absent_and_not_retried() -> None:
    client, recorder, _ = make_client([status(403, b"<html>Forbidden</html>")])
    with pytest.raises(FetchError, match="403"):
        client.get(URL)
    assert len(recorder.times) == 1


def test_undeclared_tool_page_stops_at_once_and_for_good() -> None:
    client, recorder, clock = make_client([status(403, UNDECLARED_PAGE)])
    with pytest.raises(UndeclaredUserAgentError, match="EDGAR_INGEST_USER_AGENT"):
        client.get(URL)
    assert len(recorder.times) == 1
    assert clock.sleeps == []
    # Every later call, from any thread, stops before sending anything.
    with pytest.raises(UndeclaredUserAgentError):
        client.get(URL)
    assert len(recorder.times) == 1


@pytest.mark.parametrize(
    "block",
    [
        status(403, BLOCK_PAGE),
        status(429, BLOCK_PAGE),
        status(429, b""),  # 429 without Retry-After: the block, whatever the body
        status(429, BLOCK_PAGE, {"Retry-After": "1"}),  # the block page wins over a Retry-After
    ],
    ids=["403-page", "429-page", "429-no-retry-after", "429-page-with-retry-after"],
)
def test_block_page_pauses_for_block_pause_s_then_resumes_at_half_rate(block: Handler) -> None:
    settings = replace(SETTINGS, block_pause_s=600)
    client, recorder, clock = make_client([block], settings=settings, recovery_s=300)
    response = client.get(URL)
    assert response is not None
    blocked_at, retried_at = recorder.times
    assert retried_at - blocked_at >= 600
    assert retried_at - blocked_at < 601
    stats = client.stats.snapshot()
    assert (stats.requests, stats.retries, stats.block_pauses) == (2, 1, 1)
    # Slower for the recovery period: half the rate, twice the interval.
    assert client.limiter.rate == 5
    client.get(URL)
    assert recorder.times[2] - recorder.times[1] == pytest.approx(0.21)
    # After the recovery period without a block, back to the full rate.
    clock.sleep(300)
    client.get(URL)
    assert client.limiter.rate == 10


def test_block_pause_stops_all_requests_of_the_process() -> None:
    """Four threads; one meets the block page: nobody's request arrives during the pause."""
    clock = VirtualClock(start=0.0)
    settings = replace(SETTINGS, block_pause_s=60)
    recorder_script: list[Handler] = [ok] * 5 + [status(403, BLOCK_PAGE)]
    client, recorder = client_on(clock, recorder_script, settings, recovery_s=30)

    def worker() -> None:
        for _ in range(8):
            assert client.get(URL) is not None

    clock.run_threads([worker] * 4)
    times = sorted(recorder.times)
    blocked_at = times[5]
    assert len(times) == 33  # 32 successes and the blocked attempt
    assert not [t for t in times if blocked_at < t < blocked_at + 60]
    assert client.stats.snapshot().block_pauses == 1
    assert max_in_any_window(times) <= 10


def test_block_pages_of_requests_already_in_flight_count_as_one_episode() -> None:
    """Requests sent before the pause began come back blocked too: one pause, not four."""
    clock = VirtualClock(start=0.0)
    settings = replace(SETTINGS, block_pause_s=60)
    arrivals: list[float] = []
    lock = threading.Lock()
    blocked_until = [0.0]

    def handler(request: httpx.Request) -> httpx.Response:
        now = clock()
        with lock:
            arrivals.append(now)
        clock.sleep(0.5)  # in flight long enough for the others to be sent before the answer
        if now < 1.0:
            blocked_until[0] = now
            return httpx.Response(403, content=BLOCK_PAGE)
        return httpx.Response(200, content=OK_BODY)

    client = EdgarClient(
        settings, transport=httpx.MockTransport(handler), clock=clock, sleep=clock.sleep, recovery_s=0
    )
    clock.run_threads([lambda: client.get(URL)] * 4)
    assert client.stats.snapshot().block_pauses == 1
    first_block = min(arrivals)
    late = sorted(t for t in arrivals if t >= 1.0)
    assert len(late) == 4
    assert late[0] >= first_block + 0.5 + 60  # the pause began when the first answer came back


def test_consecutive_blocks_stop_the_run_and_nothing_is_sent_afterwards() -> None:
    settings = replace(SETTINGS, block_pause_s=600)
    client, recorder, _ = make_client([status(403, BLOCK_PAGE)] * 5, settings=settings)
    with pytest.raises(RateLimitBlockedError, match="3 times in a row"):
        client.get(URL)
    assert len(recorder.times) == 3
    assert client.stats.snapshot().block_pauses == 2
    # The pauses grew the gaps: blocked, 600 s of silence, blocked again, 600 s, blocked.
    gaps = [b - a for a, b in itertools.pairwise(recorder.times)]
    assert all(gap >= 600 for gap in gaps)
    with pytest.raises(RateLimitBlockedError):
        client.get(URL)
    assert len(recorder.times) == 3


def test_a_success_between_blocks_resets_the_consecutive_count() -> None:
    settings = replace(SETTINGS, block_pause_s=1)
    block = status(403, BLOCK_PAGE)
    client, _, _ = make_client(
        [block, block, ok, block, block, ok], settings=settings, max_consecutive_blocks=3
    )
    assert client.get(URL) is not None
    assert client.get(URL) is not None
    assert client.stats.snapshot().block_pauses == 4


def test_closing_the_client_ends_a_block_pause_at_once_and_sends_nothing_more() -> None:
    # Real time, default (interruptible) sleep: a worker in a 600 s pause must not hold up a stop.
    calls: list[float] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return httpx.Response(403, content=BLOCK_PAGE)

    client = EdgarClient(replace(SETTINGS, block_pause_s=600), transport=httpx.MockTransport(handler))
    outcome: list[BaseException] = []

    def fetch() -> None:
        try:
            client.get(URL)
        except BaseException as exc:
            outcome.append(exc)

    worker = threading.Thread(target=fetch)
    worker.start()
    while client.stats.snapshot().block_pauses == 0:
        worker.join(timeout=0.01)

    client.close()
    worker.join(timeout=5)

    assert not worker.is_alive(), "the pause ended when the client closed"
    assert len(outcome) == 1
    assert isinstance(outcome[0], FetchError)
    assert "closed" in str(outcome[0])
    assert len(calls) == 1
