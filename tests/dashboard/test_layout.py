"""The dashboard's layout and its pages about nothing, in a real browser at 1280x800: a crowded overview
(18 coins stale on three timeframes, training stages as long as real ones) and a crowded jobs list (a
failure's long error and log) fit their containers, nothing clipped; the timeframe a page opens on is 1h
where it is trained, not the first in string order; an unknown coin or model page shows only its error;
a /ui path that is no page is an HTML 404 page. Crowded answers are the API's own, enlarged in the browser
(the synthetic folder has three coins)."""

from __future__ import annotations

import json
import time

import pytest

from coinpredict.common.clock import spec
from coinpredict.launch import procfile_server
from tests.conftest import SYNTHETIC_END_MS
from tests.dashboard.conftest import CHROMIUM, shoot

pytest.importorskip("playwright.sync_api", reason="Playwright is not installed (pip install playwright)")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (make system-deps)")

COINS = ["ADAUSDT", "ATOMUSDT", "AVAXUSDT", "BCHUSDT", "BNBUSDT", "BTCUSDT", "DOGEUSDT", "DOTUSDT", "ETCUSDT",
         "ETHUSDT", "LTCUSDT", "MATICUSDT", "PAXGUSDT", "SHIBUSDT", "TRXUSDT", "UNIUSDT", "XLMUSDT", "XMRUSDT"]
STAGE = "training transformer_timeseries: epoch 12, validation AUC 0.5312"
ERROR = ("RuntimeError: no candle file of the 4h timeframe in OHLCV_DIR could be read: 18 files skipped "
         "(ADAUSDT.csv: unexpected columns timestamp,open,high,low,close; expected a volume column)")
LOG = [f"2025-06-30T12:00:{k:02d}Z INFO coinpredict.training.pipeline training {STAGE} on {len(COINS)} symbols "
       f"with {k * 1000} rows after dropping warm-up candles and gaps" for k in range(6)]

# Every element of the page's main part that has a box, whose content is wider than that box: what a
# person sees cut off, or sees sticking out of its card or table (a scrolling table counts: at 1280 px
# nothing should need it).
OVERFLOWING = """() => [...document.querySelectorAll('main *')]
  .filter((e) => e.clientWidth > 0 && e.scrollWidth > e.clientWidth + 1)
  .map((e) => `${e.tagName.toLowerCase()}${e.id ? '#' + e.id : ''}.${e.className}: ${e.scrollWidth} > ${e.clientWidth}`)
  .concat(document.documentElement.scrollWidth > document.documentElement.clientWidth
          ? ['the page scrolls sideways'] : [])"""


@pytest.fixture(scope="module")
def site(synthetic_dir, evaluated_dir, tmp_path_factory):
    root = tmp_path_factory.mktemp("layout")
    env = {"OHLCV_DIR": str(synthetic_dir), "MODELS_DIR": str(evaluated_dir), "OFFLINE": "1", "API_KEY": "k",
           "DATABASE_URL": f"sqlite:///{root / 'state.sqlite'}", "QUEUE_PATH": str(root / "queue.sqlite"),
           "CLOCK": spec(SYNTHETIC_END_MS / 1000 + 1800, time.time(), 1), "RETRAIN_EVERY": "off",
           "WEB_CONCURRENCY": "1", "LOG_LEVEL": "WARNING"}
    with procfile_server(env) as (base, _):
        yield {"base": base, "shots": root / "screenshots"}


def enlarge(page, path: str, change) -> None:
    """Answers of ``path`` (a glob) as the API gives them, changed by ``change(body, url)`` in the browser."""
    def handle(route):
        resp = route.fetch()
        route.fulfill(response=resp, body=json.dumps(change(resp.json(), route.request.url)))
    page.route(path, handle)


def crowded_health(body: dict, _url: str) -> dict:
    fresh = {"symbols": len(COINS), "last_candle_age_s": 86_400.0, "stale_symbols": len(COINS)}
    body["data"].update(stale_symbols=len(COINS), by_timeframe={tf: dict(fresh) for tf in ("1h", "4h", "1d")})
    body["jobs"]["active"] = [{"id": f"{k}" * 32, "timeframe": tf, "status": "running" if k == 1 else "queued",
                               "progress": 0.42 if k == 1 else 0.0, "stage": STAGE if k == 1 else "queued"}
                              for k, tf in ((1, "4h"), (2, "1d"))]
    body["warnings"].append(f"{len(COINS)} symbols have stale candles (1h: 18, 4h: 18, 1d: 18; e.g. "
                            + ", ".join(f"{c}/1h" for c in COINS[:5]) + ")")
    return body


def crowded_symbols(body: dict, _url: str) -> dict:
    template = body["symbols"][0]
    body["symbols"] = [{**template, "symbol": c, "data_stale": True} for c in COINS]
    body["count"] = len(COINS)
    return body


def crowded_jobs(body: dict, _url: str) -> dict:
    job = {"id": "a" * 32, "kind": "train", "timeframe": "4h", "params": {"profile": "default"},
           "status": "failed", "progress": 0.31, "stage": "failed", "created_at": "2025-06-30T12:00:00Z",
           "started_at": "2025-06-30T12:00:01Z", "finished_at": "2025-06-30T12:09:00Z", "error": ERROR,
           "result": None, "log_tail": LOG}
    running = {**job, "id": "b" * 32, "status": "running", "progress": 0.42, "stage": STAGE, "error": None,
               "finished_at": None, "log_tail": LOG[:2]}
    done = {**job, "id": "c" * 32, "status": "succeeded", "progress": 1.0, "stage": "done", "error": None,
            "result": {"promoted": ["lightgbm", "xgboost"], "versions": {m: "v" for m in "abcdefghijklmnopqrs"}}}
    body["jobs"] = [running, job, done, *body["jobs"]]
    body["count"] = len(body["jobs"])
    return body


def test_a_crowded_overview_fits_at_1280_px(page, site):
    enlarge(page, "**/health", crowded_health)
    enlarge(page, "**/symbols?*", crowded_symbols)
    page.goto(site["base"] + "/")
    page.wait_for_selector("#freshness tbody tr:nth-child(3)")
    page.wait_for_selector("#jobs-table")
    page.wait_for_load_state("networkidle")
    assert "MATICUSDT" in page.locator("#freshness").inner_text()
    shoot(page, site, "crowded-overview")
    assert page.evaluate(OVERFLOWING) == []
    assert page.problems == []


def test_a_crowded_jobs_list_fits_at_1280_px(page, site):
    enlarge(page, "**/jobs?*", crowded_jobs)
    page.goto(site["base"] + "/ui/jobs")
    page.wait_for_selector("#jobs-table tr[data-status=failed]")
    assert ERROR in page.locator("#jobs-table").inner_text()
    # The logs open and measured in one task: the list redraws every second while a job runs.
    overflowing = page.evaluate(f"() => {{ document.querySelectorAll('#jobs details').forEach((d) => "
                                f"{{ d.open = true; }}); return ({OVERFLOWING})(); }}")
    shoot(page, site, "crowded-jobs")
    assert overflowing == []
    assert page.problems == []


def string_ordered(body: dict, _url: str) -> dict:
    body["timeframes"] = ["15m", "1d", "1h", "4h"]  # as a string sort gives them
    return body


@pytest.mark.parametrize("path", ["/ui/models", "/ui/models/lightgbm", "/ui/markets", "/ui/markets/BTCUSDT"])
def test_a_page_opens_on_1h_with_timeframes_shortest_first(page, site, path):
    enlarge(page, "**/health", string_ordered)
    page.goto(site["base"] + path)
    page.wait_for_selector("#timeframe option", state="attached")
    options = page.locator("#timeframe option").evaluate_all("os => os.map((o) => o.value)")
    assert options == ["15m", "1h", "4h", "1d"] and page.locator("#timeframe").input_value() == "1h"
    page.evaluate("history.replaceState(null, '', location.pathname)")  # no ?timeframe= in the link now
    assert page.evaluate("[defaultTimeframe(['1d', '4h', '15m']), defaultTimeframe(['4h', '1d'])]") == ["15m", "4h"]


def not_a_404(problems: list[str]) -> list[str]:
    """The console's problems but the browser's own note of a 404 the page asked for on purpose."""
    return [p for p in problems if "the server responded with a status of 404" not in p]


@pytest.mark.parametrize(("path", "code", "back"), [("/ui/markets/NOPECOIN", "unknown_symbol", "/ui/markets"),
                                                    ("/ui/models/nope", "unknown_model", "/ui/models")])
def test_an_unknown_coin_or_model_page_shows_only_its_error(page, site, path, code, back):
    page.goto(site["base"] + path)
    page.wait_for_selector(f"#notice:has-text('{code}')")
    page.wait_for_load_state("networkidle")
    main = page.locator("main")
    assert main.locator(".card, .chart, table, select").count() == 0, main.inner_html()[:500]
    assert "…" not in main.inner_text()
    assert page.locator("#back").get_attribute("href") == back
    shoot(page, site, "unknown-" + path.rsplit("/", 2)[-2])
    assert not_a_404(page.problems) == []


def test_a_ui_path_that_is_no_page_is_a_page_that_says_so(page, site):
    resp = page.goto(site["base"] + "/ui/nope")
    assert resp.status == 404 and resp.headers["content-type"].startswith("text/html")
    assert page.locator("h1").inner_text() == "Page not found"
    page.click("#not-found a[href='/ui/models']")
    page.wait_for_selector("#models tr[data-model]")
    assert not_a_404(page.problems) == []


def test_drift_with_nothing_scored_reads_neutral_not_green(page, site):
    green = "rgb(220, 252, 231)"  # the background of an ok pill
    page.goto(site["base"] + "/ui/models/xgboost?timeframe=1h")  # a fresh ledger: nothing served, nothing scored
    pill = page.locator("#live-detail .pill")
    pill.wait_for()
    assert pill.inner_text() == "insufficient_data"
    assert pill.evaluate("(p) => getComputedStyle(p).backgroundColor") != green
    page.goto(site["base"] + "/ui/models?timeframe=1h")
    drift = page.locator("#models tr[data-model=xgboost] td").nth(8)
    drift.locator(".pill").wait_for()
    assert drift.inner_text() == "insufficient_data"
    assert drift.locator(".pill").evaluate("(p) => getComputedStyle(p).backgroundColor") != green
    assert page.problems == []
