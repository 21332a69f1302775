"""Shared fixtures: a small synthetic OHLCV_DIR, models smoke-trained on it once per session, and
the Flask app and client built from ``create_app`` over them."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from coinpredict.data.sources.synthetic import SyntheticSource

REPO = Path(__file__).resolve().parents[1]
SHARED_OHLCV = Path(os.environ.get("SHARED_OHLCV", REPO.parent / "shared" / "data" / "ohlcv"))
SYNTHETIC_SYMBOLS = ["BTCUSDT", "ETHUSDT", "SOLUSDT"]
SYNTHETIC_END_MS = 1_750_000_000_000 // 3_600_000 * 3_600_000  # a fixed hour in June 2025


def write_ohlcv_csv(path: Path, candles) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    frame = pd.DataFrame({
        "timestamp": pd.to_datetime(candles.t, unit="ms").strftime("%Y-%m-%d %H:%M:%S"),
        "open": candles.open, "high": candles.high, "low": candles.low, "close": candles.close,
        "volume": candles.volume,
    })
    frame.to_csv(path, index=False)


@pytest.fixture(scope="session", autouse=True)
def private_state(tmp_path_factory):
    """Job records and the task queue of every app a test builds live in a temporary folder, never in
    the repository's data/ (where a running service keeps its own)."""
    root = tmp_path_factory.mktemp("state")
    saved = {k: os.environ.get(k) for k in ("DATABASE_URL", "QUEUE_PATH")}
    os.environ["DATABASE_URL"] = f"sqlite:///{root / 'coinpredict.sqlite'}"
    os.environ["QUEUE_PATH"] = str(root / "queue.sqlite")
    yield root
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture(scope="session")
def shared_ohlcv() -> Path:
    if not (SHARED_OHLCV / "1h").is_dir():
        pytest.skip(f"real candles not found at {SHARED_OHLCV} (the ../shared data folder is absent)")
    return SHARED_OHLCV


@pytest.fixture(scope="session")
def synthetic_dir(tmp_path_factory) -> Path:
    """Three synthetic symbols, 2,500 hourly candles each, in the OHLCV_DIR layout."""
    root = tmp_path_factory.mktemp("ohlcv")
    source = SyntheticSource(SYNTHETIC_SYMBOLS, seed=11, clock=lambda: SYNTHETIC_END_MS / 1000)
    for symbol in SYNTHETIC_SYMBOLS:
        candles = source.fetch(symbol, "1h").last(2500)
        write_ohlcv_csv(root / "1h" / f"{symbol}.csv", candles)
    return root


@pytest.fixture(scope="session")
def trained_dir(synthetic_dir, tmp_path_factory) -> Path:
    """All 19 models and the ensemble, smoke-trained on the synthetic folder."""
    from coinpredict.common.times import iso
    from coinpredict.training.pipeline import train_models

    models = tmp_path_factory.mktemp("models")
    train_models(data_dir=synthetic_dir, timeframe="1h", end=iso(SYNTHETIC_END_MS), models_dir=models,
                 profile="smoke")
    return models


@pytest.fixture(scope="module")
def with_other_horizons(trained_dir, synthetic_dir, tmp_path_factory):
    """(a copy of the smoke models plus a lightgbm version trained on horizon 2 only, not promoted; that
    version): what a promotion the serving cannot use is tested with."""
    import shutil

    from tests.versioning import train_other_horizons

    models = tmp_path_factory.mktemp("models-h2")
    shutil.copytree(trained_dir, models, dirs_exist_ok=True)
    return models, train_other_horizons(models, synthetic_dir)


@pytest.fixture()
def app(synthetic_dir, trained_dir):
    from coinpredict import create_app

    return create_app({"TESTING": True, "ohlcv_dir": synthetic_dir, "models_dir": trained_dir, "offline": True})


@pytest.fixture()
def synthetic_now():
    """The service's clock (common.clock) set half an hour after the synthetic folder's last candle closed,
    so its candles are current; the wall clock again afterwards."""
    from coinpredict.common import clock

    now = SYNTHETIC_END_MS / 1000 + 1800
    previous = clock.use(lambda: now)
    yield now
    clock.use(previous)


@pytest.fixture()
def client(app):
    return app.test_client()


@pytest.fixture()
def rng():
    return np.random.default_rng(0)


@pytest.fixture(scope="session")
def postgres():
    """A real PostgreSQL server on a free loopback port for the whole session (skips without one)."""
    from tests.jobs.servers import postgres_server

    with postgres_server() as url:
        yield url


@pytest.fixture(scope="session")
def redis_url():
    """A real Redis server on a free loopback port for the whole session (skips without one); tests keep
    to keys of their own."""
    from tests.jobs.servers import redis_server

    with redis_server() as url:
        yield url


@pytest.fixture(scope="session")
def evaluated_dir(synthetic_dir, trained_dir, tmp_path_factory) -> Path:
    """A copy of the smoke models with an evaluation of their last two days published beside them
    (``GET /evaluation``); its ``--out`` folder is the sibling ``out``."""
    import shutil

    from coinpredict.common.times import iso
    from coinpredict.evaluation.runner import evaluate
    from coinpredict.serving import ModelStore, Predictor

    root = tmp_path_factory.mktemp("evaluated")
    models = root / "models"
    shutil.copytree(trained_dir, models)
    store = ModelStore(models).load_all()
    evaluate(data_dir=synthetic_dir, timeframe="1h", start=iso(SYNTHETIC_END_MS - 2 * 86_400_000),
             end=iso(SYNTHETIC_END_MS), models_dir=models, out_dir=root / "out", store=store,
             serve=Predictor.offline(store, synthetic_dir).probability, audit_samples=1)
    return models
