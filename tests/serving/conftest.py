"""Serving parts over the session's smoke-trained models and synthetic candle folder (no Flask)."""

from __future__ import annotations

import pytest

from coinpredict.config import Settings
from coinpredict.data.market import MarketData
from coinpredict.serving import ModelStore


@pytest.fixture(scope="session")
def store(trained_dir) -> ModelStore:
    return ModelStore(trained_dir).load_all()


@pytest.fixture()
def market(synthetic_dir) -> MarketData:
    return MarketData(Settings(offline=True, ohlcv_dir=synthetic_dir))
