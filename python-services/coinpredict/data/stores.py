"""Which candle store a process opens, decided from settings in one place (``open_candle_store``):

- the deployment's, on PostgreSQL, when ``DATABASE_URL`` is PostgreSQL (``data.store_pg``): every
  machine reads the candles the leading worker fetched, so each candle is fetched once;
- the embedded SQLite file at ``STORE_PATH`` otherwise (``data.store``), or when ``CANDLE_STORE=sqlite``
  keeps a machine's candles its own although the database is PostgreSQL.

Both keep the interface below (``CandleStorage``) and give the same results (tests/data/test_store_contract.py)."""

from __future__ import annotations

from typing import Protocol

from ..config import Settings
from .candles import Candles
from .store import CandleStore

BACKENDS = ("auto", "sqlite", "postgresql")


class CandleStorage(Protocol):
    shared: bool  # every machine of the deployment reads it (a catch-up may wait on another's fetch)

    def upsert(self, candles: Candles, *, signature: str | None = None) -> int: ...

    def touch(self, symbol: str, timeframe: str, source: str, signature: str | None = None) -> None: ...

    def series_info(self, symbol: str, timeframe: str) -> dict | None: ...

    def last_time(self, symbol: str, timeframe: str) -> int | None: ...

    def read(self, symbol: str, timeframe: str, *, last: int | None = None, start_ms: int | None = None,
             end_ms: int | None = None) -> Candles: ...

    def read_many(self, symbols: list[str], timeframe: str, last: int) -> dict[str, Candles]: ...

    def symbols(self, timeframe: str) -> list[str]: ...

    def summary(self, timeframe: str, extra_columns: tuple[str, ...] = ()) -> list[tuple[str, int, int, tuple]]: ...

    def count(self) -> int: ...

    def close(self) -> None: ...


def is_postgresql(url: str) -> bool:
    return url.split(":", 1)[0].split("+", 1)[0] in ("postgresql", "postgres")


def candle_store_backend(settings: Settings) -> str:
    """``postgresql`` or ``sqlite``, from ``CANDLE_STORE`` (``auto``: PostgreSQL when the database is)."""
    asked = settings.candle_store
    if asked not in BACKENDS:
        raise ValueError(f"CANDLE_STORE is one of {', '.join(BACKENDS)}; got {asked!r}")
    if asked == "postgresql" and not is_postgresql(settings.database_url):
        raise ValueError("CANDLE_STORE=postgresql keeps the candles in DATABASE_URL, which is not PostgreSQL")
    if asked == "auto":
        return "postgresql" if is_postgresql(settings.database_url) else "sqlite"
    return asked


def open_candle_store(settings: Settings) -> CandleStorage:
    """The candle store the settings ask for; the PostgreSQL one connects on its first use."""
    if candle_store_backend(settings) == "postgresql":
        from .store_pg import PostgresCandleStore

        return PostgresCandleStore(settings.database_url)
    return CandleStore(settings.store_path)
