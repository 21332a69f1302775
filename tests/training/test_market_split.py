"""Training and evaluation build the market from every coin of the folder, whatever ``--symbols`` picks:
a run over one coin sees the same market as a run over all of them."""

from __future__ import annotations

import dataclasses

import numpy as np

from coinpredict.common.times import iso
from coinpredict.data.sources.csvdir import load_folder
from coinpredict.evaluation.runner import _folder_market
from coinpredict.features.market_context import MARKET_FEATURES
from coinpredict.features.pipeline import FeatureSet
from coinpredict.serving.model_store import LoadedModel
from coinpredict.training import split as split_module
from coinpredict.training.profiles import PROFILES
from tests.conftest import SYNTHETIC_END_MS


def test_a_one_coin_training_run_sees_the_whole_folders_market(synthetic_dir, monkeypatch):
    base = split_module.default_feature_set("1h")
    monkeypatch.setattr(split_module, "default_feature_set", lambda tf: FeatureSet(base.names + MARKET_FEATURES))
    end = iso(SYNTHETIC_END_MS)
    one = split_module.load_split(synthetic_dir, "1h", PROFILES["smoke"], (1,), None, end, ["SOLUSDT"],
                                  keep_raw=False, report=lambda *_: None)
    assert one.data.symbols == ["SOLUSDT"]
    cols = [one.data.feature_set.names.index(n) for n in ("mkt_coins", "mkt_avail")]
    scaler = one.data.scaler
    raw = one.data.features[one.train.ends[-200:]][:, cols] * scaler.std[cols] + scaler.mean[cols]
    np.testing.assert_allclose(raw, np.tile([3.0, 1.0], (200, 1)), atol=1e-4)  # the folder's three coins


def test_evaluation_reads_the_whole_folders_market_only_for_models_that_read_it(synthetic_dir):
    names = tuple(n for n in split_module.default_feature_set("1h").names if n not in MARKET_FEATURES)
    plain = LoadedModel("lightgbm", "1h", "ready", feature_set=FeatureSet(names))
    newer = dataclasses.replace(plain, feature_set=FeatureSet(names + MARKET_FEATURES))
    one = [c for c in load_folder(synthetic_dir, "1h") if c.symbol == "SOLUSDT"]
    unready = LoadedModel("move", "1h", "not_trained")  # no feature set
    assert _folder_market(synthetic_dir, "1h", [plain, None, unready], one, SYNTHETIC_END_MS) is None
    market = _folder_market(synthetic_dir, "1h", [plain, newer], one, SYNTHETIC_END_MS)
    assert market.symbols == ("BTCUSDT", "ETHUSDT", "SOLUSDT") and market.coins.max() == 3
