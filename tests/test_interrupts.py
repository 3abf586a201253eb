"""A stop (Ctrl-C, SIGTERM) never splits a batch's write from its counting: an interrupted run's
counts are what it stored."""

from __future__ import annotations

import os
import signal
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from formd_builder import full_submission
from test_pipeline_e2e import week_of_filings

from edgar_ingest.commands.runs import stop_on_signals
from edgar_ingest.interrupts import uninterrupted
from edgar_ingest.offline import store_records
from edgar_ingest.parse import PARSER_VERSION, parse_document
from edgar_ingest.records import FormDFiling, RawDocument, RunCounts
from edgar_ingest.store import Store


def _batch(count: int) -> list[tuple[RawDocument, FormDFiling]]:
    batch = []
    for spec in week_of_filings()[:count]:
        content = full_submission(spec)
        raw = RawDocument.of(content, f"https://www.sec.gov{spec.path}", datetime.now(UTC))
        batch.append((raw, parse_document(content)))
    return batch


def _wait_for_the_stop() -> None:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        time.sleep(0.005)


def test_a_stop_right_after_a_batch_is_committed_waits_for_its_counting(tmp_path: Path) -> None:
    store = Store.from_url(f"sqlite:///{tmp_path / 'e.db'}")
    save_many = store.save_many

    def save_then_stop(*args, **kwargs):  # type: ignore[no-untyped-def]
        outcomes = save_many(*args, **kwargs)
        os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C, the batch committed, nothing counted yet
        time.sleep(0.05)  # the stop is due now
        return outcomes

    store.save_many = save_then_stop  # type: ignore[method-assign]
    counts = RunCounts()
    batch = _batch(5)

    def run() -> None:
        store_records(store, batch, counts, PARSER_VERSION, None)
        _wait_for_the_stop()

    try:
        with stop_on_signals(store.engine), pytest.raises(KeyboardInterrupt):
            run()
        assert counts.inserted == 5, "every filing stored is counted"
        assert store.status().filings == 5
    finally:
        store.close()


def test_a_stop_inside_an_uninterrupted_section_is_raised_when_it_ends(tmp_path: Path) -> None:
    store = Store.from_url(f"sqlite:///{tmp_path / 'e.db'}")
    steps: list[str] = []

    def run() -> None:
        with uninterrupted():
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.1)
            steps.append("section ended")
        _wait_for_the_stop()
        steps.append("not reached")

    try:
        with stop_on_signals(store.engine), pytest.raises(KeyboardInterrupt):
            run()
    finally:
        store.close()
    assert steps == ["section ended"]
