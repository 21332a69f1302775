"""Serving figures under gunicorn are read from every worker's metric files. A worker taking its first
request (or first prediction) creates its file empty and sizes it a moment later: a status answer or a
scrape served by another worker at that moment must still be whole. This is the state behind the
``KeyError: 'serving'`` that test_procfile_versions met once (the status answer was a 500)."""

from __future__ import annotations

from pathlib import Path

import pytest
from prometheus_client.mmap_dict import MmapedDict, mmap_key

PREDICTIONS = "coinpredict_prediction_requests"
HELP = "Predictions asked of a model"


def write_worker_file(folder: Path, pid: int, requests: float) -> None:
    """A worker's counter file as prometheus_client writes it: lightgbm asked ``requests`` times on 1h."""
    names, values = ["model", "timeframe"], ["lightgbm", "1h"]
    figures = MmapedDict(str(folder / f"counter_{pid}.db"))
    figures.write_value(mmap_key(PREDICTIONS, f"{PREDICTIONS}_total", names, values, HELP), requests, 0.0)
    figures.close()


@pytest.fixture()
def worker_files(tmp_path, monkeypatch) -> Path:
    """Two workers that have counted predictions, and a third creating its files right now (empty, not
    yet sized: what ``open(path, "a+b")`` leaves before ``truncate``)."""
    folder = tmp_path / "metrics"
    folder.mkdir()
    write_worker_file(folder, 101, 5)
    write_worker_file(folder, 102, 3)
    (folder / "counter_103.db").touch()
    (folder / "histogram_103.db").touch()
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(folder))
    return folder


def test_status_answer_is_whole_while_a_worker_creates_its_metric_file(client, worker_files):
    resp = client.get("/models/lightgbm/status")
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["serving"]["requests"] == 8


def test_scrape_is_whole_while_a_worker_creates_its_metric_file(client, worker_files):
    resp = client.get("/metrics")
    assert resp.status_code == 200, resp.get_data(as_text=True)[:500]
    assert 'coinpredict_prediction_requests_total{model="lightgbm",timeframe="1h"} 8.0' in resp.get_data(as_text=True)


def test_a_sized_file_not_yet_written_reads_as_no_figures(client, worker_files):
    """Once sized, the header is zero until the first figure is written: read as nothing, not an error."""
    (worker_files / "counter_103.db").write_bytes(b"\0" * 65536)
    assert client.get("/models/lightgbm/status").get_json()["serving"]["requests"] == 8
