"""Scoring a batch: one forward pass per model over every symbol's row, failures kept per model."""

from __future__ import annotations

import numpy as np
import pytest

from coinpredict.models.registry import ENSEMBLE_ID
from coinpredict.serving import PredictRequest
from coinpredict.serving.features import FeatureCache
from coinpredict.serving.resolve import plan_for
from coinpredict.serving.scoring import MODEL_FAILED, score
from tests.conftest import SYNTHETIC_SYMBOLS


@pytest.fixture()
def batch(store, market):
    reqs = [PredictRequest(s, "1h", ENSEMBLE_ID) for s in SYNTHETIC_SYMBOLS]
    plans = {i: plan_for(store, r) for i, r in enumerate(reqs)}
    candles = {i: market.candles(r.symbol, "1h", 500) for i, r in enumerate(reqs)}
    return plans, candles


def _count_calls(monkeypatch, entry, calls, fail=False):
    real = entry.model.predict_proba

    def counted(x):
        calls.append((entry.model_id, len(x)))
        if fail:
            raise RuntimeError("/srv/secret/path exploded")
        return real(x)

    monkeypatch.setattr(entry.model, "predict_proba", counted)


def test_each_model_runs_once_over_every_symbol(batch, monkeypatch):
    plans, candles = batch
    calls = []
    for entry in plans[0].ready:
        _count_calls(monkeypatch, entry, calls)
    scores = score(plans, candles, FeatureCache())
    members = [m.model_id for m in plans[0].ready]
    assert sorted(calls) == sorted((m, len(SYNTHETIC_SYMBOLS)) for m in members)
    assert set(scores.probs) == {(i, m) for i in plans for m in members} and not scores.failures
    assert all(0 < p < 1 for p in scores.probs.values())


def test_requests_for_the_same_candles_share_one_row_of_each_model(batch, monkeypatch):
    plans, candles = batch
    n = len(plans)
    repeated_plans = {i: plans[i % n] for i in range(3 * n)}  # each symbol asked three times
    repeated_candles = {i: candles[i % n] for i in range(3 * n)}  # gather hands out one object per symbol
    calls = []
    for entry in plans[0].ready:
        _count_calls(monkeypatch, entry, calls)
    scores = score(repeated_plans, repeated_candles, FeatureCache())
    members = [m.model_id for m in plans[0].ready]
    assert sorted(calls) == sorted((m, n) for m in members)  # one call per model, one row per symbol
    alone = score(plans, candles, FeatureCache()).probs
    assert scores.probs == {(i, m): alone[(i % n, m)] for i in repeated_plans for m in members}


def test_the_batch_gives_what_each_symbol_alone_gives(batch):
    plans, candles = batch
    together = score(plans, candles, FeatureCache()).probs
    for i in plans:
        alone = score({0: plans[i]}, {0: candles[i]}, FeatureCache()).probs
        for (_, model_id), p in alone.items():
            assert together[(i, model_id)] == pytest.approx(p, abs=1e-6)


def test_a_failing_model_fails_its_rows_only_with_a_short_reason(batch, monkeypatch):
    plans, candles = batch
    broken = plans[0].ready[0]
    _count_calls(monkeypatch, broken, [], fail=True)
    scores = score(plans, candles, FeatureCache())
    assert scores.failures == {(i, broken.model_id): MODEL_FAILED for i in plans}
    assert len(scores.probs) == len(plans) * (len(plans[0].ready) - 1)


def test_requests_without_candles_are_not_scored(batch):
    plans, candles = batch
    scores = score(plans, {0: candles[0]}, FeatureCache())
    assert {i for i, _ in scores.probs} == {0}
    assert np.isfinite(list(scores.probs.values())).all()
