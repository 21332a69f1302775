"""Walk every dashboard page of a running service in Debian's chromium (driven by Playwright) and save
screenshots at 1280x800 and at phone width; fails on a console error, an error notice on a page, or a
request that leaves the machine.

  .venv/bin/python scripts/dashboard_tour.py --base http://127.0.0.1:5003 --out /tmp/tour
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path
from urllib.parse import urlsplit

import requests

LOOPBACK = ("127.0.0.1", "localhost", "::1")
SIZES = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}
# What shows that a page has drawn from the API, not just loaded its HTML.
READY = {"overview": "#freshness tbody tr", "models": "#models tr[data-model]", "model": "#versions tr",
         "markets": "#board tr[data-symbol], #board .muted", "coin": "#chart canvas, #chart .empty",
         "evaluation": "main table, main .empty", "jobs": "#jobs .empty, #jobs-table",
         "strategies": "#strategies-table, #strategies .empty",
         "strategy": "#equity-chart canvas, #equity-chart .empty"}


def pages(base: str, model: str, symbol: str, timeframe: str) -> dict[str, str]:
    """The pages to visit; the Evaluation page and a strategy's page only where the service has one."""
    tf = f"?timeframe={timeframe}"
    paths = {"overview": "/", "models": f"/ui/models{tf}", "model": f"/ui/models/{model}{tf}",
             "markets": f"/ui/markets{tf}", "coin": f"/ui/markets/{symbol}{tf}", "evaluation": f"/ui/evaluation{tf}",
             "strategies": "/ui/strategies", "jobs": "/ui/jobs"}
    if requests.get(base + "/ui/evaluation", timeout=10).status_code == 404:
        paths.pop("evaluation")
    listed = requests.get(base + "/strategies", timeout=10).json().get("strategies", [])
    if listed:  # the newest strategy's page, where there is one
        paths["strategy"] = f"/ui/strategies/{listed[0]['id']}"
    return paths


def _loopback_only(problems: list[str]):
    """A route handler that lets loopback requests through and records and stops any other."""
    def route(r) -> None:
        if urlsplit(r.request.url).hostname in LOOPBACK or r.request.url.startswith("data:"):
            r.continue_()
        else:
            problems.append(f"left loopback: {r.request.url}")
            r.abort()
    return route


def tour(base: str, out: Path, *, model: str = "ensemble", symbol: str = "BTCUSDT", timeframe: str = "1h",
         settle_ms: int = 1500) -> list[str]:
    """Visit every page; return the problems seen (empty when all is well). Screenshots go to ``out``."""
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        return ["Debian's chromium is not installed (make system-deps)"]
    out.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-gpu"])
        context = browser.new_context(viewport=SIZES["desktop"])
        context.route("**/*", _loopback_only(problems))
        tab = context.new_page()
        tab.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
        tab.on("pageerror", lambda e: problems.append(f"page error: {e}"))
        for name, path in pages(base, model, symbol, timeframe).items():
            tab.goto(base + path)
            tab.wait_for_selector(READY[name], timeout=60_000)
            tab.wait_for_timeout(settle_ms)
            if tab.locator("#notice").is_visible():
                problems.append(f"{name}: {tab.locator('#notice').inner_text()}")
            for label, size in SIZES.items():
                tab.set_viewport_size(size)
                tab.screenshot(path=str(out / f"{name}-{label}.png"), full_page=True)
            tab.set_viewport_size(SIZES["desktop"])
            print(f"{name}: {out / name}-{{desktop,phone}}.png")
        browser.close()
    return problems


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--base", default="http://127.0.0.1:5003", help="the service's address")
    ap.add_argument("--out", required=True, type=Path, help="folder for the screenshots")
    ap.add_argument("--model", default="ensemble", help="whose model page to visit")
    ap.add_argument("--symbol", default="BTCUSDT", help="whose coin page to visit")
    ap.add_argument("--timeframe", default="1h")
    args = ap.parse_args(argv)
    problems = tour(args.base.rstrip("/"), args.out, model=args.model, symbol=args.symbol, timeframe=args.timeframe)
    for problem in problems:
        print(f"PROBLEM {problem}")
    print("TOUR OK" if not problems else f"TOUR FAILED: {len(problems)} problems")
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main())
