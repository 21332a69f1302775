"""Starts the Procfile's web command (two gunicorn workers) on a free loopback port and talks to it
over HTTP."""

from __future__ import annotations

import re

import requests

from coinpredict.launch import procfile_server
from coinpredict.models.registry import MODEL_IDS


def requests_counted(metrics_text: str) -> float:
    return sum(float(m) for m in re.findall(r'^http_requests_total\{[^}]*endpoint="/health"[^}]*\} (\S+)$',
                                            metrics_text, flags=re.M))


def test_procfile_web_command_serves(synthetic_dir, trained_dir):
    env = {"OHLCV_DIR": str(synthetic_dir), "MODELS_DIR": str(trained_dir), "OFFLINE": "1", "WEB_CONCURRENCY": "2",
           "LOG_LEVEL": "WARNING"}
    with procfile_server(env, capture_output=True) as (base, _):
        health = requests.get(f"{base}/health", timeout=5)
        assert health.status_code == 200 and health.json()["models_loaded"] == len(MODEL_IDS)
        single = requests.post(f"{base}/predict/single", json={"symbol": "btc/usdt"}, timeout=30)
        assert single.status_code == 200 and single.json()["symbol"] == "BTCUSDT"
        missing = requests.get(f"{base}/nope", timeout=5)
        assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
        for _ in range(20):  # new connections, so both workers take some
            requests.get(f"{base}/health", timeout=5)
        # Whichever worker answers the scrape, it reports every worker's requests.
        scrapes = [requests.get(f"{base}/metrics", timeout=5) for _ in range(6)]
        counts = {requests_counted(r.text) for r in scrapes}
        assert min(counts) >= 21, counts
        # Per-model figures are summed over workers too; state figures come from whichever worker answers.
        for scrape in scrapes:
            assert scrape.headers["Content-Type"] == "text/plain; version=1.0.0; charset=utf-8"
            text = scrape.text
            assert 'coinpredict_prediction_requests_total{model="ensemble",timeframe="1h"} 1.0' in text
            assert 'coinpredict_prediction_seconds_count{model="ensemble",timeframe="1h"} 1.0' in text
            assert 'coinpredict_models{status="ready",timeframe="1h"} 19.0' in text
            assert 'coinpredict_model_version_info{model="ensemble",timeframe="1h"' in text
            assert re.search(r'^coinpredict_newest_candle_age_seconds\{timeframe="1h"\} \d', text, flags=re.M)
