"""The shortened replay (scripts/replay.py): the Procfile's web and worker run from an empty store
against a loopback exchange on an accelerated clock for two simulated days of 1h candles, under steady
traffic, with a scheduled retraining; every answer is from candles at most one period old, each served
version's live AUC equals evaluate.py's on the same candles, no candle or outcome is lost, and one
retraining runs per due time.

A signal and a topk strategy trade on paper live through the replay, and scripts/backtest.py's engine over
the same candles and model versions gives the same trades and equity to 1e-6 of capital: no close skipped
or doubled (the served signal at FEE_BPS=0, so smoke models trade).

The many-machine run (``--webs 2 --workers 2 --database-url --redis-url --kill-leader-after-h``) is run by
hand; docs/live.md gives its figures and what it found."""

from __future__ import annotations

import json
import subprocess
import sys

from coinpredict.common.times import iso
from tests.conftest import REPO, SYNTHETIC_END_MS


def test_two_simulated_days_live_agree_with_the_offline_evaluation(synthetic_dir, tmp_path):
    start = iso(SYNTHETIC_END_MS - 3 * 86_400_000)
    out = tmp_path / "replay.json"
    run = subprocess.run([sys.executable, str(REPO / "scripts" / "replay.py"), "--data-dir", str(synthetic_dir),
                          "--start", start, "--days", "2", "--minutes", "0.75", "--retrain-every", "1h=36h",
                          "--clients", "1", "--job-wait-s", "300", "--strategies", "--fee-bps", "0",
                          "--work", str(tmp_path / "work"), "--json", str(out)],
                         capture_output=True, text=True, timeout=600)
    tail = run.stdout[-3000:] + run.stderr[-3000:]
    assert run.returncode == 0, tail
    result = json.loads(out.read_text())
    traffic = result["traffic"]
    assert traffic["answers"] > 500 and traffic["errors"] == 0 and traffic["too_old"] == 0, tail
    assert result["worst_age_s"] <= 3600
    scheduled = [j for j in result["jobs"] if j["params"].get("scheduled")]
    assert len({j["params"]["end"] for j in scheduled}) == len(scheduled), scheduled  # one per due time
    assert scheduled and all(j["status"] == "succeeded" and j["params"]["data"] == "store" for j in scheduled), tail
    assert all(j["result"]["gate"] for j in scheduled)  # every member was gated against the serving version
    checked = result["agreement"]
    assert {r["model"] for r in checked} >= {"ensemble", "lightgbm", "gru_attention"}, tail
    for r in checked:
        assert r["n_matched"] == r["n"] and r["label_mismatches"] == 0, r
        assert abs(r["auc_diff"]) <= 1e-6 and r["max_prob_diff"] <= 1e-5, r
    assert result["live"]["lightgbm"]["n_scored"] >= 3 * 40
    # About one fetch per symbol and candle (the worker's, or a request's in the moments after a close), never
    # one per request or per tick: also while the clock runs past the folder's last candle at the end.
    assert result["exchange_calls"]["/api/v3/klines"] <= 2 * 3 * result["simulated_hours"] + 20
    assert not any(result["missing_candles"].values()) and result["unscored"] == 0, tail  # nothing lost
    strategies = {r["kind"]: r for r in result["strategies"]}
    assert set(strategies) == {"signal", "topk"}, tail
    for r in strategies.values():
        assert r["ok"] and not r["skipped"] and r["closes"] >= 40, (r, tail)
        assert r["books"]["trades_live"] > 0 and r["books"]["closes_live"] == r["closes"], r
        assert all(d["near_threshold"] for d in r["decision_diffs"]), r
