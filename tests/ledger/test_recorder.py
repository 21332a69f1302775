"""The recorder's queue: every row of a call is written in order, rows beyond capacity are dropped and
counted, and a write that fails counts its rows (no database here: a list stands in for the store)."""

from __future__ import annotations

import math

import pytest

from coinpredict.api.app import StrictJSONProvider
from coinpredict.ledger.recorder import Recorder


class ListStore:
    def __init__(self, fail: bool = False):
        self.batches: list[list[dict]] = []
        self.fail = fail

    def append(self, rows: list[dict]) -> None:
        if self.fail:
            raise OSError("disk full")
        self.batches.append(rows)


def rows(start: int, n: int) -> list[dict]:
    return [{"i": i} for i in range(start, start + n)]


def test_rows_are_written_in_order_in_batches_and_beyond_capacity_dropped():
    store = ListStore()
    rec = Recorder(store, flush_s=3600, batch=5, capacity=12)  # its writer thread waits: the test flushes
    rec.record(rows(0, 4))
    rec.record(rows(4, 4))
    rec.record([])
    rec.record(rows(8, 6))  # 4 fit under the capacity of 12, 2 are dropped
    assert rec.dropped == 2
    assert rec.flush() == 8  # whole calls, about ``batch`` rows
    rec.drain()
    assert [r["i"] for batch in store.batches for r in batch] == list(range(12))
    rec.record(rows(20, 12))  # room again once written
    assert rec.dropped == 2 and rec.flush() == 12
    rec.close()


def test_a_failed_write_counts_its_rows_as_dropped():
    rec = Recorder(ListStore(fail=True), flush_s=3600, batch=100)
    rec.record(rows(0, 7))
    assert rec.flush() == 7 and rec.dropped == 7 and rec.flush() == 0
    rec.close()


def test_answers_leave_with_nan_and_infinity_as_null_and_are_otherwise_unchanged(app_for_json):
    provider = StrictJSONProvider(app_for_json)
    plain = {"a": [1, 2.5, "x", (3, 4)], "b": {"c": None}}
    assert provider.dumps(plain) == '{"a": [1, 2.5, "x", [3, 4]], "b": {"c": null}}'
    odd = {"a": [math.nan, {"b": math.inf}], "c": -math.inf, "d": 1.0}
    assert provider.dumps(odd) == '{"a": [null, {"b": null}], "c": null, "d": 1.0}'


@pytest.fixture
def app_for_json():
    from flask import Flask

    return Flask(__name__)
