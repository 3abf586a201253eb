"""The background writer of data-set loads: every batch stored in order, errors reach the caller."""

from __future__ import annotations

from typing import Any

import pytest

from edgar_ingest import bulk
from edgar_ingest.records import RunCounts


class _Boom(Exception):
    pass


def test_batches_are_stored_in_order_and_all_before_the_block_ends(monkeypatch: pytest.MonkeyPatch) -> None:
    stored: list[int] = []

    def store_records(
        store: Any, batch: list[Any], counts: RunCounts, version: str, on_document: Any
    ) -> None:
        stored.append(batch[0])
        counts.inserted += len(batch)

    monkeypatch.setattr(bulk, "store_records", store_records)
    counts = RunCounts()
    with bulk._BatchWriter(object(), counts, None) as writer:  # type: ignore[arg-type]
        for n in range(20):
            writer.put([n, n])  # type: ignore[list-item]
    assert stored == list(range(20))
    assert counts.inserted == 40


def test_an_error_of_the_writer_reaches_the_caller(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []

    def store_records(
        store: Any, batch: list[Any], counts: RunCounts, version: str, on_document: Any
    ) -> None:
        calls.append(1)
        raise _Boom("the database went away")

    monkeypatch.setattr(bulk, "store_records", store_records)

    def load_fifty_batches() -> None:
        with bulk._BatchWriter(object(), RunCounts(), None) as writer:  # type: ignore[arg-type]
            for n in range(50):
                writer.put([n])  # type: ignore[list-item]

    with pytest.raises(_Boom, match="went away"):
        load_fifty_batches()
    assert len(calls) == 1, "after an error nothing more is stored"
