"""The dashboard: pages for people, served by the app itself at ``/`` and ``/ui/...``.

Every page is static HTML plus a little vanilla JavaScript that reads the same JSON API a frontend uses,
so there is one code path for every number. Nothing is loaded from elsewhere: the chart library is
vendored under ``static/vendor`` and the Content-Security-Policy allows this origin only."""

from __future__ import annotations

from flask import Blueprint, Response, render_template

bp = Blueprint("dashboard", __name__, template_folder="templates", static_folder="static",
               static_url_path="/ui/static")

# Only this origin: no script, style, image or request may leave the machine.
CSP = ("default-src 'self'; script-src 'self'; connect-src 'self'; img-src 'self' data:; "
       "style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
PAGES = {"overview": "Overview", "models": "Models", "markets": "Markets", "evaluation": "Evaluation",
         "strategies": "Strategies", "jobs": "Jobs"}


def _page(template: str, nav: str, status: int = 200, **context) -> Response:
    resp = Response(render_template(f"dashboard/{template}.html", nav=nav, pages=PAGES, **context),
                    status=status, mimetype="text/html")
    resp.headers["Content-Security-Policy"] = CSP
    resp.headers["X-Content-Type-Options"] = "nosniff"
    return resp


@bp.get("/")
def overview():
    return _page("overview", "overview")


@bp.get("/ui/models")
def models():
    return _page("models", "models")


@bp.get("/ui/models/<model_id>")
def model(model_id: str):
    """One model's page; an unknown id is shown as the API's own 404 answer on the page."""
    return _page("model", "models", model_id=model_id[:64])


@bp.get("/ui/markets")
def markets():
    return _page("markets", "markets")


@bp.get("/ui/markets/<symbol>")
def coin(symbol: str):
    return _page("coin", "markets", symbol=symbol[:40])


@bp.get("/ui/evaluation")
def evaluation():
    return _page("evaluation", "evaluation")


@bp.get("/ui/strategies")
def strategies():
    return _page("strategies", "strategies")


@bp.get("/ui/strategies/<strategy_id>")
def strategy(strategy_id: str):
    """One strategy's page; an unknown id is shown as the API's own 404 answer on the page."""
    return _page("strategy", "strategies", strategy_id=strategy_id[:64])


@bp.get("/ui/jobs")
def jobs():
    return _page("jobs", "jobs")


@bp.get("/ui")
@bp.get("/ui/<path:rest>")
def not_found(rest: str = ""):
    """A page for people at a /ui path that is no page (the API's paths keep their JSON 404; a missing asset
    under /ui/static is the static route's own 404)."""
    return _page("not_found", "", status=404, path=f"/ui/{rest}"[:120])
