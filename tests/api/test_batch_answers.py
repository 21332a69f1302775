"""A batch answers each item exactly as /predict/single answers it alone, however many items share
candles, models or the ensemble combination, and each model runs once per batch over distinct inputs."""

from __future__ import annotations

import pytest

from coinpredict.models.registry import ENSEMBLE_ID
from tests.conftest import SYNTHETIC_SYMBOLS

ITEMS = [{"symbol": s, **extra} for extra in ({}, {"model": "lightgbm"}, {"model": "gru_standard"},
                                              {"method": "median"}, {"method": "best"},
                                              {"model": "xgboost"}, {"horizon": 4},
                                              {"model": "lightgbm", "horizon": 24})
         for s in SYNTHETIC_SYMBOLS] * 2  # every item twice: the second copies share everything


def assert_same(batch: object, alone: object, where: str = "") -> None:
    """Equal, numbers within 2e-6: a network's float32 output may move in its last digits with the number
    of rows it scores at once (the contract allows 1e-5)."""
    if isinstance(batch, dict) and isinstance(alone, dict):
        assert list(batch) == list(alone), where
        for key in batch:
            if key != "latency_ms":
                assert_same(batch[key], alone[key], f"{where}.{key}")
    elif isinstance(batch, float) and isinstance(alone, float):
        assert batch == pytest.approx(alone, abs=2e-6), where
    else:
        assert batch == alone, where


def test_a_batch_answers_every_item_as_a_single_request_would(app, client, synthetic_now):
    sol = app.extensions["coinpredict"].market.candles("SOLUSDT", "1h", 500).last(400)
    rows = [[int(t), o, h, lo, c, v] for t, o, h, lo, c, v in zip(sol.t, sol.open, sol.high, sol.low, sol.close,
                                                                    sol.volume)]
    own = {"symbol": "SOL", "model": "lightgbm", "candles": rows}  # a client's candles are never shared
    items = [*ITEMS, own, {**own, "model": ENSEMBLE_ID}, own]
    body = client.post("/predict/batch", json={"items": items}).get_json()
    assert body["count"] == len(items)
    for item, answer in zip(items, body["results"]):
        alone = client.post("/predict/single", json=item)
        assert alone.status_code == 200, alone.get_data(as_text=True)
        assert_same(answer, alone.get_json(), str(item)[:60])


def test_each_model_runs_once_per_batch_over_each_symbols_row_only(app, client, synthetic_now, monkeypatch):
    """Repeated items for the same candles must not multiply the rows a model scores, nor its calls."""
    store = app.extensions["coinpredict"].predictor.store
    calls: dict[str, list[int]] = {}
    for (tf, model_id), entry in store.models.items():
        if tf == "1h" and entry.status == "ready":
            real = entry.model.predict_proba
            monkeypatch.setattr(entry.model, "predict_proba",
                                lambda x, real=real, m=model_id: calls.setdefault(m, []).append(len(x)) or real(x))
    items = [{"symbol": s, "model": model} for model in (ENSEMBLE_ID, "lightgbm") for s in SYNTHETIC_SYMBOLS] * 5
    results = client.post("/predict/batch", json={"items": items}).get_json()["results"]
    assert all("probability_up" in r for r in results)
    assert calls and all(rows == [len(SYNTHETIC_SYMBOLS)] for rows in calls.values()), calls
    assert "lightgbm" in calls

