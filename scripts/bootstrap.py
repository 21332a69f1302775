#!/usr/bin/env python
"""``make run``'s first step: when MODELS_DIR holds no trained model, find candles and queue jobs that
train the default profile on every default timeframe (1h, 4h, 1d) with their default horizons; the
worker started next to the web runs them. Candles come from OHLCV_DIR, else the shared folder beside
the repo, else the exchange (downloaded into data/ohlcv), else the synthetic market (with a loud
warning)."""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "python-services"))

from coinpredict.config import REPO_ROOT, Settings  # noqa: E402
from coinpredict.data.sources.exchange import ExchangeSource  # noqa: E402
from coinpredict.data.sources.synthetic import SyntheticSource  # noqa: E402
from coinpredict.data.timeframes import DEFAULT_HORIZONS  # noqa: E402
from coinpredict.errors import SourceError  # noqa: E402
from coinpredict.jobs import JobQueue  # noqa: E402
from coinpredict.models.artifacts import trained_timeframes  # noqa: E402
from coinpredict.models.registry import MODEL_IDS  # noqa: E402

log = logging.getLogger("bootstrap")
COINS = ["BTC", "ETH", "BNB", "XRP", "ADA", "DOGE", "SOL", "TRX", "LTC", "AVAX", "DOT", "LINK", "XLM", "BCH",
         "ATOM", "ETC"]
HISTORY_DAYS = 3 * 365


def write_csv(path: Path, candles) -> None:
    import pandas as pd

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    pd.DataFrame({"timestamp": pd.to_datetime(candles.t, unit="ms").strftime("%Y-%m-%d %H:%M:%S"),
                  "open": candles.open, "high": candles.high, "low": candles.low, "close": candles.close,
                  "volume": candles.volume}).to_csv(tmp, index=False)
    tmp.replace(path)


def find_data(settings: Settings) -> tuple[Path, str]:
    if settings.ohlcv_dir:
        return settings.ohlcv_dir, "OHLCV_DIR"
    shared = REPO_ROOT.parent / "shared" / "data" / "ohlcv"
    if (shared / "1h").is_dir():
        return shared, "the shared candle folder"
    target = REPO_ROOT / "data" / "ohlcv"
    start = int((time.time() - HISTORY_DAYS * 86_400) * 1000)
    if not settings.offline:
        exchange = ExchangeSource(settings.exchange_url)
        try:
            for coin in COINS:
                log.warning("downloading %sUSDT 1h candles from the exchange", coin)
                write_csv(target / "1h" / f"{coin}USDT.csv", exchange.fetch(f"{coin}USDT", "1h", start_ms=start))
            return target, "the exchange"
        except SourceError as exc:
            log.warning("exchange unreachable (%s)", exc)
    target = REPO_ROOT / "data" / "synthetic-ohlcv"
    log.warning("NO REAL DATA: training on the synthetic market; predictions will have no real meaning")
    synthetic = SyntheticSource([f"{c}USDT" for c in COINS])
    for coin in COINS:
        write_csv(target / "1h" / f"{coin}USDT.csv", synthetic.fetch(f"{coin}USDT", "1h", start_ms=start))
    return target, "the synthetic market"


RUN_ENV = REPO_ROOT / "data" / "run.env"  # what ``make run`` exports to the Procfile's processes


def market_mode(settings: Settings) -> str:
    """``SYNTHETIC=1`` for the processes ``make run`` starts when there is no real market to serve: no
    candle folder, no stored candles and no exchange. Said loudly; never decided by the service itself."""
    from coinpredict.data.store import CandleStore

    real = settings.synthetic or settings.ohlcv_dir or CandleStore(settings.store_path).count() or \
        (not settings.offline and ExchangeSource(settings.exchange_url).reachable())
    if real:
        return ""
    banner = "=" * 100
    print(f"{banner}\nNO REAL MARKET: no OHLCV_DIR, no stored candles and the exchange is unreachable. Serving the "
          f"SYNTHETIC market\n(SYNTHETIC=1): for a demo only; every answer says so and its signal is HOLD.\n{banner}")
    return "SYNTHETIC=1\n"


def main() -> int:
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(message)s")
    settings = Settings.from_env()
    RUN_ENV.parent.mkdir(parents=True, exist_ok=True)
    RUN_ENV.write_text(market_mode(settings))
    found = trained_timeframes(settings.models_dir)
    if found:
        from coinpredict.serving import ModelStore

        store = ModelStore(settings.models_dir).load_all()
        if any(store.get(tf, m).status == "ready" for tf in found for m in MODEL_IDS):
            print(f"trained models found in {settings.models_dir}; serving them")
            return 0
        reasons = sorted({store.get(tf, m).reason for tf in found for m in MODEL_IDS})
        print(f"models in {settings.models_dir} exist but none loads (for example: {reasons[0]}); training new "
              f"versions, the old ones are kept")
    else:
        print(f"no trained models in {settings.models_dir}")
    data_dir, origin = find_data(settings)
    queue = JobQueue(settings)
    queue.reap()
    waiting = {j["timeframe"] for j in queue.store.active()}
    for timeframe in DEFAULT_HORIZONS:
        if timeframe in waiting:
            print(f"a {timeframe} training job is already queued or running")
            continue
        job = queue.submit("train", timeframe, {"models": "all", "profile": "default", "promote": "always"})
        print(f"queued job {job['id']}: train the default profile on {timeframe} candles from {origin} ({data_dir})")
    print("the service answers at once (503 model_not_ready until the first models are trained); the worker "
          "trains them in about 15 minutes on 2 cores: watch /health or /jobs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
