"""The pipeline's pure parts: which days and quarters a run walks, where it starts, progress."""

from __future__ import annotations

import io
import json
from datetime import date

from edgar_ingest.pipeline import (
    DEFAULT_SYNC_LOOKBACK_DAYS,
    business_days,
    dedupe_refs,
    plan_sync,
    quarters,
)
from edgar_ingest.progress import Progress, format_duration
from edgar_ingest.records import FilingRef


def test_business_days_skip_weekends_and_include_both_ends() -> None:
    days = list(business_days(date(2024, 1, 5), date(2024, 1, 8)))  # Friday .. Monday
    assert days == [date(2024, 1, 5), date(2024, 1, 8)]


def test_quarters_cover_a_half_open_range() -> None:
    assert list(quarters(date(2023, 12, 31), date(2024, 4, 1))) == [(2023, 4), (2024, 1)]
    assert list(quarters(date(2024, 1, 1), date(2024, 4, 2))) == [(2024, 1), (2024, 2)]
    assert list(quarters(date(2024, 1, 1), date(2024, 1, 1))) == []


def test_sync_starts_the_day_after_the_checkpoint() -> None:
    plan = plan_sync(date(2024, 1, 4), None, date(2024, 1, 10), today=date(2024, 1, 10))
    assert (plan.start, plan.until) == (date(2024, 1, 5), date(2024, 1, 10))


def test_since_overrides_the_checkpoint() -> None:
    plan = plan_sync(date(2024, 1, 4), date(2023, 12, 1), date(2024, 1, 10), today=date(2024, 1, 10))
    assert plan.start == date(2023, 12, 1)


def test_a_first_sync_without_since_covers_the_recent_default() -> None:
    plan = plan_sync(None, None, date(2024, 1, 10), today=date(2024, 1, 10))
    assert (date(2024, 1, 10) - plan.start).days == DEFAULT_SYNC_LOOKBACK_DAYS


def test_co_issued_filings_listed_once_per_issuer_are_kept_once() -> None:
    def ref(acc: str, cik: str) -> FilingRef:
        return FilingRef(accession_number=acc, cik=cik, form_type="D", filing_date=date(2024, 1, 2))

    refs = [
        ref("0000000001-24-000001", "1"),
        ref("0000000002-24-000002", "2"),
        ref("0000000001-24-000001", "3"),
    ]
    assert [r.cik for r in dedupe_refs(refs)] == ["1", "2"]


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_progress_off_a_tty_logs_one_json_line_per_interval_with_rate_and_eta() -> None:
    clock = FakeClock()
    out = io.StringIO()
    progress = Progress(stream=out, is_tty=False, log_format="json", every=10, clock=clock)
    progress.add_total(40)
    for _ in range(10):
        clock.now += 0.5
        progress.advance()
    line = json.loads(out.getvalue().splitlines()[-1])
    assert line["event"] == "progress"
    assert (line["done"], line["total"]) == (10, 40)
    assert line["rate_per_s"] == 2.0
    assert line["eta_s"] == 15  # 30 left at 2 per second


def test_progress_on_a_tty_draws_a_bar_with_eta() -> None:
    clock = FakeClock()
    out = io.StringIO()
    progress = Progress(stream=out, is_tty=True, clock=clock)
    progress.add_total(4)
    clock.now = 1.0
    progress.advance()
    assert "1/4 filings" in out.getvalue()
    assert "ETA 0:00:03" in out.getvalue()


def test_durations_read_as_hours_minutes_seconds() -> None:
    assert format_duration(3725) == "1:02:05"


def test_the_eta_covers_filings_expected_but_not_listed_yet() -> None:
    clock = FakeClock()
    out = io.StringIO()
    progress = Progress(stream=out, is_tty=False, every=1, clock=clock)
    progress.add_total(10)  # the first of four quarters is listed
    progress.expect(30)  # three more quarters like it
    clock.now = 10.0
    progress.advance(10)  # 1 filing/s
    assert progress.eta_seconds == 30
    assert "10/10 (+~30) filings done" in out.getvalue()
    progress.expect(0)
    assert progress.eta_seconds == 0


def test_progress_off_a_tty_logs_at_most_one_line_per_interval_however_fast_filings_come() -> None:
    clock = FakeClock()
    out = io.StringIO()
    progress = Progress(stream=out, is_tty=False, every=100, min_interval_s=10, clock=clock)
    progress.add_total(100_000)
    for _ in range(200):  # 100,000 filings in 25 s, 4,000 a second, as a data-set load stores them
        clock.now += 0.125
        progress.advance(500)
    lines = out.getvalue().splitlines()
    # The first line at once (the run is alive), then one per 10 s: 3 lines, not 1,000.
    assert [line.split(" filings done")[0] for line in lines] == [
        "progress | 500/100000",
        "progress | 40500/100000",
        "progress | 80500/100000",
    ]


def test_progress_off_a_tty_still_logs_every_n_filings_when_they_come_slowly() -> None:
    clock = FakeClock()
    out = io.StringIO()
    progress = Progress(stream=out, is_tty=False, every=100, clock=clock)
    progress.add_total(300)
    for _ in range(300):  # 10 filings a second: the pace of fetching at the SEC's limit
        clock.now += 0.1
        progress.advance()
    assert len(out.getvalue().splitlines()) == 3
