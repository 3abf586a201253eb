"""Clocks for tests that must never really sleep.

- :class:`FakeClock`: one thread; ``sleep`` advances the time at once and records the wait.
- :class:`VirtualClock`: many threads, discrete-event time. Time stands still while any
  participating thread is running and jumps to the earliest wake-up once all of them sleep, so
  each thread sees the time it would see on an infinitely fast machine: exactly its wake-up time.
"""

from __future__ import annotations

import heapq
import threading
from collections.abc import Callable, Iterable
from typing import Any


class FakeClock:
    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += max(0.0, seconds)


class VirtualClock:
    """Shared virtual time for ``participants`` threads (see the module docstring)."""

    def __init__(self, start: float = 1000.0) -> None:
        self._cond = threading.Condition()
        self._now = start
        self._running = 0
        self._wakeups: list[float] = []

    def __call__(self) -> float:
        with self._cond:
            return self._now

    def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            return
        with self._cond:
            target = self._now + seconds
            heapq.heappush(self._wakeups, target)
            self._running -= 1
            self._advance_if_idle()
            while self._now < target:
                self._cond.wait()

    def _advance_if_idle(self) -> None:
        # Called with the lock held. Wakers are counted as running on their behalf before they
        # resume, so no other thread can see "all asleep" and jump time past them.
        if self._running == 0 and self._wakeups:
            self._now = max(self._now, self._wakeups[0])
            while self._wakeups and self._wakeups[0] <= self._now:
                heapq.heappop(self._wakeups)
                self._running += 1
            self._cond.notify_all()

    def run_threads(self, targets: Iterable[Callable[[], Any]], timeout: float = 30.0) -> None:
        """Run each callable in its own participating thread and wait for all of them."""
        errors: list[BaseException] = []
        functions = list(targets)
        with self._cond:
            self._running += len(functions)

        def run(function: Callable[[], Any]) -> None:
            try:
                function()
            except BaseException as exc:
                errors.append(exc)
            finally:
                with self._cond:
                    self._running -= 1
                    self._advance_if_idle()

        threads = [threading.Thread(target=run, args=(f,), daemon=True) for f in functions]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout)
            if thread.is_alive():
                raise TimeoutError("a virtual-clock thread did not finish (deadlock?)")
        if errors:
            raise errors[0]


def max_in_any_window(times: Iterable[float], window: float = 1.0) -> int:
    """Most events in any closed window ``[t, t + window]`` (events at 0.0 and 1.0 share one)."""
    ordered = sorted(times)
    best = 0
    start = 0
    for end, t in enumerate(ordered):
        while t - ordered[start] > window:
            start += 1
        best = max(best, end - start + 1)
    return best
