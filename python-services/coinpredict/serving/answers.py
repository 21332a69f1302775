"""Building an answer: the response body of one prediction from its plan, candles and scores."""

from __future__ import annotations

import numpy as np

from ..common.signals import expected_move_bps, signal_for
from ..common.times import iso
from ..data.candles import Candles, find_gaps
from ..errors import Unavailable
from ..models.ensemble import HorizonEnsembles
from ..models.manifest import Manifest
from ..models.registry import ENSEMBLE_ID
from .requests import Plan, PredictRequest
from .scoring import Scores

DATA_FIELDS = ("data_stale", "last_candle_age_s", "warning", "stale_reason")


def ensemble_part(i: int, plan: Plan, scores: Scores, ensemble: tuple[HorizonEnsembles, Manifest],
                  method: str | None) -> tuple[float, dict]:
    """The ensemble's probability and its fields; 503 when no member answered."""
    answered = {m.model_id: scores.probs[(i, m.model_id)] for m in plan.members if (i, m.model_id) in scores.probs}
    failed = {m.model_id: scores.failures.get((i, m.model_id)) or f"{m.status}: {m.reason}"
              for m in plan.members if (i, m.model_id) not in scores.probs}
    if not answered:
        raise Unavailable("no ensemble member could answer", code="model_not_ready", retry_after=60,
                          details={"failed_members": failed})
    ensembles, manifest = ensemble
    combo = ensembles.for_horizon(plan.horizon).combine({k: np.array([v]) for k, v in answered.items()}, method)
    # Probabilities leave at full precision: the ledger records them, and live skill must be computable
    # exactly as the offline evaluation computes it (rounding would make ties the models never made).
    fields = {"members": {k: float(v) for k, v in answered.items()}, "method": combo["method"],
              "weights": {k: round(v, 6) for k, v in combo["weights"].items()},
              "uncertainty": round(float(combo["uncertainty"][0]), 6), "failed_members": failed,
              "member_versions": {m.model_id: m.version for m in plan.members if m.model_id in answered},
              "model_version": manifest.version}
    return float(combo["probability_up"][0]), fields


def single_part(i: int, plan: Plan, scores: Scores) -> tuple[float, dict]:
    """One model's probability and version; 503 when it failed on this input."""
    entry = plan.members[0]
    if (i, entry.model_id) not in scores.probs:
        raise Unavailable(f"model {entry.model_id} failed: {scores.failures.get((i, entry.model_id))}",
                          code="model_failed", retry_after=30)
    return scores.probs[(i, entry.model_id)], {"model_version": entry.version}


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


def signal_part(p: float, candles: Candles, horizon: int, cost_bps: float) -> dict:
    """The fee-aware signal (common.signals): expected move from the candles used, edge, cost."""
    move = float(expected_move_bps(candles.close, len(candles) - 1, horizon=horizon)[0])
    signal, edge = signal_for(p, move, cost_bps)
    return {"signal": signal, "expected_move_bps": round(move, 2), "edge_bps": round(edge, 2),
            "cost_bps": cost_bps}


def build_answer(i: int, req: PredictRequest, plan: Plan, candles: Candles, scores: Scores, *,
                 ensemble: tuple[HorizonEnsembles, Manifest] | None, cost_bps: float, elapsed_ms: float) -> dict:
    """The body of request ``i``'s answer (API.md, /predict/single), or a ServiceError; ``cost_bps`` is
    the round trip a BUY or SELL must beat."""
    body = {"symbol": req.symbol, "timeframe": req.timeframe, "model": req.model,
            "as_of": iso(int(candles.t[-1])), "horizon": plan.horizon}
    if req.model == ENSEMBLE_ID:
        p, fields = ensemble_part(i, plan, scores, ensemble, req.method)
    else:
        p, fields = single_part(i, plan, scores)
    body.update(fields)
    body.update(probability_up=float(p), confidence=round(abs(2 * p - 1), 6), latency_ms=round(elapsed_ms, 2))
    body.update(signal_part(p, candles, plan.horizon, cost_bps))
    if candles.meta.get("invented"):  # invented prices (the synthetic market) never carry a trade signal
        body.update(signal="HOLD", signal_reason="synthetic market (SYNTHETIC=1): the prices are not real, so no "
                                                 "trade is signalled")
    body.update(data_part(candles, req.timeframe))
    return body
