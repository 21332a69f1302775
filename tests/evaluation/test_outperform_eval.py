"""The relative target in evaluation and backtests: its AUC on its own label (rows without a market mean
left out), rank IC and long/short book beside direction's in metrics.json and report.md; the scoring
path backtests share exposes it, so a topk strategy ranks by it."""

from __future__ import annotations

import json

import numpy as np
import pytest

from coinpredict.common.metrics import fast_auc
from coinpredict.common.times import iso
from coinpredict.evaluation.relative import outperform_score
from coinpredict.models.registry import MODEL_IDS
from tests.conftest import SYNTHETIC_END_MS, SYNTHETIC_SYMBOLS
from tests.strategy.helpers import strategy

HOUR = 3_600_000


def test_outperform_score_leaves_unknown_labels_out_and_ranks_against_the_return():
    rng = np.random.default_rng(0)
    t = np.repeat(np.arange(200) * HOUR, 6)
    sym = np.tile(np.arange(6), 200)
    fut = rng.normal(0, 0.01, len(t))
    y = (fut > np.repeat(fut.reshape(200, 6).mean(axis=1), 6)).astype(float)
    y[::7] = np.nan
    p = 0.5 + 5 * fut  # a perfect ranking
    got = outperform_score(y, p, fut, sym, t, horizon=1, fee_bps=0.0)
    known = np.isfinite(y)
    assert got["n"] == known.sum() and got["auc"] == pytest.approx(fast_auc(y[known], p[known]))
    assert got["rank_ic"] == pytest.approx(1.0) and got["top_bottom_bps_net"] > 0
    assert {"n", "auc", "rank_ic", "rank_ic_t", "top_bottom_bps_net"} <= set(got)


def test_metrics_and_report_carry_the_relative_target_beside_direction(evaluated_dir):
    out = evaluated_dir.parent / "out"
    report = json.loads((out / "metrics.json").read_text())
    for name in [*MODEL_IDS, "ensemble"]:
        section, direction = report["models"][name]["outperform"], report["models"][name]
        assert {"n", "auc", "rank_ic", "rank_ic_t", "top_bottom_bps_net"} <= set(section), name
        assert 0 < section["n"] <= direction["n"] and 0 <= section["auc"] <= 1, name
        # Three synthetic coins are fewer than a rank IC needs: both rankings say so alike.
        assert section["ranking"]["n_timestamps"] == direction["ranking"]["n_timestamps"]
        row = report["outperform_comparison"][name]
        assert row["auc_up"] == direction["auc"] and row["auc_outperform"] == section["auc"]
        assert row["rank_ic_outperform"] == section["rank_ic"]
    assert "## The relative target (probability_outperform)" in (out / "report.md").read_text()


def test_score_rows_exposes_probability_outperform_as_served(trained_dir, synthetic_dir):
    from coinpredict.evaluation.runner import score_rows
    from coinpredict.serving import ModelStore, Predictor, PredictRequest

    store = ModelStore(trained_dir).load_all()
    scored = score_rows(store, data_dir=synthetic_dir, timeframe="1h", start_ms=SYNTHETIC_END_MS - 6 * HOUR,
                        end_ms=SYNTHETIC_END_MS, horizon=1, model_ids=["lightgbm", "xgboost", "ensemble"])
    assert set(scored.outperform) == {"lightgbm", "xgboost", "ensemble"}
    data, end = scored.data, scored.ends[0]
    symbol = data.symbols[data.symbol_index[end]]
    cut = scored.series[symbol].until(int(data.t[end]) + HOUR).last(500)
    served = Predictor.offline(store, synthetic_dir).predict_one(PredictRequest(symbol, "1h", "lightgbm", 1, cut))
    assert served["probability_outperform"] == pytest.approx(float(scored.outperform["lightgbm"][0]), abs=2e-6)


def test_a_topk_backtest_ranks_by_probability_outperform(tmp_path, synthetic_dir, trained_dir, monkeypatch):
    from coinpredict.cli.backtest import forecasts_by_time, main
    from coinpredict.serving import ModelStore
    from coinpredict.strategy.config import parse_strategy

    monkeypatch.setenv("FEE_BPS", "0")
    raw = strategy(universe=SYNTHETIC_SYMBOLS, kind="topk", k=1, n_drop=1, rank_by="outperform",
                   sizing={"fraction": 0.3}, limits={"max_position": 0.4, "max_daily_loss": 0.2, "max_drawdown": 0.5})
    path = tmp_path / "s.json"
    path.write_text(json.dumps(raw))
    rc = main(["--strategy", str(path), "--data-dir", str(synthetic_dir), "--models-dir", str(trained_dir),
               "--start", iso(SYNTHETIC_END_MS - 24 * HOUR), "--end", iso(SYNTHETIC_END_MS), "--out",
               str(tmp_path / "out")])
    assert rc == 0 and json.loads((tmp_path / "out" / "summary.json").read_text())["trades"] > 0
    config = parse_strategy(raw)
    forecasts, _ = forecasts_by_time(config, ModelStore(trained_dir).load_all(), synthetic_dir,
                                     SYNTHETIC_END_MS - 3 * HOUR, SYNTHETIC_END_MS, SYNTHETIC_SYMBOLS, 0.0)
    chosen = [f for at in forecasts.values() for f in at.values()]
    assert len(chosen) >= 6 and all(0 < f.probability_outperform < 1 for f in chosen)
