"""The symbols a live service keeps current on each timeframe: the top-100 universe, the market-context
anchors, and whatever was asked for in the last day (the ledger remembers). The worker refreshes these;
``/health`` judges staleness over these (a coin asked for once, months ago, is not kept)."""

from __future__ import annotations

from ..common import clock
from ..data.universe import Universe
from ..features.context import ANCHORS
from .store import LedgerStore

RECENT_S = 86_400.0


def watched_symbols(universe: Universe, ledger: LedgerStore, timeframes: list[str]) -> dict[str, set[str]]:
    coins, _ = universe.top(100)
    always = {f"{c}USDT" for c in coins} | set(ANCHORS.values())
    recent = ledger.recent_symbols(clock.now() - RECENT_S)
    return {tf: always | recent.get(tf, set()) for tf in timeframes}
