"""A real browser for the dashboard tests: Debian's chromium driven by Playwright (no browser is
downloaded), one per module, and a fresh tab per test that records console errors, page errors and any
request not to loopback (and stops it)."""

from __future__ import annotations

import shutil
from urllib.parse import urlsplit

import pytest

LOOPBACK = ("127.0.0.1", "localhost", "::1")
DESKTOP, PHONE = {"width": 1280, "height": 800}, {"width": 390, "height": 844}
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed (pip install playwright)")
    if CHROMIUM is None:
        pytest.skip("Debian's chromium is not installed (make system-deps)")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        yield browser
        browser.close()


@pytest.fixture()
def page(browser):
    context = browser.new_context(viewport=DESKTOP)
    problems: list[str] = []

    def route(r):
        if urlsplit(r.request.url).hostname in LOOPBACK or r.request.url.startswith("data:"):
            r.continue_()
        else:
            problems.append(f"request left loopback: {r.request.url}")
            r.abort()

    context.route("**/*", route)
    tab = context.new_page()
    tab.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
    tab.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    tab.problems = problems
    yield tab
    # A test's own route handlers (answers changed in the browser) may be handling a poll that is still in
    # flight; closing under them would raise "Response has been disposed" into the next test's setup.
    tab.unroute_all(behavior="ignoreErrors")
    context.close()


def shoot(tab, site: dict, name: str) -> None:
    """Full-page screenshots at 1280x800 and at phone width into ``site["shots"]``."""
    site["shots"].mkdir(parents=True, exist_ok=True)
    for label, size in (("desktop", DESKTOP), ("phone", PHONE)):
        tab.set_viewport_size(size)
        path = site["shots"] / f"{name}-{label}.png"
        tab.screenshot(path=str(path), full_page=True)
        print(f"screenshot: {path}")
    tab.set_viewport_size(DESKTOP)
