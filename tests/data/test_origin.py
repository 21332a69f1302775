"""``make run``'s one market (data.origin): what it serves is what it trains on."""

from __future__ import annotations

import pytest

from coinpredict.config import Settings
from coinpredict.data.origin import Download, UnusableFolder, choose_market
from coinpredict.data.sources.exchange import ExchangeSource


def choose(tmp_path, synthetic_dir, *, shared=None, **settings):
    return choose_market(Settings(store_path=tmp_path / "candles.sqlite", offline=True, **settings),
                         shared=shared or tmp_path / "no-shared", downloaded=tmp_path / "no-download",
                         synthetic=tmp_path / "synthetic")


def test_the_shared_folder_is_served_and_trained_on(tmp_path, synthetic_dir):
    choice = choose(tmp_path, synthetic_dir, shared=synthetic_dir)
    assert choice.serve_dir == choice.train_dir == synthetic_dir and not choice.synthetic
    assert choice.run_env() == f"OHLCV_DIR={synthetic_dir}\n"


def test_synthetic_only_when_nothing_real_and_then_for_both(tmp_path, synthetic_dir):
    choice = choose(tmp_path, synthetic_dir)
    assert choice.synthetic and choice.serve_dir == choice.train_dir == tmp_path / "synthetic"
    assert choice.run_env() == f"OHLCV_DIR={tmp_path / 'synthetic'}\nSYNTHETIC=1\n"


def test_a_reachable_exchange_is_served_live_and_downloaded_for_training(tmp_path, synthetic_dir, monkeypatch):
    monkeypatch.setattr(ExchangeSource, "reachable", lambda self, timeout=2.0: True)
    choice = choose_market(Settings(store_path=tmp_path / "c.sqlite"), shared=tmp_path / "none",
                           downloaded=tmp_path / "dl", synthetic=tmp_path / "syn")
    assert choice.serve_dir is None and choice.train_dir == tmp_path / "dl" and choice.fetch is Download.EXCHANGE
    assert choice.run_env() == ""


def test_an_ohlcv_dir_is_never_replaced(tmp_path, synthetic_dir):
    (tmp_path / "empty").mkdir()
    for folder in (tmp_path / "missing", tmp_path / "empty"):
        with pytest.raises(UnusableFolder, match="OHLCV_DIR"):
            choose(tmp_path, synthetic_dir, shared=synthetic_dir, ohlcv_dir=folder)
