"""``scripts/backtest.py`` end to end on the smoke-trained models and their synthetic folder."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from coinpredict.cli.backtest import main
from coinpredict.common.times import iso
from tests.conftest import SYNTHETIC_END_MS, SYNTHETIC_SYMBOLS

from .helpers import strategy

SUMMARY_FIELDS = {"strategy", "start", "end", "return_net", "return_gross", "sharpe", "sortino", "max_drawdown",
                  "exposure", "turnover", "trades", "fees", "limit_events", "buy_and_hold", "market"}


def _run(tmp_path, synthetic_dir, trained_dir, raw: dict, name: str):
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(raw))
    out = tmp_path / name
    rc = main(["--strategy", str(path), "--data-dir", str(synthetic_dir), "--models-dir", str(trained_dir),
               "--start", iso(SYNTHETIC_END_MS - 72 * 3_600_000), "--end", iso(SYNTHETIC_END_MS), "--out", str(out)])
    return rc, out


@pytest.mark.parametrize("kind", ["signal", "topk"])
def test_the_backtest_writes_its_summary_equity_trades_and_report(tmp_path, synthetic_dir, trained_dir, kind,
                                                                  monkeypatch):
    # Smoke models rarely beat a 20 bps round trip: the service's signal at FEE_BPS=0 trades (the strategy's
    # own fills still pay its 10 bps and 2 bps of slippage).
    monkeypatch.setenv("FEE_BPS", "0")
    extra = {"kind": "topk", "k": 1, "n_drop": 1} if kind == "topk" else {}
    raw = strategy(universe=SYNTHETIC_SYMBOLS, sizing={"fraction": 0.3}, short=True,
                   limits={"max_position": 0.4, "max_daily_loss": 0.2, "max_drawdown": 0.5}, **extra)
    rc, out = _run(tmp_path, synthetic_dir, trained_dir, raw, kind)
    assert rc == 0
    summary = json.loads((out / "summary.json").read_text())
    assert SUMMARY_FIELDS <= set(summary)
    assert set(summary["buy_and_hold"]) == set(summary["market"]) == {"return", "sharpe", "sortino", "max_drawdown"}
    equity = pd.read_csv(out / "equity.csv")
    trades = pd.read_csv(out / "trades.csv")
    assert list(trades.columns[:7]) == ["time", "symbol", "side", "quantity", "price", "fee", "slippage"]
    assert 60 <= len(equity) <= 72 and summary["trades"] == len(trades) > 0
    assert summary["return_net"] == pytest.approx(equity["equity"].iloc[-1] / 10_000 - 1, abs=1e-9)
    assert summary["fees"] == pytest.approx(trades["fee"].sum(), rel=1e-6)
    assert summary["return_gross"] > summary["return_net"]  # the costs were paid
    assert set(trades["symbol"]) <= set(SYNTHETIC_SYMBOLS)
    report = (out / "report.md").read_text()
    assert "![equity.png](equity.png)" in report and (out / "equity.png").stat().st_size > 1000
    assert "buy-and-hold" in report and str(tmp_path) not in report


def test_a_bad_strategy_exits_2_naming_the_field(tmp_path, synthetic_dir, trained_dir, capsys):
    rc, out = _run(tmp_path, synthetic_dir, trained_dir, strategy(universe=["NOPEUSDT"]), "bad")
    assert rc == 2 and not out.exists()
    assert json.loads(capsys.readouterr().err)["error"]["field"] == "universe"


@pytest.mark.parametrize(("start", "end", "field", "says"), [
    ("2025-13-01", iso(SYNTHETIC_END_MS), "start", "not a date"),
    (iso(SYNTHETIC_END_MS - 3_600_000), "yesterday", "end", "not a date"),
    (iso(SYNTHETIC_END_MS), iso(SYNTHETIC_END_MS - 72 * 3_600_000), "end", "not before"),
    ("2020-01-01", iso(SYNTHETIC_END_MS), "start", "before the folder's candles"),
    (iso(SYNTHETIC_END_MS - 3_600_000), iso(SYNTHETIC_END_MS + 3_600_000), "end", "after the folder's candles"),
])
def test_start_and_end_are_checked_with_a_clear_error(tmp_path, synthetic_dir, start, end, field, says, capsys):
    path = tmp_path / "s.json"
    path.write_text(json.dumps(strategy(universe=SYNTHETIC_SYMBOLS)))
    out = tmp_path / "out"
    rc = main(["--strategy", str(path), "--data-dir", str(synthetic_dir), "--models-dir", str(tmp_path / "none"),
               "--start", start, "--end", end, "--out", str(out)])
    error = json.loads(capsys.readouterr().err)["error"]
    assert rc == 2 and not out.exists()
    assert error["field"] == field and says in error["message"] and str(tmp_path) not in error["message"]
