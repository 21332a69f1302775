"""A job's prepared data read back is the data it was built from: the same rows, labels, split, scaler
and manifest fields, so every member task of a fanned-out job trains on the very same split."""

from __future__ import annotations

import numpy as np

from coinpredict.common.times import iso
from coinpredict.training.prepared import Prepared, prepare
from tests.conftest import SYNTHETIC_END_MS


def test_prepared_data_reads_back_as_it_was_built(synthetic_dir, tmp_path):
    prep = prepare(data_dir=synthetic_dir, timeframe="1h", end=iso(SYNTHETIC_END_MS), models_dir=tmp_path / "models",
                   profile="smoke", model_ids=["lightgbm", "gru_standard", "ensemble", "move"], promote="if_better",
                   report=lambda *_: None, tags={"job": "j1"})
    again = Prepared.load(prep.save(tmp_path / "models" / ".jobs" / "j1"))
    a, b = prep.split.data, again.split.data
    for name in ("features", "t", "close", "labels", "symbol_index", "can_end", "high", "low"):
        assert np.array_equal(getattr(a, name), getattr(b, name), equal_nan=True), name
        assert getattr(a, name).dtype == getattr(b, name).dtype, name
    assert np.array_equal(a.scaler.mean, b.scaler.mean) and np.array_equal(a.scaler.std, b.scaler.std)
    assert a.feature_set == b.feature_set and a.horizons == b.horizons and a.symbols == b.symbols
    assert np.array_equal(prep.split.train.ends, again.split.train.ends)
    assert np.array_equal(prep.split.valid.ends, again.split.valid.ends)
    assert np.array_equal(prep.split.raw.features, again.split.raw.features, equal_nan=True)
    assert np.array_equal(prep.split.raw.rows, again.split.raw.rows)
    assert again.split.ranges == prep.split.ranges and again.split.step_ms == prep.split.step_ms
    assert again.common.to_dict() == prep.common.to_dict() and again.common.training["job"] == "j1"
    assert again.tasks == ["lightgbm", "gru_standard", "move"] and again.ids == prep.ids
