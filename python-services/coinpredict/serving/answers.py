"""Building an answer: the response body of one prediction from its plan, candles and scores."""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from ..common.signals import expected_move_bps, signal_for
from ..common.times import iso
from ..data.candles import Candles, find_gaps
from ..errors import Unavailable
from ..models.ensemble import HorizonEnsembles
from ..models.manifest import Manifest
from ..models.registry import ENSEMBLE_ID
from .move import MoveScale, move_forecast
from .requests import Plan, PredictRequest
from .scoring import Scores

DATA_FIELDS = ("data_stale", "last_candle_age_s", "warning", "stale_reason")


def ensemble_parts(items: list[tuple[int, Plan, str | None]], scores: Scores,
                   ensemble: tuple[HorizonEnsembles, Manifest]) -> dict[int, tuple[float, dict] | Unavailable]:
    """The ensemble's probability and fields for each (request index, plan, method) of one timeframe, or
    the 503 when no member answered it. Requests with the same horizon, method and answering members are
    combined in one call over arrays (one value per request), not one call each."""
    out: dict[int, tuple[float, dict] | Unavailable] = {}
    groups: dict[tuple, list[tuple[int, Plan]]] = defaultdict(list)
    for i, plan, method in items:
        answered = tuple(m.model_id for m in plan.members if (i, m.model_id) in scores.probs)
        if answered:
            groups[(plan.horizon, method, answered)].append((i, plan))
        else:
            out[i] = Unavailable("no ensemble member could answer", code="model_not_ready", retry_after=60,
                                 details={"failed_members": _failed(i, plan, scores)})
    ensembles, manifest = ensemble
    for (horizon, method, answered), group in groups.items():
        probs = {k: [scores.probs[(i, k)] for i, _ in group] for k in answered}
        combo = ensembles.for_horizon(horizon).combine({k: np.array(v) for k, v in probs.items()}, method)
        relative = outperform_combined(ensembles, horizon, method, group, answered, scores)
        # Probabilities leave at full precision: the ledger records them, and live skill must be computable
        # exactly as the offline evaluation computes it (rounding would make ties the models never made).
        weights = {k: round(v, 6) for k, v in combo["weights"].items()}
        # One timeframe, horizon and store: every plan of the group lists the same members and versions.
        versions = {m.model_id: m.version for m in group[0][1].members if m.model_id in probs}
        for j, ((i, plan), p, spread) in enumerate(zip(group, combo["probability_up"].tolist(),
                                                       combo["uncertainty"].tolist())):
            out[i] = p, {"probability_outperform": None if relative is None else float(relative[j]),
                         "members": {k: probs[k][j] for k in answered}, "method": combo["method"],
                         "weights": dict(weights), "uncertainty": round(spread, 6),
                         "failed_members": _failed(i, plan, scores), "member_versions": dict(versions),
                         "model_version": manifest.version}
    return out


def outperform_combined(ensembles: HorizonEnsembles, horizon: int, method: str | None,
                        group: list[tuple[int, Plan]], answered: tuple[str, ...], scores: Scores) -> np.ndarray | None:
    """The ensemble's ``probability_outperform``: its rule at ``horizon`` (the members its direction chose,
    the next best standing in for one that cannot) over the members that predict the relative target;
    None when none of them does."""
    having = [k for k in answered if all((i, k) in scores.outperform for i, _ in group)]
    if not having:
        return None
    rel = {k: np.array([scores.outperform[(i, k)] for i, _ in group]) for k in having}
    return ensembles.for_horizon(horizon).combine(rel, method)["probability_up"]


def _failed(i: int, plan: Plan, scores: Scores) -> dict[str, str]:
    return {m.model_id: scores.failures.get((i, m.model_id)) or f"{m.status}: {m.reason}"
            for m in plan.members if (i, m.model_id) not in scores.probs}


def single_part(i: int, plan: Plan, scores: Scores) -> tuple[float, dict]:
    """One model's probability and version; 503 when it failed on this input."""
    entry = plan.members[0]
    if (i, entry.model_id) not in scores.probs:
        raise Unavailable(f"model {entry.model_id} failed: {scores.failures.get((i, entry.model_id))}",
                          code="model_failed", retry_after=30)
    return scores.probs[(i, entry.model_id)], {"probability_outperform": scores.outperform.get((i, entry.model_id)),
                                               "model_version": entry.version}


def data_part(candles: Candles, timeframe: str) -> dict:
    """What the answer says about its candles: source, count, gaps, staleness."""
    meta = candles.meta
    out = {"data_source": meta.get("data_source", candles.source), "candles_used": len(candles)}
    gaps = find_gaps(candles.t, timeframe)
    if gaps:
        out["gaps"] = {"count": len(gaps), "missing_candles": sum(g["missing"] for g in gaps)}
    out.update({key: meta[key] for key in DATA_FIELDS if meta.get(key) is not None})
    # Always present (API.md): clients read them without checking for the key.
    out.update(data_stale=bool(meta.get("data_stale")), last_candle_age_s=meta.get("last_candle_age_s"))
    return out


def move_bps(candles: Candles, horizon: int) -> float:
    return float(expected_move_bps(candles.close, len(candles) - 1, horizon=horizon)[0])


def signal_part(p: float, candles: Candles, horizon: int, cost_bps: float, scale: MoveScale | None,
                shared: SharedParts) -> dict:
    """The fee-aware signal (common.signals): expected move (the move model's when it served ``scale``,
    else the rule's from the candles used, once per candles through ``shared``), edge, cost, and the
    ``move`` object (``serving.move``)."""
    rule = None if scale is not None else shared.move(candles, horizon)
    forecast, move = move_forecast(scale, p, rule)
    expected = float(forecast.expected_bps[0])
    signal, edge = signal_for(p, expected, cost_bps)
    return {"signal": signal, "expected_move_bps": round(expected, 2), "edge_bps": round(edge, 2),
            "cost_bps": cost_bps, "move": move}


class SharedParts:
    """What a call's answers read from their candles alone (the data part, the expected move), computed
    once per candles object: every request of a call for the same (symbol, timeframe, as_of) gets the
    same one from gather. Keyed by identity, so it lives no longer than the call that holds the candles."""

    def __init__(self):
        self._data: dict[int, dict] = {}
        self._moves: dict[tuple[int, int], float] = {}

    def data(self, candles: Candles, timeframe: str) -> dict:
        got = self._data.get(id(candles))
        if got is None:
            got = self._data[id(candles)] = data_part(candles, timeframe)
        return {**got, "gaps": dict(got["gaps"])} if "gaps" in got else dict(got)

    def move(self, candles: Candles, horizon: int) -> float:
        key = (id(candles), horizon)
        if key not in self._moves:
            self._moves[key] = move_bps(candles, horizon)
        return self._moves[key]


def build_answer(i: int, req: PredictRequest, plan: Plan, candles: Candles, scores: Scores, *,
                 ensemble: tuple[HorizonEnsembles, Manifest] | None, cost_bps: float, elapsed_ms: float,
                 combined: tuple[float, dict] | Unavailable | None = None, shared: SharedParts | None = None,
                 move: MoveScale | None = None) -> dict:
    """The body of request ``i``'s answer (API.md, /predict/single), or a ServiceError; ``cost_bps`` is
    the round trip a BUY or SELL must beat; ``combined``: its ``ensemble_parts`` when the caller combined
    a batch at once; ``shared``: the call's ``SharedParts``; ``move``: the move model's forecast for it, if any."""
    shared = shared or SharedParts()
    body = {"symbol": req.symbol, "timeframe": req.timeframe, "model": req.model,
            "as_of": iso(int(candles.t[-1])), "horizon": plan.horizon}
    if req.model == ENSEMBLE_ID:
        if combined is None:
            combined = ensemble_parts([(i, plan, req.method)], scores, ensemble)[i]
        if isinstance(combined, Unavailable):
            raise combined
        p, fields = combined
    else:
        p, fields = single_part(i, plan, scores)
    body.update(fields)
    body.update(probability_up=float(p), confidence=round(abs(2 * p - 1), 6), latency_ms=round(elapsed_ms, 2))
    body.update(signal_part(p, candles, plan.horizon, cost_bps, move, shared))
    if candles.meta.get("invented"):  # invented prices (the synthetic market) never carry a trade signal
        body.update(signal="HOLD", signal_reason="synthetic market (SYNTHETIC=1): the prices are not real, so no "
                                                 "trade is signalled")
    body.update(shared.data(candles, req.timeframe))
    return body
