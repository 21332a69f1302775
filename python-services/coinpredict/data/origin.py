"""Which candles ``make run`` serves and trains on, decided once (``scripts/bootstrap.py``) and handed to
every process it starts through ``data/run.env``, so the web answers from the market the models learn.

Looked for in this order: SYNTHETIC=1 (asked for), OHLCV_DIR (which must hold candles), the shared folder
beside the repo, the exchange (trained on a download into data/ohlcv, served live), candles stored by an
earlier live run, an earlier download, and last the synthetic market (said loudly)."""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from ..config import REPO_ROOT, Settings
from .sources.csvdir import folder_problem
from .sources.exchange import ExchangeSource
from .stores import open_candle_store

SHARED_OHLCV = REPO_ROOT.parent / "shared" / "data" / "ohlcv"
DOWNLOADED_OHLCV = REPO_ROOT / "data" / "ohlcv"
SYNTHETIC_OHLCV = REPO_ROOT / "data" / "synthetic-ohlcv"


class Download(Enum):
    """Candles ``make run`` writes into the training folder before training."""

    EXCHANGE = "exchange"
    SYNTHETIC = "synthetic"


class UnusableFolder(ValueError):
    """OHLCV_DIR names a folder with nothing to serve or train on; never replaced by another source."""


@dataclass(frozen=True)
class MarketChoice:
    origin: str  # where the candles come from, as said to the user
    serve_dir: Path | None  # OHLCV_DIR of every process; None: the live exchange and its store
    train_dir: Path | None  # the folder training reads; None: the store, written out per job
    synthetic: bool = False  # SYNTHETIC=1 for every process: the synthetic market, served and trained on
    fetch: Download | None = None  # candles to write into train_dir before training

    def run_env(self) -> str:
        """The lines of data/run.env (sourced by the Makefile): the same market for the web and the worker."""
        lines = [f"OHLCV_DIR={shlex.quote(str(self.serve_dir))}"] if self.serve_dir else []
        lines += ["SYNTHETIC=1"] if self.synthetic else []
        return "".join(f"{line}\n" for line in lines)


def synthetic_choice(origin: str, folder: Path = SYNTHETIC_OHLCV) -> MarketChoice:
    return MarketChoice(origin, folder, folder, synthetic=True, fetch=Download.SYNTHETIC)


def choose_market(settings: Settings, *, shared: Path = SHARED_OHLCV, downloaded: Path = DOWNLOADED_OHLCV,
                  synthetic: Path = SYNTHETIC_OHLCV) -> MarketChoice:
    """The one market ``make run`` serves and trains on; raises UnusableFolder for an OHLCV_DIR that
    does not exist or holds no candle file."""
    if settings.synthetic:
        return synthetic_choice("the synthetic market (SYNTHETIC=1)", synthetic)
    if settings.ohlcv_dir is not None:
        if problem := folder_problem(settings.ohlcv_dir):
            raise UnusableFolder(f"OHLCV_DIR ({settings.ohlcv_dir}) {problem}")
        return MarketChoice("OHLCV_DIR", settings.ohlcv_dir, settings.ohlcv_dir)
    if folder_problem(shared) is None:
        return MarketChoice("the shared candle folder", shared, shared)
    if not settings.offline and ExchangeSource(settings.exchange_url).reachable():
        return MarketChoice("the exchange", None, downloaded, fetch=Download.EXCHANGE)
    store = open_candle_store(settings)
    try:
        if store.count():
            return MarketChoice("the candles stored by an earlier live run", None, None)
    finally:
        store.close()
    if folder_problem(downloaded) is None:
        return MarketChoice("the candles downloaded from the exchange earlier", downloaded, downloaded)
    return synthetic_choice("the synthetic market (no real candles and no exchange)", synthetic)
