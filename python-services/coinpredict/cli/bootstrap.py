"""``make run``'s first step: decide once which candles the service serves and trains on
(``coinpredict.data.origin``: SYNTHETIC=1, OHLCV_DIR, the shared folder beside the repo, the exchange,
stored candles, the synthetic market with a loud warning), write that choice to data/run.env for the
web and the worker the Makefile starts next, and, when MODELS_DIR holds no loadable model, queue jobs
that train the default profile on every default timeframe (1h first) from those same candles. An
OHLCV_DIR with no candles stops it before anything is trained."""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

from coinpredict.config import REPO_ROOT, Settings
from coinpredict.data.origin import Download, MarketChoice, UnusableFolder, choose_market, synthetic_choice
from coinpredict.data.sources.exchange import ExchangeSource
from coinpredict.data.sources.synthetic import SyntheticSource
from coinpredict.data.timeframes import DEFAULT_HORIZONS
from coinpredict.errors import SourceError
from coinpredict.jobs import JobQueue
from coinpredict.jobs.queue import queue_default_training
from coinpredict.models.artifacts import trained_timeframes
from coinpredict.models.registry import MODEL_IDS
from coinpredict.training.pipeline import PROFILES

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


def fetch_candles(choice: MarketChoice, settings: Settings) -> MarketChoice:
    """Write the candles ``choice`` trains on when they come from the exchange or the synthetic market; an
    exchange that fails midway falls back to the synthetic market, which is then what is served too."""
    start = int((time.time() - HISTORY_DAYS * 86_400) * 1000)
    if choice.fetch is Download.EXCHANGE:
        exchange = ExchangeSource(settings.exchange_url)
        try:
            for coin in COINS:
                log.warning("downloading %sUSDT 1h candles from the exchange", coin)
                candles = exchange.fetch(f"{coin}USDT", "1h", start_ms=start)
                write_csv(choice.train_dir / "1h" / f"{coin}USDT.csv", candles)
            return choice
        except SourceError as exc:
            log.warning("exchange unreachable (%s)", exc)
            choice = synthetic_choice("the synthetic market (the exchange failed)")
    if choice.fetch is Download.SYNTHETIC:
        synthetic = SyntheticSource([f"{c}USDT" for c in COINS])  # the generator the service serves
        for tf in DEFAULT_HORIZONS:
            for coin in COINS:
                write_csv(choice.train_dir / tf / f"{coin}USDT.csv", synthetic.fetch(f"{coin}USDT", tf, start_ms=start))
    return choice


RUN_ENV = REPO_ROOT / "data" / "run.env"  # what ``make run`` exports to the Procfile's processes


def say_market(choice: MarketChoice) -> None:
    if choice.synthetic:
        banner = "=" * 100
        print(f"{banner}\nNO REAL MARKET: serving and training on {choice.origin} (SYNTHETIC=1): for a demo "
              f"only;\nevery answer says so and its signal is HOLD.\n{banner}")
    elif choice.serve_dir is not None:
        print(f"serving and training on the candles of {choice.origin} (OHLCV_DIR={choice.serve_dir})")
    else:
        print(f"serving the live market (the exchange, its candles kept in STORE_PATH); training on {choice.origin}")


def needs_training(settings: Settings) -> bool:
    found = trained_timeframes(settings.models_dir)
    if not found:
        print(f"no trained models in {settings.models_dir}")
        return True
    from coinpredict.serving import ModelStore

    store = ModelStore(settings.models_dir).load_all()
    if any(store.get(tf, m).status == "ready" for tf in found for m in MODEL_IDS):
        print(f"trained models found in {settings.models_dir}; serving them")
        return False
    reasons = sorted({store.get(tf, m).reason for tf in found for m in MODEL_IDS})
    print(f"models in {settings.models_dir} exist but none loads (for example: {reasons[0]}); training new "
          f"versions, the old ones are kept")
    return True


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--run-env", type=Path, default=RUN_ENV, help="where to write the chosen market's "
                        "variables (the Makefile sources data/run.env)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(message)s")
    settings = Settings.from_env()
    args.run_env.parent.mkdir(parents=True, exist_ok=True)
    args.run_env.write_text("")  # nothing of an earlier run's choice carries over
    if settings.train_profile not in PROFILES:
        print(f"make run: TRAIN_PROFILE is one of {', '.join(PROFILES)}, not {settings.train_profile!r}",
              file=sys.stderr)
        return 2
    try:
        choice = choose_market(settings)
    except UnusableFolder as exc:
        print(f"make run: {exc}: nothing to serve or train on, so nothing is started. Point OHLCV_DIR at a "
              f"folder laid out as <timeframe>/<SYMBOL>.csv (a relative path is read from the repo root) or "
              f"unset it.", file=sys.stderr)
        return 2
    train = needs_training(settings)
    if train:
        choice = fetch_candles(choice, settings)
    say_market(choice)
    args.run_env.write_text(choice.run_env())
    if not train:
        return 0
    queue = JobQueue(settings)
    queue.reap()
    for timeframe, job in queue_default_training(queue, from_store=choice.train_dir is None,
                                                 profile=settings.train_profile):
        if job is None:
            print(f"a {timeframe} training job is already queued or running")
        else:
            print(f"queued job {job['id']}: train the {settings.train_profile} profile on {timeframe} candles "
                  f"from {choice.origin}")
    print("the service answers at once (503 model_not_ready until the first models are trained); the worker "
          "trains them in about 15 minutes on 2 cores, 1h first: watch /health or /jobs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
