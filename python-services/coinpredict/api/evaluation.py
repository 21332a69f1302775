"""``GET /evaluation``, ``/evaluation/list`` and ``/evaluation/plots/<name>``: the reports that
``scripts/evaluate.py`` publishes into MODELS_DIR, their baselines and their plots, as they are on disk."""

from __future__ import annotations

import io
import logging
from urllib.parse import urlencode

from flask import Blueprint, current_app, request, send_file
from pydantic import ValidationError

from ..errors import NotFound, Unavailable
from ..serving.reports import PublishedReports, ReportUnreadable
from .schemas.evaluation import EvaluationQuery, EvaluationReport
from .state import state

log = logging.getLogger(__name__)
bp = Blueprint("evaluation", __name__)
_KEY = "coinpredict.reports"
HOW = ("run scripts/evaluate.py --data-dir DIR --timeframe {tf} --horizon {h} --start ... --end ... --out DIR "
       "(it publishes its report into MODELS_DIR for this service)")


FIELDS = ("timeframe", "horizon", "start", "end", "symbols", "n_rows", "fee_bps", "cost_bps", "evaluated_at",
          "seconds", "models", "baselines", "per_symbol", "audit")


def reports() -> PublishedReports:
    """This app's reader of MODELS_DIR's reports (its small cache lives with the app)."""
    found = current_app.extensions.get(_KEY)
    if found is None:
        found = current_app.extensions[_KEY] = PublishedReports(state().settings.models_dir)
    return found


def _choice(query: EvaluationQuery) -> tuple[str | None, int | None]:
    if query.timeframe is None and query.horizon is None:
        return reports().default() or (None, None)
    tf = query.timeframe or "1h"
    if query.horizon is not None:
        return tf, query.horizon
    return tf, next((h for t, h in reports().published() if t == tf), None)


def _not_evaluated(tf: str | None, h: int | None) -> NotFound:
    if tf is None:
        what = "no evaluation has been published yet"
    else:
        what = f"no evaluation published for {tf}" + (f" at horizon {h}" if h else "")
    return NotFound(f"{what}: {HOW.format(tf=tf or '1h', h=h or 1)}", code="not_evaluated",
                    details={"available": reports().summaries()})


def _unreadable(message: str) -> Unavailable:
    return Unavailable(f"{message}; run scripts/evaluate.py again to publish it anew", code="evaluation_unreadable")


def _report(tf: str | None, h: int | None) -> dict:
    if tf is None or h is None:
        raise _not_evaluated(tf, h)
    try:
        body = reports().report(tf, h)
    except ReportUnreadable as exc:
        raise _unreadable(str(exc)) from None
    if body is None:
        raise _not_evaluated(tf, h)
    return body


@bp.get("/evaluation")
def evaluation():
    tf, h = _choice(EvaluationQuery.model_validate(request.args.to_dict()))
    body = _report(tf, h)
    answer = {k: body.get(k) for k in FIELDS}
    answer.update(baselines=body.get("baselines") or {}, per_symbol=body.get("per_symbol") or {},
                  audit=body.get("audit") or {}, available=reports().summaries(),
                  ensemble_comparison=body.get("ensemble_comparison"),
                  outperform_comparison=body.get("outperform_comparison"),
                  plots=[{**p, "url": f"/evaluation/plots/{p['name']}?{urlencode({'timeframe': tf, 'horizon': h})}"}
                         for p in body.get("plots", [])])
    try:
        EvaluationReport.model_validate(answer)
    except ValidationError as exc:  # written by another version, or edited by hand
        first = exc.errors()[0]
        log.warning("published %s h%s report refused: %s", tf, h, exc)
        raise _unreadable(f"the {tf} horizon {h} report's metrics.json is not a report this service can read "
                          f"({'.'.join(map(str, first['loc']))}: {first['msg']})") from None
    return answer


@bp.get("/evaluation/list")
def evaluation_list():
    available = reports().summaries()
    default = reports().default()
    return {"count": len(available), "available": available,
            "default": {"timeframe": default[0], "horizon": default[1]} if default else None}


@bp.get("/evaluation/plots/<name>")
def plot(name: str):
    tf, h = _choice(EvaluationQuery.model_validate(request.args.to_dict()))
    _report(tf, h)  # 404 when none is published, 503 when it cannot be read
    try:
        found = reports().plot(tf, h, name)
    except ReportUnreadable as exc:
        raise _unreadable(str(exc)) from None
    if found is None:
        raise NotFound(f"no such plot in the {tf} horizon {h} evaluation (GET /evaluation lists its plots)",
                       code="unknown_plot")
    resp = send_file(io.BytesIO(found.data), mimetype="image/png", etag=found.etag, last_modified=found.modified,
                     conditional=True)
    resp.headers["Cache-Control"] = "no-cache"  # the same URL shows the next report once it is published
    return resp
