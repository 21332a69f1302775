"""The dashboard's pages and assets through Flask's test client: served by the app, nothing from elsewhere,
and the JSON API beside them unchanged."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from coinpredict import dashboard

STATIC = Path(dashboard.__file__).parent / "static"
TEMPLATES = Path(dashboard.__file__).parent / "templates"
PAGES = ["/", "/ui/models", "/ui/models/lightgbm", "/ui/markets", "/ui/markets/BTCUSDT", "/ui/evaluation", "/ui/jobs",
         "/ui/strategies", "/ui/strategies/abc123"]


@pytest.mark.parametrize("path", PAGES)
def test_every_page_is_html_with_a_same_origin_policy(client, path):
    resp = client.get(path)
    assert resp.status_code == 200 and resp.mimetype == "text/html"
    policy = resp.headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "connect-src 'self'" in policy and "script-src 'self'" in policy
    page = resp.get_data(as_text=True)
    for src in re.findall(r'(?:src|href)="([^"]+)"', page):
        assert src.startswith(("/", "#", "data:")), src  # every asset and link on this origin
        if src.startswith("/ui/static/"):
            assert client.get(src).status_code == 200, src


def test_the_evaluation_page_is_in_the_navigation_and_reads_the_evaluation_api(client):
    page = client.get("/ui/evaluation").get_data(as_text=True)
    assert 'href="/ui/evaluation" class="active"' in page and "/ui/static/evaluation.js" in page
    script = (STATIC / "evaluation.js").read_text()
    assert 'api("/evaluation/list")' in script and "/evaluation?" in script
    assert 'href="/ui/evaluation"' in client.get("/").get_data(as_text=True)


def test_a_page_escapes_what_the_path_carries(client):
    for path in ("/ui/markets/%3Cb%3Ex%3Cb%3E", "/ui/strategies/%3Cb%3Ex%3Cb%3E"):
        page = client.get(path).get_data(as_text=True)
        assert "<b>x" not in page and "&lt;b&gt;x" in page, path


def test_the_strategies_pages_are_in_the_navigation_and_read_the_strategies_api(client):
    page = client.get("/ui/strategies").get_data(as_text=True)
    assert 'href="/ui/strategies" class="active"' in page and "/ui/static/strategies.js" in page
    assert 'href="/ui/strategies"' in client.get("/").get_data(as_text=True)
    one = client.get("/ui/strategies/abc123").get_data(as_text=True)
    assert 'data-strategy="abc123"' in one and 'href="/ui/strategies" class="active"' in one
    script = (STATIC / "strategy.js").read_text()
    assert "/equity?benchmarks=true" in script and "/trades?" in script and "/events?" in script


def test_the_json_api_is_unchanged_beside_the_pages(client):
    assert client.get("/health").is_json and client.get("/openapi.json").is_json
    assert client.get("/docs").mimetype == "text/html" and client.get("/metrics").status_code == 200
    for path in ("/nope", "/models/nope/nothing", "/ui/static/nope.js"):  # the API and assets: JSON 404
        missing = client.get(path)
        assert missing.status_code == 404 and missing.get_json()["error"]["code"] == "not_found", path
    paths = client.get("/openapi.json").get_json()["paths"]
    assert "/" not in paths and not [p for p in paths if p.startswith("/ui")]  # pages are not API operations


@pytest.mark.parametrize("path", ["/ui/nope", "/ui", "/ui/models/lightgbm/extra", "/ui/%3Cb%3Ex"])
def test_a_ui_path_that_is_no_page_is_an_html_404_page(client, path):
    resp = client.get(path)
    assert resp.status_code == 404 and resp.mimetype == "text/html", path
    assert "default-src 'self'" in resp.headers["Content-Security-Policy"]
    page = resp.get_data(as_text=True)
    assert "Page not found" in page and 'href="/ui/models"' in page and 'href="/"' in page
    assert "<b>x" not in page


def test_the_api_docs_page_links_back_to_the_dashboard(client):
    page = client.get("/docs").get_data(as_text=True)
    assert "<a href='/' id='dashboard'>" in page


SVG_NAMESPACE = "http://www.w3.org/2000/svg"


def test_no_asset_names_another_host():
    """Scripts and styles fetch nothing from elsewhere; the chart's attribution link is the one URL it shows."""
    for path in [*STATIC.rglob("*.js"), *STATIC.rglob("*.css"), *TEMPLATES.rglob("*.html")]:
        text = path.read_text()
        urls = set(re.findall(r"https?://[^\s\"'`)]+", text)) - {SVG_NAMESPACE}  # a name, never fetched
        if path.name.startswith("lightweight-charts"):
            urls = {u for u in urls if not u.startswith(("https://www.tradingview.com/",
                                                         "https://www.apache.org/licenses/"))}
        assert not urls, f"{path.name}: {urls}"
    assert (STATIC / "vendor" / "lightweight-charts.LICENSE").is_file()
