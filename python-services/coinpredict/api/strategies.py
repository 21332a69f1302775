"""Strategies over HTTP (API.md, "Strategies (paper trading)"): create, change (a new version), pause,
resume and delete with the management key; read the book (figures, positions, limits, trades, equity)
without. The book is written by the worker's live runner through ``StrategyStore.record_close``; this
module only reads it, except resume, which lifts a drawdown halt in the newest state."""

from __future__ import annotations

from flask import Blueprint, request

from ..common import clock
from ..common.times import iso, to_ms
from ..data.timeframes import TIMEFRAME_MS, TIMEFRAMES
from ..errors import Conflict, DataError, NotFound, ServiceError, SourceError
from ..models.registry import ENSEMBLE_ID, MODEL_IDS
from ..strategy.config import StrategyConfig, TopUniverse, parse_strategy
from ..strategy.engine import Engine
from ..strategy.report import VOLUME_LOOKBACK_MS, benchmark_equity, curve_stats, top_by_quote_volume
from ..strategy.store import StaleBook, StrategyRecord
from .answers import checked
from .auth import require_management_key
from .body import json_object
from .schemas.common import canonical_model_id, canonical_timeframe
from .schemas.strategies import (
    EquityQuery,
    EventsQuery,
    Strategy,
    StrategyEquity,
    StrategyEvents,
    StrategyList,
    StrategyListQuery,
    StrategyTrades,
    StrategyVersions,
    TradesQuery,
)
from .state import state
from .strict import check_fields

bp = Blueprint("strategies", __name__, url_prefix="/strategies")
KNOWN_MODELS = (*MODEL_IDS, ENSEMBLE_ID)
MAX_ID = 64
RESUME_TRIES = 3


def _known_symbols(raw: dict) -> set[str] | None:
    """The symbols the service has candles for on the strategy's timeframe; None (unchecked) when it
    cannot say cheaply (a live source that lists none, an unreadable folder, an unknown timeframe)."""
    timeframe = raw.get("timeframe")
    if not isinstance(timeframe, str) or timeframe not in TIMEFRAMES:
        return None
    try:
        found = state().market.symbols(timeframe)
    except (DataError, SourceError, OSError):
        return None
    return set(found) if found else None


def _canonical(raw: dict) -> dict:
    """Model ids and timeframes are case-insensitive here as on every endpoint (LightGBM, 1H)."""
    raw = dict(raw)
    if isinstance(raw.get("model"), str):
        raw["model"] = canonical_model_id(raw["model"])
    if isinstance(raw.get("timeframe"), str):
        try:
            raw["timeframe"] = canonical_timeframe(raw["timeframe"])
        except ValueError:
            pass  # left as sent: validation says why
    return raw


def _parsed_body() -> StrategyConfig:
    """The body as a strategy, or a 400 naming the field (an unknown one first, with a hint)."""
    raw = json_object()
    check_fields(StrategyConfig, raw)
    raw = _canonical(raw)
    return parse_strategy(raw, models=KNOWN_MODELS, symbols=_known_symbols(raw))


def _record(strategy_id: str) -> StrategyRecord:
    record = state().strategies.get(strategy_id) if len(strategy_id) <= MAX_ID else None
    if record is None:
        raise NotFound(f"no strategy {strategy_id[:MAX_ID]!r}", field="id", code="unknown_strategy")
    return record


def _changeable(record: StrategyRecord) -> StrategyRecord:
    if record.status == "deleted":
        raise Conflict(f"strategy {record.id} is deleted; create a new one", code="strategy_deleted")
    return record


def _figures(record: StrategyRecord) -> dict:
    """Equity, return and drawdown from the equity curve (the capital before any close)."""
    values = state().strategies.equity_values(record.id)
    stats = curve_stats(values, record.config.timeframe)
    return {"equity": values[-1] if values else record.config.capital, "return": stats["return"],
            "max_drawdown": stats["max_drawdown"], "sharpe": stats["sharpe"]}


def _summary(record: StrategyRecord, figures: dict) -> dict:
    return {"id": record.id, "name": record.name, "kind": record.config.kind, "timeframe": record.config.timeframe,
            "status": record.status, "version": record.version, "equity": figures["equity"],
            "return": figures["return"], "max_drawdown": figures["max_drawdown"],
            "updated_at": iso(int(record.updated_at * 1000))}


def _event(e) -> dict:
    return {"time": iso(e.time), "limit": e.limit, "detail": e.detail, "symbols": list(e.symbols)}


def public_strategy(record: StrategyRecord) -> dict:
    """The strategy with its book now: the newest close's state, or the capital before any close."""
    latest = state().strategies.latest_close(record.id)
    engine = Engine(record.config, latest.state if latest else None)
    book, figures = engine.state.book, _figures(record)
    equity = book.equity()
    positions = [{"symbol": s, "quantity": p.quantity, "entry_price": p.entry_price, "value": p.value,
                  "last_price": p.last_price} for s, p in sorted(book.positions.items())]
    return {**_summary(record, figures), "equity": equity, "halt_reason": record.halt_reason,
            "created_at": iso(int(record.created_at * 1000)),
            "last_close": iso(latest.close_time) if latest else None,
            "config": record.config.model_dump(mode="json"), "cash": book.cash, "sharpe": figures["sharpe"],
            "exposure": book.gross() / equity if equity > 0 else 0.0,
            "net_exposure": book.net() / equity if equity > 0 else 0.0, "positions": positions,
            "limits": engine.limit_state(), "events": [_event(e) for e in latest.events] if latest else []}


def _answer(strategy_id: str) -> dict:
    return checked(Strategy, public_strategy(_record(strategy_id)))


@bp.post("")
def create():
    require_management_key()
    record = state().strategies.create(_parsed_body())
    return checked(Strategy, public_strategy(record)), 201


@bp.get("")
def list_strategies():
    query = StrategyListQuery.model_validate(request.args.to_dict())
    found = [_summary(r, _figures(r)) for r in state().strategies.list(status=query.status)]
    return checked(StrategyList, {"count": len(found), "strategies": found})


@bp.get("/<strategy_id>")
def get_strategy(strategy_id: str):
    return _answer(strategy_id)


@bp.put("/<strategy_id>")
def change(strategy_id: str):
    """A changed strategy is its next version; the book carries on (the history stays readable)."""
    require_management_key()
    _changeable(_record(strategy_id))
    state().strategies.new_version(strategy_id, _parsed_body())
    return _answer(strategy_id)


@bp.delete("/<strategy_id>")
def delete(strategy_id: str):
    require_management_key()
    _record(strategy_id)
    state().strategies.set_status(strategy_id, "deleted")
    return _answer(strategy_id)


@bp.post("/<strategy_id>/pause")
def pause(strategy_id: str):
    require_management_key()
    record = _changeable(_record(strategy_id))
    state().strategies.set_status(strategy_id, "paused", halt_reason=record.halt_reason,
                                  when=("running", "halted"))
    return _answer(strategy_id)


@bp.post("/<strategy_id>/resume")
def resume(strategy_id: str):
    """Running again; a drawdown halt is lifted (its drawdown counts again from the equity now)."""
    require_management_key()
    record = _changeable(_record(strategy_id))
    for _ in range(RESUME_TRIES):
        try:
            _resume(record)
            return _answer(strategy_id)
        except StaleBook:  # a close was written meanwhile: lift the halt from that one
            continue
    raise Conflict(f"strategy {strategy_id} is being traded; try again", code="strategy_busy")


def _resume(record: StrategyRecord) -> None:
    store = state().strategies
    latest = store.latest_close(record.id)
    if latest is not None and latest.state.limits.halted is not None:
        engine = Engine(record.config, latest.state)
        event = engine.resume(clock.now_ms())
        store.lift_halt(record.id, engine.snapshot(), event, latest.revision)
    else:
        store.set_status(record.id, "running", when=("paused", "halted"))


@bp.get("/<strategy_id>/versions")
def versions(strategy_id: str):
    record = _record(strategy_id)
    listed = [{"version": v.version, "created_at": iso(int(v.created_at * 1000)),
               "config": v.config.model_dump(mode="json")} for v in state().strategies.versions(strategy_id)]
    return checked(StrategyVersions, {"id": record.id, "current": record.version, "versions": listed})


@bp.get("/<strategy_id>/trades")
def trades(strategy_id: str):
    query = TradesQuery.model_validate(request.args.to_dict())
    _record(strategy_id)
    rows = state().strategies.trades(strategy_id, since_ms=to_ms(query.since), limit=query.limit)
    listed = [{"time": iso(r["time"]), "symbol": r["symbol"], "side": r["side"], "quantity": r["quantity"],
               "price": r["price"], "fee": r["fee"], "slippage": r["slippage"], "reason": r["reason"],
               "pnl": r["pnl"], "version": r["version"]} for r in rows]
    return checked(StrategyTrades, {"count": len(listed), "trades": listed})


@bp.get("/<strategy_id>/equity")
def equity(strategy_id: str):
    query = EquityQuery.model_validate(request.args.to_dict())
    record = _record(strategy_id)
    rows = state().strategies.equity(strategy_id, since_ms=to_ms(query.since), limit=query.limit)
    points = [{"time": iso(r["time"]), "equity": r["equity"], "cash": r["cash"], "exposure": r["exposure"],
               "net_exposure": r["net_exposure"]} for r in rows]
    answer = {"count": len(points), "points": points}
    if query.benchmarks:
        answer["benchmarks"] = _benchmarks(record, rows)
    return checked(StrategyEquity, answer)


def _benchmarks(record: StrategyRecord, rows: list[dict]) -> dict:
    """Buy-and-hold of the strategy's universe and the equal-weight market over the points' closes, from
    the first point's equity, out of the candles the service holds (read-only; no exchange call)."""
    config, step = record.config, TIMEFRAME_MS[record.config.timeframe]
    top = config.universe.top if isinstance(config.universe, TopUniverse) else None
    times = [int(r["time"]) for r in rows]
    if not times:
        return {"universe": [] if top else list(config.universe), "buy_and_hold": [], "market": []}
    lookback = VOLUME_LOOKBACK_MS // step if top else 0
    try:
        series = state().market.held_series(config.timeframe, (times[-1] - times[0]) // step + 1 + lookback,
                                            times[-1])
    except (ServiceError, DataError, SourceError, OSError):
        series = []  # no candles readable now: the curves are null, the points still answer
    universe = top_by_quote_volume(series, top, times[0], step) if top else list(config.universe)
    return {"universe": universe, **benchmark_equity(times, step, series, universe, rows[0]["equity"])}


@bp.get("/<strategy_id>/events")
def events(strategy_id: str):
    query = EventsQuery.model_validate(request.args.to_dict())
    _record(strategy_id)
    listed = [_event(e) for e in state().strategies.events(strategy_id, since_ms=to_ms(query.since),
                                                           limit=query.limit)]
    return checked(StrategyEvents, {"count": len(listed), "events": listed})
