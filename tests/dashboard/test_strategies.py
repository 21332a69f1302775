"""The Strategies pages in a real browser (Debian's chromium, driven by Playwright) against the Procfile's
web line over no models: paper books seeded through the store as the worker's live runner writes them
(from the synthetic folder's candles and planted signals; nothing trains or trades). The list shows the
API's figures; a strategy page draws its equity against buy-and-hold and the market, its drawdown,
positions, limits, limit events and trades; resume and pause work from the page with the API key; a
strategy with no close, a deleted one, an unknown id, no strategies at all and a failing API call each
render as what they are, and nothing overflows at 1280 px."""

from __future__ import annotations

import json
import re
import time
from urllib.parse import urlsplit

import pytest
import requests

from coinpredict.common.clock import spec
from coinpredict.launch import procfile_server
from coinpredict.strategy.config import parse_strategy
from coinpredict.strategy.store import StrategyStore
from tests.conftest import SYNTHETIC_END_MS, SYNTHETIC_SYMBOLS
from tests.dashboard.conftest import CHROMIUM, shoot
from tests.dashboard.test_layout import OVERFLOWING, not_a_404
from tests.strategy.helpers import strategy
from tests.strategy.seed import seed_book

pytest.importorskip("playwright.sync_api", reason="Playwright is not installed (pip install playwright)")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (make system-deps)")
KEY = "strategy-key"
CYCLE = ["BUY", "SELL", "HOLD"]


def seed(database_url: str, data_dir) -> dict[str, str]:
    """Four strategies: one trading long and short over three coins, one its drawdown limit halted, one
    with no close yet, one deleted."""
    store = StrategyStore(database_url)
    rotation = store.create(parse_strategy(strategy(
        name="rotation", universe=SYNTHETIC_SYMBOLS, short=True, sizing={"fraction": 0.3},
        limits={"max_position": 0.35, "max_positions": 2, "max_drawdown": 0.9, "cooldown_candles": 3})))
    seed_book(store, rotation.id, data_dir, 48, SYNTHETIC_END_MS,
              lambda k, s: CYCLE[(k // 6 + SYNTHETIC_SYMBOLS.index(s)) % 3])
    halted = store.create(parse_strategy(strategy(name="all-in", universe=["BTCUSDT"], sizing={"fraction": 0.9},
                                                  limits={"max_position": 0.9, "max_drawdown": 0.004})))
    seed_book(store, halted.id, data_dir, 24, SYNTHETIC_END_MS)
    fresh = store.create(parse_strategy(strategy(name="fresh", universe=["ETHUSDT"])))
    gone = store.create(parse_strategy(strategy(name="gone", universe=["SOLUSDT"])))
    store.set_status(gone.id, "deleted")
    assert store.require(halted.id).status == "halted"
    return {"rotation": rotation.id, "halted": halted.id, "fresh": fresh.id, "gone": gone.id}


@pytest.fixture(scope="module")
def site(synthetic_dir, tmp_path_factory):
    root = tmp_path_factory.mktemp("strategies")
    (root / "models").mkdir()
    database_url = f"sqlite:///{root / 'state.sqlite'}"
    ids = seed(database_url, synthetic_dir)
    env = {"OHLCV_DIR": str(synthetic_dir), "MODELS_DIR": str(root / "models"), "OFFLINE": "1", "API_KEY": KEY,
           "DATABASE_URL": database_url, "QUEUE_PATH": str(root / "queue.sqlite"),
           "CLOCK": spec(SYNTHETIC_END_MS / 1000 + 1800, time.time(), 1), "RETRAIN_EVERY": "off",
           "WEB_CONCURRENCY": "1", "LOG_LEVEL": "WARNING"}
    with procfile_server(env) as (base, _):
        yield {"base": base, "shots": root / "screenshots", "ids": ids}


def get(site, path: str) -> dict:
    r = requests.get(site["base"] + path, timeout=10)
    assert r.status_code == 200, r.text
    return r.json()


def test_the_list_shows_every_strategy_with_the_apis_figures(page, site):
    listed = get(site, "/strategies")
    page.goto(site["base"] + "/ui/strategies")
    page.wait_for_selector("#strategies-table tr[data-strategy]")
    assert page.locator("header nav a.active").inner_text() == "Strategies"
    rows = page.locator("#strategies-table tr[data-strategy]")
    assert rows.evaluate_all("rs => rs.map(r => r.dataset.strategy)") == [s["id"] for s in listed["strategies"]]
    rotation = next(s for s in listed["strategies"] if s["id"] == site["ids"]["rotation"])
    cells = page.locator(f"#strategies-table tr[data-strategy='{rotation['id']}'] td").all_inner_texts()
    assert cells[0].startswith("rotation") and cells[3] == "running"
    assert cells[5] == f"{rotation['equity']:,.2f}" and cells[6] == f"{100 * rotation['return']:+.2f}%"
    assert cells[7] == f"{100 * rotation['max_drawdown']:.2f}%" and rotation["return"] != 0
    statuses = page.locator("#strategies-table tr[data-strategy]").evaluate_all("rs => rs.map(r => r.dataset.status)")
    assert sorted(statuses) == ["deleted", "halted", "running", "running"]
    assert page.evaluate(OVERFLOWING) == []
    shoot(page, site, "strategies")
    page.select_option("#status-filter", "paused")
    page.wait_for_selector("#strategies .empty:has-text('No paused strategy.')")
    page.select_option("#status-filter", "halted")
    page.wait_for_selector(f"#strategies-table tr[data-strategy='{site['ids']['halted']}']")
    assert page.locator("#strategies-table tr[data-strategy]").count() == 1
    page.click(f"#strategies-table tr[data-strategy='{site['ids']['halted']}'] a")
    page.wait_for_selector("#status-line .pill:has-text('halted')")
    assert page.problems == []


def crowded(body: dict) -> dict:
    """The API's list with names as long as a strategy may have (100 characters), spaced and not."""
    long_names = ["momentum " * 11, "x" * 100]
    body["strategies"] = [{**s, "name": long_names[k % 2][:100]} for k, s in enumerate(body["strategies"] * 5)]
    body["count"] = len(body["strategies"])
    return body


def test_a_crowded_list_fits_at_1280_px(page, site):
    listed = crowded(get(site, "/strategies"))
    fulfil(page, "/strategies", 200, listed)
    page.goto(site["base"] + "/ui/strategies")
    page.wait_for_selector("#strategies-table tr[data-strategy]")
    assert page.locator("#strategies-table tr[data-strategy]").count() == listed["count"] == 20
    assert page.evaluate(OVERFLOWING) == []
    assert page.problems == []


def test_a_strategy_page_draws_its_book_against_the_benchmarks(page, site):
    sid = site["ids"]["rotation"]
    got = get(site, f"/strategies/{sid}")
    equity = get(site, f"/strategies/{sid}/equity?benchmarks=true")
    trades, events = get(site, f"/strategies/{sid}/trades?limit=100"), get(site, f"/strategies/{sid}/events?limit=100")
    page.goto(f"{site['base']}/ui/strategies/{sid}")
    page.wait_for_selector("#equity-chart canvas")
    page.wait_for_selector("#drawdown-chart canvas")
    page.wait_for_selector("#trades-table")
    page.wait_for_load_state("networkidle")
    chart = page.locator("#equity-chart")
    bench = equity["benchmarks"]
    assert int(chart.get_attribute("data-points")) == equity["count"] == 48
    assert float(chart.get_attribute("data-equity")) == pytest.approx(equity["points"][-1]["equity"], rel=1e-12)
    assert float(chart.get_attribute("data-hold")) == pytest.approx(bench["buy_and_hold"][-1], rel=1e-12)
    assert float(chart.get_attribute("data-market")) == pytest.approx(bench["market"][-1], rel=1e-12)
    assert f"buy-and-hold {bench['buy_and_hold'][-1]:,.2f}" in page.locator("#equity-note").inner_text()
    assert page.locator("#positions-table tr[data-symbol]").evaluate_all("rs => rs.map(r => r.dataset.symbol)") == \
        [p["symbol"] for p in got["positions"]] != []
    assert page.locator("#trades-table tbody tr").count() == trades["count"] > 0
    assert page.locator("#events-table tbody tr").count() == events["count"] > 0
    assert page.locator("#limits-table tr[data-limit]").count() == 6
    assert page.locator("#equity").inner_text().startswith(f"{got['equity']:,.2f}")
    assert page.locator("#notice").is_hidden()
    assert page.evaluate(OVERFLOWING) == []
    shoot(page, site, "strategy")
    assert page.problems == []


def test_resume_and_pause_from_the_page_need_the_key(page, site):
    sid = site["ids"]["halted"]
    page.goto(f"{site['base']}/ui/strategies/{sid}")
    page.wait_for_selector("#halt-reason:has-text('drawdown')")
    page.click("button[data-action=resume]")  # no key yet: the page says so, and nothing changes
    page.wait_for_selector("#action-result.error")
    assert "API key" in page.locator("#action-result").inner_text()
    assert get(site, f"/strategies/{sid}")["status"] == "halted"
    page.fill("#apikey", KEY)
    page.click("#apikey-save")
    page.click("button[data-action=resume]")
    page.wait_for_selector("#action-result.ok:has-text('now running')")
    assert get(site, f"/strategies/{sid}")["status"] == "running"
    page.wait_for_selector("#events-table tr[data-limit=resumed]")
    assert page.locator("button[data-action=resume]").count() == 0
    page.click("button[data-action=pause]")
    page.wait_for_selector("#action-result.ok:has-text('now paused')")
    assert get(site, f"/strategies/{sid}")["status"] == "paused"
    page.wait_for_selector("#status-line .pill:has-text('paused')")
    assert page.problems == []


def fulfil(page, path: str, status: int, body: dict) -> None:
    """Answers of the API at exactly ``path`` (a pattern: * for one segment) replaced in the browser."""
    pattern = re.compile("^" + re.escape(path).replace(r"\*", "[^/]+") + "$")
    page.route(lambda url: bool(pattern.match(urlsplit(url).path)),
               lambda route: route.fulfill(status=status, content_type="application/json", body=json.dumps(body)))


def test_the_empty_and_failing_states_say_what_they_are(page, site):
    ids = site["ids"]
    page.goto(f"{site['base']}/ui/strategies/{ids['fresh']}")
    page.wait_for_selector("#equity-chart .empty:has-text('No closes yet: the worker trades it at each 1h close')")
    assert "Nothing held: no close yet." in page.locator("#positions").inner_text()
    assert "No trades yet" in page.locator("#trades").inner_text()
    assert "No limit events yet" in page.locator("#events").inner_text()
    assert page.locator("#status-line").inner_text().endswith("no close yet")
    shoot(page, site, "strategy-fresh")
    page.goto(f"{site['base']}/ui/strategies/{ids['gone']}")
    page.wait_for_selector("#status-line:has-text('deleted it no longer trades; its history stays readable.')")
    assert page.locator("#actions button").count() == 0
    page.goto(f"{site['base']}/ui/strategies/nope")  # the API's 404, and only that
    page.wait_for_selector("#notice:has-text('unknown_strategy')")
    assert page.locator("main .card, main .chart, main table").count() == 0
    assert page.locator("#back").get_attribute("href") == "/ui/strategies"
    fulfil(page, "/strategies/*/trades", 503, {"error": {"code": "unavailable", "message": "database busy"}})
    page.goto(f"{site['base']}/ui/strategies/{ids['rotation']}")
    page.wait_for_selector("#trades .empty.error:has-text('503 unavailable: database busy')")
    page.wait_for_selector("#equity-chart canvas")  # the rest of the page still draws
    fulfil(page, "/strategies", 200, {"count": 0, "strategies": []})
    page.goto(f"{site['base']}/ui/strategies")
    page.wait_for_selector("#strategies .empty:has-text('No strategies yet: create one with POST /strategies')")
    page.unroute_all()
    fulfil(page, "/strategies", 500, {"error": {"code": "internal", "message": "it broke"}})
    page.goto(f"{site['base']}/ui/strategies")
    page.wait_for_selector("#notice:has-text('500 internal: it broke')")
    assert [p for p in not_a_404(page.problems) if "status of 503" not in p and "status of 500" not in p] == []
