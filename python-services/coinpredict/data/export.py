"""The live store as a candle folder (``<timeframe>/<SYMBOL>.csv``, the OHLCV_DIR layout), so training
reads the candles the service ingested exactly as it reads any folder. Files are written whole (a
temporary name, then a rename)."""

from __future__ import annotations

from pathlib import Path

from .stores import CandleStorage

MIN_CANDLES = 1000  # a symbol with less history adds too few training rows to be worth its warm-up


def trainable_symbols(store: CandleStorage, timeframe: str, min_candles: int = MIN_CANDLES) -> list[str]:
    """Stored symbols with at least ``min_candles`` candles on ``timeframe`` (by their span)."""
    from .timeframes import TIMEFRAME_MS

    step = TIMEFRAME_MS[timeframe]
    return [s for s, first, last, _ in store.summary(timeframe) if (last - first) // step + 1 >= min_candles]


def export_store(store: CandleStorage, timeframe: str, root: Path, symbols: list[str]) -> Path:
    """Write ``symbols``' stored candles on ``timeframe`` under ``root``; returns ``root``."""
    folder = Path(root) / timeframe
    folder.mkdir(parents=True, exist_ok=True)
    for symbol in symbols:
        frame = store.read(symbol, timeframe).to_frame()
        path = folder / f"{symbol}.csv"
        tmp = path.with_suffix(".tmp")
        frame.rename(columns={"t": "timestamp"}).to_csv(tmp, index=False)
        tmp.replace(path)
    return Path(root)
