from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from sklearn import metrics as skm

from coinpredict.common.metrics import classification_metrics, fast_auc
from coinpredict.common.signals import cost_bps, expected_move_bps, signal_for
from coinpredict.common.times import iso
from coinpredict.evaluation import runner
from coinpredict.evaluation.audit import LookAheadError, lookahead_audit
from coinpredict.evaluation.backtest import backtest
from coinpredict.models.registry import MODEL_IDS
from coinpredict.serving import ModelStore, Predictor
from tests.conftest import SYNTHETIC_END_MS


def serving_path(models_dir, data_dir) -> dict:
    """What scripts/evaluate.py hands the runner: the loaded models and the serving path (whose market
    context comes from the same folder)."""
    store = ModelStore(models_dir).load_all()
    return {"store": store, "serve": Predictor.offline(store, data_dir).probability}


def test_metrics_match_scikit_learn():
    rng = np.random.default_rng(1)
    y = (rng.random(500) > 0.45).astype(float)
    p = np.clip(0.5 + 0.15 * (y - 0.5) + 0.2 * rng.standard_normal(500), 0.01, 0.99)
    p[:20] = 0.5  # ties
    m = classification_metrics(y, p)
    pred = p > 0.5
    assert m["auc"] == pytest.approx(skm.roc_auc_score(y, p))
    assert m["log_loss"] == pytest.approx(skm.log_loss(y, p))
    assert m["brier"] == pytest.approx(skm.brier_score_loss(y, p))
    assert m["accuracy"] == pytest.approx(skm.accuracy_score(y, pred))
    assert m["balanced_accuracy"] == pytest.approx(skm.balanced_accuracy_score(y, pred))
    assert m["precision"] == pytest.approx(skm.precision_score(y, pred))
    assert m["recall"] == pytest.approx(skm.recall_score(y, pred))
    assert m["f1"] == pytest.approx(skm.f1_score(y, pred))
    tn, fp, fn, tp = skm.confusion_matrix(y, pred).ravel()
    assert m["confusion"] == {"tp": tp, "fp": fp, "fn": fn, "tn": tn}
    assert fast_auc(y, -p) == pytest.approx(1 - m["auc"])


def test_backtest_positions_earn_the_next_return_and_pay_fees():
    p = np.array([0.6, 0.6, 0.4, 0.5])
    r = np.array([0.01, -0.02, -0.01, 0.05])
    bt = backtest(p, r, np.zeros(4, int), np.arange(4), move_bps=np.full(4, 200.0), timeframe="1h", fee_bps=10)
    # edge +-40 bps against a 20 bps round trip: long, long, short, flat: +1%, -2%, +1%, 0;
    # turnover 1, 0, 2, 1 at 10 bps
    expected = np.array([0.01 - 0.001, -0.02, 0.01 - 0.002, -0.001])
    assert bt["return_net"] == pytest.approx(np.prod(1 + expected) - 1)
    assert bt["trades"] == 3 and bt["buy_and_hold"]["return"] == pytest.approx(np.prod(1 + r) - 1)


def test_a_longer_horizon_holds_each_position_for_its_horizon_without_compounding_overlaps():
    """h = 4 on hourly rows: positions are taken every 4th candle and earn that row's 4-candle return."""
    t = np.arange(12) * 3_600_000
    p = np.full(12, 0.7)
    r = np.full(12, 0.01)  # every row's 4-candle return: 1%
    bt = backtest(p, r, np.zeros(12, int), t, move_bps=np.full(12, 100.0), timeframe="1h", horizon=4, fee_bps=0)
    assert bt["return_gross"] == pytest.approx(1.01 ** 3 - 1)  # 3 holding periods, not 12
    assert bt["buy_and_hold"]["return"] == pytest.approx(1.01 ** 3 - 1) and bt["trades"] == 1


def test_the_backtest_trades_exactly_the_served_signal():
    """Known trades: only rows whose edge beats the 20 bps round trip take a position."""
    p = np.array([0.7, 0.7, 0.55, 0.3, 0.3, 0.5])
    move = np.array([100.0, 100.0, 100.0, 100.0, 10.0, 100.0])  # edges 40, 40, 10, -40, -4, 0
    r = np.array([0.01, -0.005, 0.02, -0.01, 0.03, 0.01])
    served = [signal_for(pi, mi, cost_bps(10))[0] for pi, mi in zip(p, move)]
    assert served == ["BUY", "BUY", "HOLD", "SELL", "HOLD", "HOLD"]
    bt = backtest(p, r, np.zeros(6, int), np.arange(6), move_bps=move, timeframe="1h", fee_bps=10)
    # positions 1, 1, 0, -1, 0, 0: turnover 1, 0, 1, 1, 1, 0
    expected = np.array([0.01 - 0.001, -0.005, -0.001, 0.01 - 0.001, -0.001, 0.0])
    assert bt["return_net"] == pytest.approx(np.prod(1 + expected) - 1)
    assert bt["return_gross"] == pytest.approx((1.01 * 0.995 * 1.01) - 1)
    assert bt["trades"] == 4 and bt["turnover"] == 4 and bt["exposure"] == pytest.approx(0.5)
    assert bt["cost_bps"] == 20 and bt["fee_bps"] == 10
    assert bt["sharpe_net"] == pytest.approx(expected.mean() / expected.std() * np.sqrt(24 * 365), rel=0.01)
    # with no fee every nonzero edge trades; with a huge one nothing does
    assert backtest(p, r, np.zeros(6, int), np.arange(6), move_bps=move, timeframe="1h", fee_bps=0)["trades"] == 3
    none = backtest(p, r, np.zeros(6, int), np.arange(6), move_bps=move, timeframe="1h", fee_bps=1e6)
    assert none["trades"] == 0 and none["return_net"] == 0


@pytest.mark.parametrize("with_move_model", [True, False], ids=["move_model", "rule"])
def test_evaluation_uses_the_expected_move_the_service_serves(synthetic_dir, trained_dir, with_move_model):
    """Per pooled row, evaluation's expected move (the move model's when one serves, else the rule's)
    equals the one answered from history cut there."""
    from coinpredict.data.sources.csvdir import load_folder
    from coinpredict.evaluation.move import served_move, served_move_bps
    from coinpredict.features.context import load_anchors
    from coinpredict.features.datasets import build_pooled
    from coinpredict.serving import PredictRequest

    store = ModelStore(trained_dir).load_all()
    if not with_move_model:
        store.moves.clear()
    entry = store.get("1h", "xgboost")
    series = load_folder(synthetic_dir, "1h", None, None, None)
    anchors = load_anchors(synthetic_dir, "1h", entry.feature_set.anchors, series, None, None)
    data = build_pooled(series, entry.feature_set, window=entry.manifest.window, horizons=(1,), anchors=anchors)
    data.scale(entry.scaler)
    ends = data.select()[::997][:6]
    sym = data.symbol_index[ends]
    mover = served_move(store, "1h", series, anchors, data, 1)
    assert (mover is not None) == with_move_model
    moves = (served_move_bps(mover, ends, 1) if mover else
             expected_move_bps(data.close, ends, horizon=1, first=np.searchsorted(data.symbol_index, sym)))
    predictor = Predictor.offline(store, synthetic_dir)
    for end, s, move in zip(ends, sym, moves):
        candles = series[s]
        cut = candles.slice(0, int(np.searchsorted(candles.t, data.t[end])) + 1).last(500)
        answer = predictor.predict_one(PredictRequest(candles.symbol, "1h", "xgboost", None, cut))
        assert answer["expected_move_bps"] == pytest.approx(round(float(move), 2), abs=0.006)
        assert answer["move"]["source"] == ("model" if with_move_model else "rule")


def test_audit_catches_a_feature_that_peeks_at_the_next_close(synthetic_dir):
    from coinpredict.data.sources.csvdir import CsvFolderSource

    candles = CsvFolderSource(synthetic_dir).fetch("BTCUSDT", "1h")

    def honest(c):
        return 0.5 + 0.1 * np.tanh(np.log(c.close[-1] / c.close[-2]))

    def peeking(c):
        """Uses the close after the last row when the history it is given has one."""
        return 0.5 + 0.1 * np.sign(c.close[-1] - c.close[-1])  # a cut history has no next close

    times = candles.t[[600, 900, 1500]]
    rows_h = [("BTCUSDT", int(t), honest(candles.slice(0, int(np.searchsorted(candles.t, t)) + 1))) for t in times]
    assert lookahead_audit({"BTCUSDT": candles}, rows_h, honest, lookback=500)["checked"] == 3
    rows_p = [("BTCUSDT", int(t), 0.5 + 0.1 * np.sign(candles.close[i + 1] - candles.close[i]))
              for t, i in ((t, int(np.searchsorted(candles.t, t))) for t in times)]
    with pytest.raises(LookAheadError):
        lookahead_audit({"BTCUSDT": candles}, rows_p, peeking, lookback=500)


def test_evaluate_writes_the_contract_metrics_report_and_status(synthetic_dir, trained_dir, tmp_path, monkeypatch):
    from coinpredict import create_app
    from coinpredict.evaluation import ranking

    monkeypatch.setattr(ranking, "MIN_SYMBOLS", 3)  # the synthetic folder has three symbols

    models = tmp_path / "models"
    shutil.copytree(trained_dir, models)
    start, end = iso(SYNTHETIC_END_MS - 20 * 86_400_000), iso(SYNTHETIC_END_MS)
    out = tmp_path / "eval"
    runner.evaluate(data_dir=synthetic_dir, timeframe="1h", start=start, end=end, models_dir=models, out_dir=out,
                    audit_samples=4, **serving_path(models, synthetic_dir))
    report = json.loads((out / "metrics.json").read_text())
    assert {"timeframe", "horizon", "start", "end", "symbols", "models", "baselines"} <= set(report)
    assert len(report["models"]) == len(MODEL_IDS) + 1 and "ensemble" in report["models"]
    for m in list(report["models"].values()) + list(report["baselines"].values()):
        assert {"n", "auc", "accuracy", "log_loss", "brier", "p_value", "backtest"} <= set(m)
        assert {"fee_bps", "sharpe_net", "return_net", "max_drawdown", "trades", "turnover",
                "cost_bps"} <= set(m["backtest"])
        assert {"rank_ic", "rank_ic_t", "top_bottom_bps_net", "n_timestamps"} <= set(m["ranking"])
    for m in report["models"].values():
        assert m["ranking"]["n_timestamps"] > 400 and -1 <= m["ranking"]["rank_ic"] <= 1
    assert report["baselines"]["always_up"]["ranking"]["n_timestamps"] == 0  # ties rank nothing
    assert {"coin_flip", "always_up", "momentum", "mean_reversion", "fitted_reversal"} <= set(report["baselines"])
    bar = report["baselines"]["fitted_reversal"]["auc"]
    assert 0.3 < bar < 0.7 and report["fitted_baseline"]["train_rows"] > 1000
    for name, m in report["models"].items():  # every model says how far it is above the fitted bar
        assert m["auc_above_fitted_baseline"] == pytest.approx(m["auc"] - bar)
        assert (m["auc_above_fitted_baseline"] <= 0) == (name in report["fitted_baseline"]["models_not_above"])
    comparison = report["ensemble_comparison"]  # the ensemble beside its best member and the plain means
    best = max((m for m in report["models"] if m != "ensemble"), key=lambda m: report["models"][m]["auc"])
    assert comparison["best_member"]["model"] == best
    assert comparison["ensemble"]["auc"] == report["models"]["ensemble"]["auc"]
    assert comparison["ensemble_minus_best_member"] == pytest.approx(
        report["models"]["ensemble"]["auc"] - report["models"][best]["auc"])
    assert len(comparison["mean_all"]["members"]) == len(MODEL_IDS)
    assert comparison["mean_boosters"]["members"] == ["catboost", "lightgbm", "xgboost"]
    assert "mean of the boosters" in (out / "report.md").read_text()
    assert report["audit"]["checked"] > 0 and report["audit"]["mismatches"] == []
    for name in ("report.md", "roc.png", "calibration.png", "equity.png", "auc.png", "ranking.png", "attention.png"):
        assert (out / name).stat().st_size > 0
    status = create_app({"TESTING": True, "ohlcv_dir": synthetic_dir, "models_dir": models}).test_client() \
        .get("/models/xgboost/status").get_json()
    assert status["metrics"]["test"]["n"] == report["models"]["xgboost"]["n"]


def test_evaluation_fails_loudly_when_a_feature_peeks(synthetic_dir, trained_dir, tmp_path, monkeypatch):
    """Make every feature row the *next* candle's: the audit sees the full and cut histories disagree.
    (Every column, not one: a smoke model may give any single feature next to no weight.)"""
    from coinpredict.features import pipeline

    honest = pipeline.compute_features

    def leaky(c, names, anchors=None, market=None):
        out = honest(c, names, anchors, market)
        out[:-1] = out[1:]
        out[-1] = np.nan
        return out

    monkeypatch.setattr(pipeline, "compute_features", leaky)
    start, end = iso(SYNTHETIC_END_MS - 10 * 86_400_000), iso(SYNTHETIC_END_MS)
    with pytest.raises(LookAheadError):
        runner.evaluate(data_dir=synthetic_dir, timeframe="1h", start=start, end=end, models_dir=trained_dir,
                        out_dir=tmp_path / "eval", model_ids=["xgboost", "gru_standard"], audit_samples=6,
                        **serving_path(trained_dir, synthetic_dir))


def test_a_model_trained_on_shuffled_labels_scores_chance(shared_ohlcv, tmp_path):
    from coinpredict.training.pipeline import train_models

    symbols = ["ADAUSDT", "LTCUSDT", "XLMUSDT"]
    models = tmp_path / "models"
    train_models(data_dir=shared_ohlcv, timeframe="1h", end="2025-03-01", start="2023-06-01", models_dir=models,
                 profile="smoke", model_ids=["lightgbm"], symbols=symbols, shuffle_labels=True)
    report = runner.evaluate(data_dir=shared_ohlcv, timeframe="1h", start="2025-03-01", end="2025-07-01",
                             models_dir=models, out_dir=tmp_path / "eval", symbols=symbols, model_ids=["lightgbm"],
                             audit_samples=2, **serving_path(models, shared_ohlcv))
    m = report["models"]["lightgbm"]
    assert m["n"] > 8000 and abs(m["auc"] - 0.5) < 0.025


def test_the_move_model_is_scored_against_the_rule_and_har(evaluated_dir):
    """metrics.json's ``move``: R^2 and QLIKE of the log range for the model, the rule and HAR; pinball of
    each quantile and interval coverage overall, per volatility tercile and per coin, model and rule."""
    from coinpredict.models.move import QUANTILE_NAMES

    move = json.loads((evaluated_dir.parent / "out" / "metrics.json").read_text())["move"]
    assert move["n"] > 100 and move["model_version"] and move["centre"] == "ensemble"
    assert {"rule", "model"} <= set(move["backtest"]) and move["backtest"]["signal_of"] == "ensemble"
    assert "## Move size and return quantiles" in (evaluated_dir.parent / "out" / "report.md").read_text()
    for figure in ("r2_log_move", "qlike"):
        assert set(move[figure]) == {"model", "rule", "har"} and all(np.isfinite(list(move[figure].values())))
    assert all(v >= 0 for v in move["qlike"].values())
    for name in ("model", "rule"):
        part = move[name]
        assert set(part["pinball_bps"]) == set(QUANTILE_NAMES) and all(v > 0 for v in part["pinball_bps"].values())
        assert 0 < part["coverage"]["coverage_50"] < part["coverage"]["coverage_90"] <= 1
        assert sum(t["n"] for t in part["coverage_by_tercile"].values()) == move["n"]
        assert sum(s["n"] for s in part["coverage_by_symbol"].values()) == move["n"]
