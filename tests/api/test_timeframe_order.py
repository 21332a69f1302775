"""Timeframes in their order of duration everywhere the service lists them (``15m, 1h, 4h, 1d``, never
the string order ``15m, 1d, 1h, 4h``), and /health counting stale coins once however many timeframes
they are stale on."""

from __future__ import annotations

import shutil

import pytest

from coinpredict.data.timeframes import by_duration
from coinpredict.models.artifacts import trained_timeframes

ORDER = ["15m", "1h", "4h", "1d"]


def test_by_duration_sorts_by_length_not_by_name():
    assert by_duration(["1d", "15m", "4h", "1h", "1w", "5m"]) == ["5m", "15m", "1h", "4h", "1d", "1w"]
    assert by_duration({"1h", "notes"}) == ["1h", "notes"]  # a stray folder name goes last


@pytest.fixture()
def four(synthetic_dir, trained_dir, tmp_path):
    """The smoke models served on four timeframes (copies of the 1h ones; the folder has 1h candles,
    from which 4h and 1d are resampled), their folders made in string order."""
    from coinpredict import create_app

    models = tmp_path / "models"
    for tf in sorted(ORDER):
        shutil.copytree(trained_dir / "1h", models / tf)
    return create_app({"TESTING": True, "ohlcv_dir": synthetic_dir, "models_dir": models, "offline": True})


def test_every_listing_orders_timeframes_by_duration(four):
    client = four.test_client()
    assert trained_timeframes(four.extensions["coinpredict"].settings.models_dir) == ORDER
    health = client.get("/health").get_json()
    assert health["timeframes"] == ORDER and list(health["data"]["by_timeframe"]) == ORDER
    assert list(client.get("/symbols?timeframe=1h").get_json()["trained"]) == ORDER
    listing = client.get("/models/list").get_json()
    assert listing["models"][0]["timeframes"] == ORDER and listing["ensemble"]["timeframes"] == ORDER
    assert client.get("/models/lightgbm/status").get_json()["timeframes"] == ORDER
    ensemble = client.get("/models/ensemble/status").get_json()
    assert ensemble["timeframes"] == ORDER and ensemble["timeframe"] == "1h"


def test_health_counts_each_stale_coin_once(four, synthetic_now):
    from coinpredict.common import clock

    clock.use(lambda: synthetic_now + 2 * 86_400)  # two days on: 1h and 4h are stale, 1d not yet
    health = four.test_client().get("/health").get_json()
    by_tf = health["data"]["by_timeframe"]
    assert by_tf["1h"]["stale_symbols"] == by_tf["4h"]["stale_symbols"] == 3 and by_tf["1d"]["stale_symbols"] == 0
    assert health["data"]["stale_symbols"] == 3  # three coins, not six coin-timeframe pairs
    [warning] = [w for w in health["warnings"] if "stale candles" in w]
    assert warning.startswith("3 symbols have stale candles (1h: 3, 4h: 3; e.g. BTCUSDT/1h")
