"""A strategy as data (API.md, Strategies): the one validated shape the API, the worker and
``scripts/backtest.py`` share.

Field checks are pydantic's; contradictions between fields (a position cap above the gross cap, ``k`` on
a ``signal`` strategy) raise ``BadRequest`` naming the field, so a client fixes the right one. Models and
symbols are checked against what the caller knows, passed as validation context (``parse_strategy``'s
``models`` and ``symbols``): this package imports neither the model registry nor a data source.
"""

from __future__ import annotations

import math
import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator, model_validator

from ..data.timeframes import TIMEFRAMES
from ..errors import BadRequest

SYMBOL_PATTERN = r"^[A-Z0-9]{2,20}$"
BRANCH_MISMATCH = {"list_type", "model_type", "model_attributes_type", "dict_type"}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TopUniverse(_Strict):
    """The ``top`` N coins (for a backtest: by quote volume before its start, see ``cli.backtest``)."""

    top: int = Field(ge=1, le=100, description="how many coins, the most traded first")


class Sizing(_Strict):
    """``fixed_fraction``: each position is ``fraction`` of equity; ``vol_target``: a position's expected
    move (``expected_move_bps`` of its forecast) is ``target_bps`` of equity."""

    method: Literal["fixed_fraction", "vol_target"] = Field(description="fixed_fraction of equity per position, "
                                                                        "or vol_target from the expected move")
    fraction: float | None = Field(default=None, gt=0, le=10, description="fixed_fraction: each position's "
                                   "share of equity")
    target_bps: float | None = Field(default=None, gt=0, le=10_000, description="vol_target: a position's "
                                     "expected move, in bps of equity")


class Limits(_Strict):
    """Caps are fractions of equity; losses are fractions too (0.05 = 5%)."""

    max_position: float = Field(gt=0, le=10, description="largest position in one coin, a fraction of equity")
    max_gross: float = Field(gt=0, le=10, description="largest sum of |positions|, a fraction of equity")
    max_net: float | None = Field(default=None, ge=0, le=10, description="largest |long - short|, a fraction of "
                                                                         "equity (none: no net cap)")
    max_positions: int | None = Field(default=None, ge=1, le=1000, description="most positions open at once")
    max_daily_loss: float = Field(gt=0, le=1, description="a loss this fraction of the day's first equity opens "
                                                          "nothing more until the next UTC day")
    max_drawdown: float = Field(gt=0, le=1, description="a fall this fraction below the peak halts the strategy "
                                                        "until resumed")
    cooldown_candles: int = Field(default=0, ge=0, le=10_000, description="candles a coin stays flat after a "
                                                                          "losing exit")


class Costs(_Strict):
    fee_bps: float = Field(ge=0, le=1000, description="fee per side, bps of the filled notional")
    slippage_bps: float = Field(ge=0, le=1000, description="fills this far past the open (up for a buy)")


class StrategyConfig(_Strict):
    name: str = Field(min_length=1, max_length=100, description="a name for people")
    kind: Literal["signal", "topk"] = Field(description="signal: trade each coin's served signal; topk: hold the "
                                                        "k best ranked (and the k worst short)")
    timeframe: str = Field(description=f"candle length: one of {', '.join(TIMEFRAMES)}")
    horizon: int = Field(ge=1, le=1000, description="candles ahead the forecasts look; rebalanced every horizon")
    model: str = Field(min_length=1, max_length=64, description="model id or ensemble whose forecasts it trades")
    universe: list[str] | TopUniverse = Field(description="symbols, or {\"top\": N}")
    capital: float = Field(gt=0, description="starting cash, in the quote currency")
    rank_by: Literal["up", "outperform"] = Field("up", description="topk: rank by probability_up or "
                                                                   "probability_outperform")
    k: int | None = Field(default=None, ge=1, le=100, description="topk: coins held per side")
    n_drop: int | None = Field(default=None, ge=0, le=100, description="topk: most coins replaced per rebalance "
                                                                        "(default k)")
    short: bool = Field(False, description="also take short positions")
    sizing: Sizing = Field(description="how big each position is")
    limits: Limits = Field(description="risk limits")
    costs: Costs = Field(description="what each fill pays")

    @field_validator("timeframe")
    @classmethod
    def _timeframe(cls, tf: str) -> str:
        if tf not in TIMEFRAMES:
            raise ValueError(f"unknown timeframe {tf[:16]!r}; use one of {', '.join(TIMEFRAMES)}")
        return tf

    @field_validator("capital")
    @classmethod
    def _finite(cls, value: float) -> float:
        if not math.isfinite(value):
            raise ValueError("must be a finite number")
        return value

    @field_validator("model")
    @classmethod
    def _model(cls, model: str, info: ValidationInfo) -> str:
        known = (info.context or {}).get("models")
        if known is not None and model not in known:
            raise ValueError(f"unknown model {model[:64]!r} (known: {', '.join(known)})")
        return model

    @field_validator("universe")
    @classmethod
    def _universe(cls, universe, info: ValidationInfo):
        if isinstance(universe, TopUniverse):
            return universe
        if not 1 <= len(universe) <= 200:
            raise ValueError("a list of 1 to 200 symbols")


        bad = [s for s in universe if not re.match(SYMBOL_PATTERN, s)]
        if bad:
            raise ValueError(f"not a symbol: {bad[0][:24]!r} (like BTCUSDT)")
        if len(set(universe)) != len(universe):
            raise ValueError("a symbol is listed twice")
        known = (info.context or {}).get("symbols")
        unknown = [s for s in universe if known is not None and s not in known]
        if unknown:
            raise ValueError(f"unknown symbols: {', '.join(unknown[:5])}")
        return universe

    @model_validator(mode="after")
    def _consistent(self) -> StrategyConfig:
        """Contradictions between fields, each a 400 naming the field to change."""
        for field, problem in _contradictions(self):
            raise BadRequest(f"{field}: {problem}", field=field, code="invalid_value")
        return self

    @property
    def universe_size(self) -> int:
        return self.universe.top if isinstance(self.universe, TopUniverse) else len(self.universe)

    @property
    def drop(self) -> int:
        """Replacements allowed per rebalance (``n_drop``; ``k`` when not given: no limit)."""
        return self.k if self.n_drop is None else self.n_drop


def _contradictions(c: StrategyConfig):
    limits, sizing = c.limits, c.sizing
    if limits.max_position > limits.max_gross:
        yield "limits.max_position", f"{limits.max_position} is above limits.max_gross ({limits.max_gross})"
    if limits.max_net is not None and limits.max_net > limits.max_gross:
        yield "limits.max_net", f"{limits.max_net} is above limits.max_gross ({limits.max_gross})"
    if sizing.method == "fixed_fraction":
        if sizing.fraction is None:
            yield "sizing.fraction", "required by the fixed_fraction method"
        elif sizing.fraction > limits.max_position:
            yield "sizing.fraction", f"{sizing.fraction} is above limits.max_position ({limits.max_position})"
        if sizing.target_bps is not None:
            yield "sizing.target_bps", "only for the vol_target method"
    else:
        if sizing.target_bps is None:
            yield "sizing.target_bps", "required by the vol_target method"
        if sizing.fraction is not None:
            yield "sizing.fraction", "only for the fixed_fraction method"
    if c.kind == "signal":
        for field, unset in (("k", None), ("n_drop", None), ("rank_by", "up")):
            if getattr(c, field) != unset:  # a stored strategy dumps the defaults: those read back
                yield field, "only for a topk strategy"
        return
    if c.k is None:
        yield "k", "required by a topk strategy"
        return
    sides = 2 if c.short else 1
    if c.k * sides > c.universe_size:
        yield "k", f"{c.k * sides} positions asked of a universe of {c.universe_size}"
    if limits.max_positions is not None and c.k * sides > limits.max_positions:
        yield "k", f"{c.k * sides} positions are more than limits.max_positions ({limits.max_positions})"
    if c.n_drop is not None and c.n_drop > c.k:
        yield "n_drop", f"{c.n_drop} is above k ({c.k})"


def validation_error(exc: ValidationError) -> BadRequest:
    """The first problem as a 400 naming its field (an unknown field first: its misspelling often explains
    the rest), the shape the API's handler gives every body."""
    errors = exc.errors()
    # Of a union's branches, the one of the type sent explains the problem; the others only say "not me".
    telling = [e for e in errors if e.get("type") not in BRANCH_MISMATCH] or errors
    first = next((e for e in telling if e.get("type") == "extra_forbidden"), telling[0])
    loc = [str(p) for p in first.get("loc", ())]
    # A union (the universe) names its branch in the location: the field is what the client sent.
    field = ".".join(p for p in loc if p not in ("list[str]", "TopUniverse")) or None
    if first.get("type") == "extra_forbidden":
        return BadRequest(f"unknown field {field!r}", field=field, code="unknown_field")
    message = first.get("msg", "invalid value").removeprefix("Value error, ")
    return BadRequest(f"{field + ': ' if field else ''}{message}", field=field, code="invalid_value")


def parse_strategy(raw, *, models=None, symbols=None) -> StrategyConfig:
    """A validated strategy from a decoded JSON body, or ``BadRequest`` naming the field. ``models`` and
    ``symbols``: the ids and symbols the caller can serve (unchecked when None)."""
    if not isinstance(raw, dict):
        raise BadRequest("a strategy is a JSON object", code="invalid_value")
    context = {"models": None if models is None else list(models),
               "symbols": None if symbols is None else set(symbols)}
    try:
        return StrategyConfig.model_validate(raw, context=context)
    except ValidationError as exc:
        raise validation_error(exc) from None
