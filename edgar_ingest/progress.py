"""Progress for long runs: a bar with rate and ETA on a TTY, log lines otherwise.

A scheduler (cron, systemd, compose) captures stderr, so off a TTY we print one line per day or
per ``every`` filings instead of redrawing a bar; ``json`` gives one JSON object per line. A
data-set load stores ~5,000 filings a second: after the first line, progress lines come at most
every ``min_interval_s`` seconds, so that the whole history logs a few dozen lines, not 9,000.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TextIO


def format_duration(seconds: float) -> str:
    seconds = max(0, round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours:d}:{minutes:02d}:{secs:02d}"


@dataclass
class Progress:
    """Counts filings done against a (growing) total; prints to ``stream``."""

    stream: TextIO
    is_tty: bool
    log_format: str = "text"  # "text" or "json"
    every: int = 100
    min_interval_s: float = 10.0  # between two progress lines off a TTY (the first one excepted)
    clock: Callable[[], float] = time.monotonic
    total: int = 0
    done: int = 0
    # Filings expected beyond ``total`` but not listed yet (later quarters of a backfill): an
    # estimate that makes the ETA cover the whole run instead of the part listed so far.
    expected_more: int = 0
    _started: float = field(default=0.0, init=False)
    _last_draw: float = field(default=-1.0, init=False)
    _last_logged: int = field(default=0, init=False)
    _last_logged_at: float | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self._started = self.clock()

    def add_total(self, n: int) -> None:
        self.total += n

    @property
    def rate(self) -> float:
        elapsed = self.clock() - self._started
        return self.done / elapsed if elapsed > 0 else 0.0

    @property
    def eta_seconds(self) -> float | None:
        rate = self.rate
        left = self.total + self.expected_more - self.done
        if left <= 0:
            return 0.0
        return left / rate if rate > 0 else None

    def expect(self, more: int) -> None:
        """Set the estimate of filings still to be listed (0 once everything is listed)."""
        self.expected_more = max(0, more)

    def _of_total(self) -> str:
        return f"{self.done}/{self.total}" + (f" (+~{self.expected_more})" if self.expected_more else "")

    def advance(self, n: int = 1) -> None:
        self.done += n
        if self.is_tty and self.log_format == "text":
            now = self.clock()
            if now - self._last_draw >= 0.2 or self.done >= self.total:
                self._last_draw = now
                self._draw()
        elif self.done - self._last_logged >= self.every:
            now = self.clock()
            if self._last_logged_at is None or now - self._last_logged_at >= self.min_interval_s:
                self._last_logged, self._last_logged_at = self.done, now
                self.event("progress")

    def _draw(self) -> None:
        width = 30
        whole = self.total + self.expected_more
        fraction = self.done / whole if whole else 0.0
        filled = int(width * min(fraction, 1.0))
        eta = self.eta_seconds
        line = (
            f"\r[{'#' * filled}{'.' * (width - filled)}] {self._of_total()} filings"
            f"  {self.rate:5.1f}/s  ETA {format_duration(eta) if eta is not None else '--:--:--'}"
        )
        self.stream.write(line)
        self.stream.flush()

    def event(self, name: str, **fields: object) -> None:
        """One log line (text or JSON) with the running totals."""
        payload: dict[str, object] = {
            "event": name,
            "done": self.done,
            "total": self.total,
            "rate_per_s": round(self.rate, 2),
        }
        if self.expected_more:
            payload["expected_more"] = self.expected_more
        eta = self.eta_seconds
        if eta is not None:
            payload["eta_s"] = round(eta)
        payload.update(fields)
        if self.is_tty and self.log_format == "text":
            self.stream.write("\r\x1b[K")  # clear the bar, print the line, the bar redraws later
        if self.log_format == "json":
            payload["ts"] = datetime.now(UTC).isoformat(timespec="seconds")
            self.stream.write(json.dumps(payload, default=str) + "\n")
        else:
            extra = " ".join(f"{k}={v}" for k, v in fields.items())
            line = f"{name}{' ' + extra if extra else ''}"
            if self.total:
                line += f" | {self._of_total()} filings done, {self.rate:.1f}/s"
                if eta:
                    line += f", ETA {format_duration(eta)}"
            self.stream.write(line + "\n")
        self.stream.flush()

    def finish(self) -> None:
        if self.is_tty and self.log_format == "text" and self.total:
            self._draw()
            self.stream.write("\n")
            self.stream.flush()
