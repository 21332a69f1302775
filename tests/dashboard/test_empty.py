"""The dashboard before anything exists: a service with no trained model, no served forecast and no
evaluation, whose first training job is queued. Every page says so plainly (and points at what to do)
instead of an error or an empty frame, with no console error and no request leaving loopback."""

from __future__ import annotations

import time

import pytest
import requests

from coinpredict.common.clock import spec
from coinpredict.launch import procfile_server
from tests.conftest import SYNTHETIC_END_MS
from tests.dashboard.conftest import CHROMIUM, shoot

pytest.importorskip("playwright.sync_api", reason="Playwright is not installed (pip install playwright)")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (make system-deps)")
KEY = "empty-key"

# What each page shows when there is nothing yet: (selector, the text it holds).
EMPTY = {
    "/": [("#jobs .empty", "No models yet: the first training is running."),
          ("#evaluation .empty", "No models yet, so no evaluation.")],
    "/ui/models": [("#notice.info", "No models yet on 1h: training is running"),
                   ("#models tr[data-model=ensemble]", "not_trained")],
    "/ui/models/gru_attention": [("#versions", "No version trained on 1h yet."),
                                 ("#history .empty", "No live predictions yet"),
                                 ("#auc-chart .empty", "Not trained on 1h")],
    "/ui/evaluation": [("#empty-state .empty", "No evaluation yet")],
    "/ui/strategies": [("#strategies .empty", "No strategies yet: create one with POST /strategies")],
    "/ui/markets": [("#board", "No models yet, so no predictions: the first training is running")],
    "/ui/markets/BTCUSDT": [("#prob-detail", "No models yet: predictions start once the first training"),
                            ("#history .empty", "No live predictions yet for this coin"),
                            ("#chart canvas", "")],  # the candles still draw
}


@pytest.fixture(scope="module")
def bare(synthetic_dir, tmp_path_factory):
    """The web line alone (no worker, so the submitted first training stays queued) over no models."""
    root = tmp_path_factory.mktemp("bare")
    (root / "models").mkdir()
    env = {"OHLCV_DIR": str(synthetic_dir), "MODELS_DIR": str(root / "models"), "OFFLINE": "1", "API_KEY": KEY,
           "DATABASE_URL": f"sqlite:///{root / 'state.sqlite'}", "QUEUE_PATH": str(root / "queue.sqlite"),
           "CLOCK": spec(SYNTHETIC_END_MS / 1000 + 1800, time.time(), 1), "RETRAIN_EVERY": "off",
           "WEB_CONCURRENCY": "1", "LOG_LEVEL": "WARNING"}
    with procfile_server(env) as (base, _):
        job = requests.post(f"{base}/jobs", json={"kind": "train", "timeframe": "1h", "profile": "smoke"},
                            headers={"X-API-Key": KEY}, timeout=10)
        assert job.status_code == 202, job.text
        yield {"base": base, "shots": root / "screenshots"}


@pytest.mark.parametrize("path", list(EMPTY))
def test_every_page_says_what_is_missing(page, bare, path):
    page.goto(bare["base"] + path)
    for selector, text in EMPTY[path]:
        page.wait_for_selector(f"{selector}:has-text('{text}')" if text else selector, timeout=30_000)
    page.wait_for_load_state("networkidle")
    assert page.locator("#notice:not(.info)").count() == 0 or page.locator("#notice").is_hidden()
    assert page.problems == []
    shoot(page, bare, "empty-" + (path.strip("/").replace("/", "-") or "overview"))
