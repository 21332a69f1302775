"""What a strategy wants to hold at a rebalance, and how large: the typed forecast it reads, the two
kinds' choice of sides (``signal_sides``, ``topk_sides``) and the sizing methods."""

from __future__ import annotations

import math
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from .config import Sizing, StrategyConfig


class Forecast(BaseModel):
    """One coin's served forecast at a close (the fields of a ``/predict`` answer the engine reads)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    symbol: str
    probability_up: float = Field(ge=0, le=1)
    signal: Literal["BUY", "SELL", "HOLD"]
    edge_bps: float
    expected_move_bps: float = Field(ge=0)
    probability_outperform: float | None = Field(default=None, ge=0, le=1)


def signal_sides(forecasts: dict[str, Forecast], short: bool) -> dict[str, int]:
    """Each coin's served signal as a side: BUY long, SELL short (flat when shorts are not allowed), HOLD
    flat."""
    sides = {"BUY": 1, "SELL": -1 if short else 0, "HOLD": 0}
    return {s: sides[f.signal] for s, f in forecasts.items()}


def signal_priority(forecasts: dict[str, Forecast]) -> list[str]:
    """Coins to open first when limits leave room for only some: the largest edge, then by name."""
    return sorted(forecasts, key=lambda s: (-abs(forecasts[s].edge_bps), s))


def score(f: Forecast, rank_by: str) -> float | None:
    return f.probability_up if rank_by == "up" else f.probability_outperform


def _dropout(held: list[str], ranked: list[str], scores: dict[str, float], k: int, n_drop: int,
             can_buy) -> tuple[list[str], list[str]]:
    """qlib's TopkDropoutStrategy on one side: (sell, buy). ``ranked``: best first; a held coin without
    a score ranks last. At most ``n_drop`` held coins are replaced, by the best not held."""
    def key(s):
        return (-scores[s], s) if s in scores else (math.inf, s)

    last = sorted(held, key=key)
    today = [s for s in ranked if s not in held and can_buy(s)][: max(n_drop + k - len(last), 0)]
    comb = sorted(last + today, key=key)
    dropped = set(comb[len(comb) - n_drop:]) if n_drop > 0 else set()
    sell = [s for s in last if s in dropped]
    buy = today[: max(len(sell) + k - len(last), 0)]
    return sell, buy


def topk_sides(forecasts: dict[str, Forecast], held: dict[str, int], config: StrategyConfig,
               can_buy) -> tuple[dict[str, int], list[str]]:
    """(side per coin for the coins whose side changes or stays, coins to open in rank order): the k
    best-ranked long, the k worst short when shorts are allowed, at most ``n_drop`` replaced per side."""
    scores = {s: v for s, f in forecasts.items() if (v := score(f, config.rank_by)) is not None}
    ranked = sorted(scores, key=lambda s: (-scores[s], s))
    k, n_drop = config.k or 0, config.drop
    sides = dict(held)
    sell, buy = _dropout([s for s, v in held.items() if v > 0], ranked, scores, k, n_drop, can_buy)
    for s in sell:
        sides[s] = 0
    opens = list(buy)
    if config.short:
        worst = {s: -v for s, v in scores.items()}
        ranked_short = [s for s in sorted(scores, key=lambda s: (scores[s], s))
                        if s not in buy and sides.get(s, 0) <= 0]
        sell_s, buy_s = _dropout([s for s, v in held.items() if v < 0], ranked_short, worst, k, n_drop, can_buy)
        for s in sell_s:
            sides[s] = 0
        for s in buy_s:
            sides[s] = -1
        opens += buy_s
    for s in buy:
        sides[s] = 1
    return sides, opens


def size(f: Forecast, sizing: Sizing) -> float:
    """A new position's size as a fraction of equity, before limits: ``fraction``, or for ``vol_target``
    ``target_bps / expected_move_bps`` (no position when the forecast has no expected move)."""
    if sizing.method == "fixed_fraction":
        return float(sizing.fraction)
    return float(sizing.target_bps) / f.expected_move_bps if f.expected_move_bps > 0 else 0.0
