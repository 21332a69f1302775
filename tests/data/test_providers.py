"""One provider per candle source, chosen once from settings; nobody else tells sources apart by name."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from coinpredict.config import Settings
from coinpredict.data.market import MarketData
from coinpredict.data.providers import FolderProvider, LiveProvider, SyntheticProvider, make_provider
from coinpredict.data.refresher import CandleRefresher
from coinpredict.data.store import CandleStore
from coinpredict.errors import NotFound, Unavailable
from tests.conftest import SYNTHETIC_END_MS

PACKAGE = Path(__file__).resolve().parents[2] / "python-services" / "coinpredict"
PROVIDERS = PACKAGE / "data" / "providers"
MODE_STRINGS = {"csv", "live", "synthetic"}
H = 3_600_000


def mode_comparisons(tree: ast.AST) -> list[int]:
    """Lines comparing a ``.mode``/``.label`` or one of the mode strings (==, !=, in, is)."""
    lines = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Compare):
            continue
        sides = (node.left, *node.comparators)
        if any(isinstance(side, ast.Attribute) and side.attr in ("mode", "label") for side in sides) or any(
                isinstance(side, ast.Constant) and side.value in MODE_STRINGS for side in sides):
            lines.append(node.lineno)
    return lines


def test_no_module_outside_the_providers_compares_mode_strings():
    found = {str(path.relative_to(PACKAGE)): lines for path in PACKAGE.rglob("*.py")
             if PROVIDERS not in path.parents and (lines := mode_comparisons(ast.parse(path.read_text())))}
    assert found == {}


def test_the_check_finds_a_mode_comparison():
    assert mode_comparisons(ast.parse('if self.market.mode == "live" and x:\n    pass')) == [1]
    assert mode_comparisons(ast.parse('ok = meta.get("data_source") != "synthetic"')) == [1]
    assert mode_comparisons(ast.parse('ok = meta.get("data_source") == "request"')) == []


def test_the_factory_chooses_once_from_settings(tmp_path, synthetic_dir):
    store = tmp_path / "s.sqlite"
    both = make_provider(Settings(synthetic=True, ohlcv_dir=synthetic_dir, store_path=store))
    assert isinstance(both, SyntheticProvider)  # SYNTHETIC=1 wins over OHLCV_DIR, as OPERATIONS.md says
    assert isinstance(make_provider(Settings(ohlcv_dir=synthetic_dir, store_path=store)), FolderProvider)
    live = make_provider(Settings(offline=True, store_path=store))
    assert isinstance(live, LiveProvider) and live.live_store is live.store and live.pairs is None
    assert [p.live_store for p in (both, FolderProvider(synthetic_dir, lambda: 0))] == [None, None]


def test_a_folder_serves_no_candle_the_clock_has_not_closed(synthetic_dir):
    end_s = SYNTHETIC_END_MS / 1000
    folder = FolderProvider(synthetic_dir, lambda: end_s)
    earlier = folder.candles("BTCUSDT", "1h", 10, None, deadline=None, now=end_s - 2.5 * 3600)
    assert earlier.t[-1] == SYNTHETIC_END_MS - 4 * H and earlier.meta["data_source"] == "csv"
    assert folder.candles("BTCUSDT", "1h", 10, SYNTHETIC_END_MS - 9 * H, deadline=None, now=end_s).t[-1] \
        == SYNTHETIC_END_MS - 10 * H
    with pytest.raises(NotFound):
        folder.candles("NOPEUSDT", "1h", 10, None, deadline=None, now=end_s)
    assert folder.warning() is None and folder.symbols("1h") and not folder.parallel


def test_a_missing_folder_warns_naming_ohlcv_dir(tmp_path):
    market = MarketData(Settings(ohlcv_dir=tmp_path / "nowhere", store_path=tmp_path / "s.sqlite"))
    status = market.status()
    assert status.label == "csv" and status.warning.startswith("OHLCV_DIR ")
    assert str(tmp_path) not in status.warning  # no server path in an answer


def test_the_synthetic_market_refuses_unknown_coins_and_marks_its_prices_invented():
    now = SYNTHETIC_END_MS / 1000
    synthetic = SyntheticProvider(lambda: now)
    candles = synthetic.candles("BTCUSDT", "1h", 24, None, deadline=None, now=now)
    assert len(candles) == 24 and candles.t[-1] == SYNTHETIC_END_MS - H
    assert candles.meta["invented"] is True and candles.meta["warning"] == synthetic.warning()
    with pytest.raises(NotFound):
        synthetic.candles("NOPEUSDT", "1h", 24, None, deadline=None, now=now)


def test_the_live_store_offline_answers_from_what_it_holds_and_says_why(tmp_path, synthetic_dir):
    now = SYNTHETIC_END_MS / 1000
    live = LiveProvider(Settings(offline=True, store_path=tmp_path / "s.sqlite"), lambda: now)
    with pytest.raises(Unavailable):  # nothing stored and the exchange is not called: 503, not 404
        live.candles("BTCUSDT", "1h", 10, None, deadline=None, now=now)
    held = FolderProvider(synthetic_dir, lambda: now).candles("BTCUSDT", "1h", 50, SYNTHETIC_END_MS - 5 * H,
                                                              deadline=None, now=now)
    CandleStore(tmp_path / "s.sqlite").upsert(held)
    candles = live.candles("BTCUSDT", "1h", 10, None, deadline=None, now=now)
    assert candles.meta["data_source"] == "store" and candles.meta["data_stale"] is True
    assert candles.meta["stale_reason"] == "offline: the exchange is not called" and live.parallel


def test_only_a_live_market_has_a_refresher(synthetic_dir):
    with pytest.raises(TypeError):
        CandleRefresher(MarketData(Settings(offline=True, ohlcv_dir=synthetic_dir)))
