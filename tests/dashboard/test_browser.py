"""The dashboard in a real browser (Debian's chromium, driven by Playwright; no browser is downloaded)
against the Procfile's web and worker lines on loopback with smoke models, on a clock just after the
candle folder's last candle so its data is current. Every page loads with no console error and no
request leaving loopback; the models table shows the API's numbers; the board and a coin chart render;
a rollback from the UI changes the served version; a training job started from the form shows its
progress and completes; the versions table says what each version was trained for. Screenshots of
every page (desktop and phone width) go to the test's folder."""

from __future__ import annotations

import shutil
import time

import numpy as np
import pytest
import requests

from coinpredict.common.clock import spec
from coinpredict.common.times import to_ms
from coinpredict.launch import procfile_server, procfile_worker
from coinpredict.ledger import LedgerStore
from coinpredict.models.registry import MODEL_IDS
from tests.conftest import SYNTHETIC_END_MS, SYNTHETIC_SYMBOLS
from tests.dashboard.conftest import CHROMIUM, shoot
from tests.versioning import OLDER, clone_version, train_other_horizons

sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed (pip install playwright)")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (make system-deps)")

KEY = "dash-key"
HOUR_MS = 3_600_000
PAGES = {"overview": "/", "models": "/ui/models", "model": "/ui/models/lightgbm", "markets": "/ui/markets",
         "coin": "/ui/markets/BTCUSDT", "evaluation": "/ui/evaluation", "jobs": "/ui/jobs"}
# What shows that a page has drawn from the API (not just loaded its HTML).
READY = {"overview": "#freshness tbody tr", "models": "#models tr[data-model]", "model": "#versions tr[data-version]",
         "markets": "#board tr[data-symbol]", "coin": "#chart canvas", "evaluation": "#plots img",
         "jobs": "#jobs .empty, #jobs-table"}


@pytest.fixture(scope="module")
def site(synthetic_dir, evaluated_dir, tmp_path_factory):
    root = tmp_path_factory.mktemp("dashboard")
    models = root / "models"
    shutil.copytree(evaluated_dir, models)  # the smoke models with a published evaluation
    clone_version(models, "1h", "lightgbm")  # an older version to roll back to
    other = train_other_horizons(models, synthetic_dir)  # a version the serving cannot use (horizon 2 only)
    seed_live_forecasts(f"sqlite:///{root / 'state.sqlite'}")
    seed_banded_forecasts(f"sqlite:///{root / 'state.sqlite'}")
    env = {"OHLCV_DIR": str(synthetic_dir), "MODELS_DIR": str(models), "OFFLINE": "1", "API_KEY": KEY,
           "DATABASE_URL": f"sqlite:///{root / 'state.sqlite'}", "QUEUE_PATH": str(root / "queue.sqlite"),
           "CLOCK": spec(SYNTHETIC_END_MS / 1000 + 1800, time.time(), 1), "RETRAIN_EVERY": "off",
           "WEB_CONCURRENCY": "2", "MODELS_POLL_S": "1", "LOG_LEVEL": "WARNING"}
    with procfile_server(env) as (base, _), procfile_worker(env):
        yield {"base": base, "shots": root / "screenshots", "other": other}


def seed_live_forecasts(database_url: str, model: str = "lightgbm", days: int = 12) -> None:
    """Scored hourly forecasts of ``model`` before the clock's now, with some skill, as the worker would
    have left them: the model page's live figures need outcomes that take hours to arrive."""
    rng = np.random.default_rng(5)
    ledger = LedgerStore(database_url)
    rows = [{"model": model, "model_version": "2025-01-01T00:00:00Z-seeded", "symbol": symbol, "timeframe": "1h",
             "horizon": 1, "as_of": SYNTHETIC_END_MS - k * HOUR_MS, "probability_up": 0.0, "signal": "HOLD",
             "recorded_at": 0.0} for k in range(2, days * 24) for symbol in SYNTHETIC_SYMBOLS]
    up = rng.random(len(rows)) < 0.5
    for row, u in zip(rows, up):
        row["probability_up"] = float(np.clip(0.5 + 0.02 * (u - 0.5) + rng.normal(0, 0.04), 0.01, 0.99))
    ledger.append(rows)
    ids = {(r["symbol"], r["as_of"]): r["id"] for r in ledger.history(model=model, limit=len(rows))}
    ledger.score([{"id": ids[(r["symbol"], r["as_of"])], "outcome_up": bool(u), "return_bps": 1.0}
                  for r, u in zip(rows, up)], scored_at=SYNTHETIC_END_MS / 1000)


# Scored past ensemble forecasts of BTCUSDT at horizon 1 with their move quantiles (bps of log return).
BAND_BPS = {"q05": -60.0, "q25": -20.0, "q50": 0.0, "q75": 20.0, "q95": 60.0}
BAND_RETURNS = [-100.0, -40.0, -10.0, 10.0, 30.0, 80.0, 5.0, -5.0, 59.0, 62.0]  # simple returns, bps


def seed_banded_forecasts(database_url: str, candles: int = 40) -> None:
    ledger = LedgerStore(database_url)
    rows = [{"model": "ensemble", "model_version": "2025-01-01T00:00:00Z-seeded", "symbol": "BTCUSDT",
             "timeframe": "1h", "horizon": 1, "as_of": SYNTHETIC_END_MS - k * HOUR_MS, "probability_up": 0.5,
             "signal": "HOLD", "recorded_at": 0.0, "move_source": "model",
             **{f"{name}_bps": bps for name, bps in BAND_BPS.items()}} for k in range(2, candles + 2)]
    ledger.append(rows)
    ids = {r["as_of"]: r["id"] for r in ledger.history(model="ensemble", symbol="BTCUSDT", limit=len(rows))}
    ledger.score([{"id": ids[r["as_of"]], "outcome_up": BAND_RETURNS[i % len(BAND_RETURNS)] > 0,
                   "return_bps": BAND_RETURNS[i % len(BAND_RETURNS)]} for i, r in enumerate(rows)],
                 scored_at=SYNTHETIC_END_MS / 1000)


def test_every_page_loads_clean_and_renders(page, site):
    for name, path in PAGES.items():
        page.goto(site["base"] + path)
        page.wait_for_selector(READY[name], timeout=60_000)
        page.wait_for_load_state("networkidle")
        assert page.locator("#notice").is_hidden(), f"{name}: {page.locator('#notice').inner_text()}"
        shoot(page, site, name)
    assert page.problems == []


def test_the_models_table_lists_every_model_with_the_apis_numbers(page, site):
    page.goto(site["base"] + "/ui/models")
    page.wait_for_selector("#models tr[data-model]")
    rows = page.locator("#models tr[data-model]")
    assert rows.count() == len(MODEL_IDS) + 1
    assert sorted(rows.evaluate_all("rs => rs.map(r => r.dataset.model)")) == sorted([*MODEL_IDS, "ensemble"])
    listing = requests.get(f"{site['base']}/models/lightgbm/versions?timeframe=1h", timeout=10).json()
    served = next(v for v in listing["versions"] if v["version"] == listing["serving"])
    cells = page.locator("#models tr[data-model=lightgbm] td").all_inner_texts()
    valid = served["metrics"]["validation"]
    assert listing["serving"] in cells[3]
    assert cells[4] == f"{valid['auc']:.4f} [{valid['auc_ci95'][0]:.3f}, {valid['auc_ci95'][1]:.3f}]"
    live = requests.get(f"{site['base']}/models/lightgbm/status?timeframe=1h", timeout=10).json()["live"]
    assert cells[6].startswith(f"{live['auc']:.4f} [") and cells[6].endswith(f"({live['n_scored']})")
    assert page.problems == []


def test_a_models_page_shows_live_skill_over_time_beside_validation_and_test(page, site):
    page.goto(site["base"] + "/ui/models/lightgbm?timeframe=1h")
    page.wait_for_selector("#auc-chart canvas")
    page.wait_for_selector("#calibration-plot circle")
    live = requests.get(f"{site['base']}/models/lightgbm/live?timeframe=1h", timeout=10).json()
    row = page.locator("#skill-table tr[data-figure=live] td").all_inner_texts()
    assert row[2] == str(live["summary"]["n_scored"]) and row[3].startswith(f"{live['summary']['auc']:.4f} [")
    assert page.locator("#calibration-plot circle").count() == len(live["calibration"]) == 10
    assert len(live["over_time"]) >= 12 and page.locator("#skill-table tr[data-figure=validation] td").nth(3) \
        .inner_text().startswith(f"{live['validation']['auc']:.4f}")
    page.select_option("#days", "7")
    week = requests.get(f"{site['base']}/models/lightgbm/live?timeframe=1h&days=7", timeout=10).json()
    sync_api.expect(page.locator("#skill-table tr[data-figure=live] td").nth(2)).to_have_text(
        str(week["summary"]["n_scored"]))
    assert page.locator("#notice").is_hidden()
    shoot(page, site, "model-live")
    assert page.problems == []


def test_the_evaluation_page_shows_the_reports_tables_and_plots(page, site):
    report = requests.get(f"{site['base']}/evaluation", timeout=10).json()
    page.goto(site["base"] + "/ui/evaluation")
    page.wait_for_selector("#plots img")
    rows = page.locator("#scores tr[data-row]")
    assert rows.count() == len(report["models"]) + len(report["baselines"])
    assert sorted(page.locator("#scores tr.baseline").evaluate_all("rs => rs.map(r => r.dataset.row)")) == \
        sorted(report["baselines"])
    cells = page.locator("#scores tr[data-row=ensemble] td").all_inner_texts()
    assert cells[1] == f"{report['models']['ensemble']['auc']:.4f}"
    comparison = page.locator("#ensemble-comparison").inner_text()
    assert f"mean of the boosters {report['ensemble_comparison']['mean_boosters']['auc']:.4f}" in comparison
    assert f"rule {report['ensemble_comparison']['ensemble']['rule']}" in comparison
    page.click("#scores th[data-key=auc]")  # sorted by AUC, best first, until clicked: then worst first
    aucs = [float(t) for t in page.locator("#scores tbody td:nth-child(2)").all_inner_texts() if t != "–"]
    assert aucs == sorted(aucs)
    assert page.locator("#per-symbol tr[data-symbol]").count() == len(report["per_symbol"]["ensemble"])
    page.wait_for_function("[...document.querySelectorAll('#plots img')].every(i => i.complete && i.naturalWidth > 0)")
    assert page.locator("#plots img").count() == len(report["plots"]) > 0
    page.goto(site["base"] + "/")
    page.wait_for_selector("#evaluation-table")
    assert sorted(page.locator("#evaluation-table tr.baseline").evaluate_all("rs => rs.map(r => r.dataset.row)")) == \
        sorted(report["baselines"])
    assert page.locator("#evaluation-link").get_attribute("href") == "/ui/evaluation?timeframe=1h&horizon=1"
    assert page.problems == []


def test_the_versions_table_shows_what_each_version_was_trained_for(page, site):
    """Profile and horizons per version; one trained on other horizons says why it cannot be served, its
    promote button is off, and its validation AUC is labelled with the horizon it was measured at."""
    page.goto(site["base"] + "/ui/models/lightgbm?timeframe=1h")
    other = page.locator(f"#versions tr[data-version='{site['other']}']")
    other.wait_for()
    listing = requests.get(f"{site['base']}/models/lightgbm/versions?timeframe=1h", timeout=10).json()
    served = page.locator(f"#versions tr[data-version='{listing['serving']}'] td").all_inner_texts()
    assert served[3:5] == ["smoke", "1, 4, 24"] and "(h" not in served[5]
    cells = other.locator("td").all_inner_texts()
    assert "incompatible" in cells[2] and cells[3:5] == ["smoke", "2"] and cells[5].endswith("(h2)")
    assert "lacks 1, 4, 24" in cells[6] and other.get_attribute("data-incompatible") == "1"
    assert other.locator("button[data-action=promote]").is_disabled()
    shoot(page, site, "model-versions")
    assert page.problems == []


def test_a_rollback_from_the_ui_changes_the_served_version(page, site):
    base = site["base"]
    page.goto(base + "/ui/models/lightgbm?timeframe=1h")
    button = page.locator(f"button[data-action=promote][data-version='{OLDER}']")
    button.click()  # no key yet: the page says so, and nothing changes
    page.wait_for_selector("#version-result.error")
    assert "API key" in page.locator("#version-result").inner_text()
    page.fill("#apikey", KEY)
    page.click("#apikey-save")
    button.click()
    page.wait_for_selector("#version-result.ok")
    assert f"serving {OLDER}" in page.locator("#version-result").inner_text()
    page.wait_for_selector(f"#versions tr[data-version='{OLDER}'] .pill.ok")
    assert requests.get(f"{base}/models/lightgbm/versions", timeout=10).json()["current"] == OLDER
    deadline, served = time.time() + 15, set()
    while time.time() < deadline and served != {OLDER}:  # every web worker follows within MODELS_POLL_S
        served = {requests.post(f"{base}/predict/single", json={"symbol": "BTC", "model": "lightgbm"}, timeout=30,
                                headers={"Connection": "close"}).json()["model_version"] for _ in range(6)}
    assert served == {OLDER}
    assert page.problems == []


def test_a_training_job_from_the_form_shows_progress_and_completes(page, site):
    page.goto(site["base"] + "/ui/jobs")
    page.evaluate(f"sessionStorage.setItem('coinpredict.apiKey', '{KEY}')")
    page.select_option("#job-profile", "smoke")
    page.fill("#job-models", "lightgbm, xgboost, gru_standard")
    page.select_option("#job-promote", "never")
    page.click("#job-submit")
    page.wait_for_selector("#job-result.ok")
    job_id = requests.get(f"{site['base']}/jobs?limit=1", timeout=10).json()["jobs"][0]["id"]
    row = page.locator(f"tr[id='{job_id}']")
    seen, deadline = set(), time.time() + 90
    while time.time() < deadline:
        status = row.get_attribute("data-status")
        seen.add((status, row.locator("[role=progressbar]").get_attribute("aria-valuenow")))
        if status in ("succeeded", "failed", "cancelled"):
            break
        time.sleep(0.25)
    assert row.get_attribute("data-status") == "succeeded", seen
    assert any(s == "running" for s, _ in seen) and row.locator("[role=progressbar]").get_attribute(
        "aria-valuenow") == "100", seen
    shoot(page, site, "jobs-done")
    assert page.problems == []


def test_the_model_page_charts_importance_and_the_coin_page_the_ensembles_reasons(page, site):
    status = requests.get(f"{site['base']}/models/lightgbm/status?timeframe=1h", timeout=10).json()
    top = status["importance"]["by_horizon"][str(status["horizons"][0])]
    page.goto(site["base"] + "/ui/models/lightgbm?timeframe=1h")
    page.wait_for_selector("#importance-chart g.bar")
    assert page.locator("#importance-chart g.bar").evaluate_all("gs => gs.map(g => g.dataset.name)") == \
        [f["name"] for f in top]
    page.goto(site["base"] + "/ui/markets/BTCUSDT")
    page.wait_for_selector("#reasons-chart g.bar", timeout=60_000)
    answer = requests.post(f"{site['base']}/predict/single", json={"symbol": "BTCUSDT", "explain": True},
                           timeout=30).json()
    shown = page.locator("#reasons-chart g.bar").evaluate_all("gs => gs.map(g => g.dataset.name)")
    assert len(shown) == 10 and shown == [f["name"] for f in answer["explanation"]["features"]]
    shoot(page, site, "coin-reasons")
    assert page.problems == []


def test_the_coin_page_draws_the_move_bands_ahead_and_past_forecasts_coverage(page, site):
    """The forecast's band prices at the horizon are the answer's quantiles on its candle's close; the
    share of past closes inside each band is counted from the ledger's quantiles and outcomes."""
    page.goto(site["base"] + "/ui/markets/BTCUSDT?timeframe=1h&horizon=1")
    page.wait_for_selector("#forecast-bands", timeout=60_000)
    answer = requests.post(f"{site['base']}/predict/single", json={"symbol": "BTCUSDT", "timeframe": "1h",
                                                                   "horizon": 1}, timeout=30).json()
    candles = requests.get(f"{site['base']}/candles?symbol=BTCUSDT&timeframe=1h&limit=300", timeout=10).json()
    [close] = [c["c"] for c in candles["candles"] if c["t"] == to_ms(answer["as_of"])]
    shown = page.locator("#forecast-bands")
    assert float(shown.get_attribute("data-base")) == pytest.approx(close, rel=1e-12)
    for name, bps in answer["move"]["quantiles_bps"].items():
        assert float(shown.get_attribute(f"data-{name}")) == pytest.approx(close * np.exp(bps / 1e4), rel=1e-9)
    log_bps = np.log1p(np.array(BAND_RETURNS * 4) / 1e4) * 1e4
    coverage = page.locator("#band-coverage")
    assert coverage.get_attribute("data-n") == str(len(log_bps))
    assert coverage.get_attribute("data-in90") == str(int(np.sum((log_bps >= -60) & (log_bps <= 60))))
    assert coverage.get_attribute("data-in50") == str(int(np.sum((log_bps >= -20) & (log_bps <= 20))))
    assert "past forecasts' bands drawn" in page.locator("#chart-note").inner_text()
    shoot(page, site, "coin-bands")
    assert page.problems == []
