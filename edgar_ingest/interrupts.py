"""Sections of the main thread that a stop (Ctrl-C, SIGTERM) must not split.

A run's counts follow what it stored: a batch is written in one transaction, then its outcomes are
counted (and the run's row updated). A stop arriving between the commit and the counting would
leave the batch stored but not counted, so an interrupted run's row would say "inserted 7000" of
8000 filings stored. ``commands.runs.stop_on_signals`` defers a stop while the main thread is in a
database transaction or inside ``uninterrupted()``; the stop is raised a moment after the section
ends. Sections are short (a batch's write and its counting); outside a run nothing consults them.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

_depth = 0  # of the main thread's open sections


@contextmanager
def uninterrupted() -> Iterator[None]:
    """Defer a stop signal until the end of this block (main thread only; elsewhere a no-op:
    signals are delivered to the main thread)."""
    global _depth
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    _depth += 1
    try:
        yield
    finally:
        _depth -= 1


def in_uninterrupted_section() -> bool:
    """Whether the main thread is inside ``uninterrupted()`` (asked by the signal handler)."""
    return _depth > 0
