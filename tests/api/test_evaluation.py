"""Published evaluation reports: what scripts/evaluate.py puts beside the models, and ``GET /evaluation``,
``/evaluation/list`` and ``/evaluation/plots/<name>`` serving them: never a half-written report, never a
path out of the report's folder, never a 500 for a missing or corrupt file."""

from __future__ import annotations

import json
import shutil
import threading

import pytest

from coinpredict.evaluation import publish
from coinpredict.evaluation.publish import METRICS_FILE, POINTER, publish_report, report_root
from coinpredict.serving.reports import PublishedReports, ReportUnreadable

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64
BASELINES = ("coin_flip", "always_up", "majority", "momentum", "mean_reversion", "fitted_reversal")


def fake_report(stamp: str, timeframe: str = "1h", horizon: int = 1) -> dict:
    return {"timeframe": timeframe, "horizon": horizon, "start": "2025-01-01T00:00:00Z", "end": "2025-02-01T00:00:00Z",
            "symbols": ["BTCUSDT"], "n_rows": 10, "fee_bps": 10.0, "cost_bps": 20.0, "evaluated_at": stamp,
            "models": {"lightgbm": {"n": 10, "auc": 0.55}}, "baselines": {"coin_flip": {"n": 10, "auc": 0.5}},
            "per_symbol": {}, "audit": {"checked": 0, "mismatches": []}}


def publish_fake(models_dir, out_dir, stamp: str, **kw):
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "roc.png").write_bytes(PNG)
    return publish_report(fake_report(stamp, **kw), [{"name": "roc.png", "title": "ROC"},
                                                     {"name": "../escape.png", "title": "never copied"}],
                          out_dir, models_dir)


@pytest.fixture()
def served_reports(evaluated_dir, synthetic_dir, tmp_path):
    """An app over a models folder holding only the published 1h report (a copy each test may damage)."""
    from coinpredict import create_app

    models = tmp_path / "models"
    shutil.copytree(evaluated_dir / "1h" / "reports", models / "1h" / "reports")
    app = create_app({"TESTING": True, "ohlcv_dir": synthetic_dir, "models_dir": models, "offline": True})
    return app.test_client(), models


def current_metrics(models_dir, timeframe="1h", horizon=1):
    root = report_root(models_dir, timeframe, horizon)
    return root / (root / POINTER).read_text().strip() / METRICS_FILE


def test_evaluate_publishes_its_report_and_plots_beside_the_models(evaluated_dir):
    out = evaluated_dir.parent / "out"
    published = json.loads(current_metrics(evaluated_dir).read_text())
    kept = json.loads((out / "metrics.json").read_text())
    assert "plots" not in kept and published["evaluated_at"] == kept["evaluated_at"]  # --out as it was
    assert published["evaluated_at"].endswith("Z") and set(published["baselines"]) == set(BASELINES)
    assert {p["name"] for p in published["plots"]} >= {"roc.png", "calibration.png", "equity.png", "auc.png"}
    for plot in published["plots"]:
        assert (current_metrics(evaluated_dir).parent / plot["name"]).read_bytes() == (out / plot["name"]).read_bytes()
    status_file = json.loads((evaluated_dir / "1h" / "evaluation.json").read_text())  # what /status reads
    assert "plots" not in status_file and set(status_file["models"]) == set(published["models"])


def test_a_new_publication_replaces_the_current_one_whole_and_keeps_one_before_it(tmp_path, monkeypatch):
    models = tmp_path / "models"
    first = publish_fake(models, tmp_path / "out", "2025-01-01T00:00:00Z")
    assert [p["name"] for p in json.loads((first / METRICS_FILE).read_text())["plots"]] == ["roc.png"]
    assert not (first.parent / "escape.png").exists() and not (models / "1h" / "escape.png").exists()
    second = publish_fake(models, tmp_path / "out", "2025-01-02T00:00:00Z")
    third = publish_fake(models, tmp_path / "out", "2025-01-03T00:00:00Z")
    root = report_root(models, "1h", 1)
    assert sorted(p.name for p in root.iterdir()) == sorted([POINTER, second.name, third.name])

    def broken(path, text):
        raise OSError("disk full")

    monkeypatch.setattr(publish, "write_atomic_text", broken)
    with pytest.raises(OSError):
        publish_fake(models, tmp_path / "out", "2025-01-04T00:00:00Z")
    assert sorted(p.name for p in root.iterdir()) == sorted([POINTER, second.name, third.name])  # no debris
    assert PublishedReports(models).report("1h", 1)["evaluated_at"] == "2025-01-03T00:00:00Z"


def test_a_reader_never_sees_a_half_written_report(tmp_path):
    models, out = tmp_path / "models", tmp_path / "out"
    publish_fake(models, out, "0")
    reader, seen, errors, done = PublishedReports(models), set(), [], threading.Event()

    def read():
        while not done.is_set():
            try:
                seen.add(reader.report("1h", 1)["evaluated_at"])
                assert reader.plot("1h", 1, "roc.png").data == PNG
            except (ReportUnreadable, AssertionError, AttributeError) as exc:
                errors.append(repr(exc))

    thread = threading.Thread(target=read)
    thread.start()
    try:
        for i in range(1, 25):
            publish_fake(models, out, str(i))
    finally:
        done.set()
        thread.join()
    assert errors == [] and len(seen) > 1


def test_the_report_with_its_baselines_plots_and_listing(served_reports):
    client, _ = served_reports
    body = client.get("/evaluation").get_json()
    assert body == client.get("/evaluation?timeframe=1h&horizon=1").get_json()
    assert (body["timeframe"], body["horizon"]) == ("1h", 1) and body["n_rows"] > 0 and body["evaluated_at"]
    assert "ensemble" in body["models"] and set(body["baselines"]) == set(BASELINES)
    assert {"return_net", "sharpe_net", "trades", "turnover"} <= set(body["models"]["ensemble"]["backtest"])
    assert set(body["per_symbol"]["ensemble"]) == set(body["symbols"])
    comparison = body["ensemble_comparison"]
    assert comparison["ensemble"]["auc"] == body["models"]["ensemble"]["auc"] and comparison["ensemble"]["rule"]
    assert comparison["mean_boosters"]["members"] == ["catboost", "lightgbm", "xgboost"]
    relative = body["models"]["ensemble"]["outperform"]  # the relative target beside direction
    assert body["outperform_comparison"]["ensemble"]["auc_outperform"] == relative["auc"] is not None
    assert body["available"] == [{k: body[k] for k in ("timeframe", "horizon", "start", "end", "evaluated_at")}]
    listing = client.get("/evaluation/list").get_json()
    assert listing == {"count": 1, "available": body["available"], "default": {"timeframe": "1h", "horizon": 1}}
    for plot in body["plots"]:
        assert plot["url"] == f"/evaluation/plots/{plot['name']}?timeframe=1h&horizon=1" and plot["title"]
        resp = client.get(plot["url"])
        assert resp.status_code == 200 and resp.mimetype == "image/png" and resp.data.startswith(b"\x89PNG")
        assert resp.headers["ETag"] and resp.headers["Last-Modified"]
        assert client.get(plot["url"], headers={"If-None-Match": resp.headers["ETag"]}).status_code == 304


def test_no_report_is_a_404_that_says_how_to_make_one(client, served_reports):
    body = client.get("/evaluation").get_json()  # the smoke models, never evaluated
    assert body["error"]["code"] == "not_evaluated" and "scripts/evaluate.py" in body["error"]["message"]
    assert client.get("/evaluation/list").get_json() == {"count": 0, "available": [], "default": None}
    assert client.get("/evaluation/plots/roc.png").get_json()["error"]["code"] == "not_evaluated"
    reports, _ = served_reports
    for query in ("timeframe=4h", "timeframe=1h&horizon=4", "horizon=24"):
        resp = reports.get(f"/evaluation?{query}")
        assert resp.status_code == 404 and resp.get_json()["error"]["code"] == "not_evaluated", query
        assert len(resp.get_json()["error"]["available"]) == 1
    for query in ("timeframe=2h5", "horizon=0", "horizon=abc", "horizon=501"):
        resp = reports.get(f"/evaluation?{query}")
        assert resp.status_code == 400 and resp.get_json()["error"]["code"] == "invalid_value", query
    assert reports.get("/evaluation/plots/roc.png?horizon=-1").status_code == 400


@pytest.mark.parametrize("name", ["../metrics.json", "..%2Fmetrics.json", "%2E%2E%2FCURRENT", "%2Fetc%2Fpasswd",
                                  "metrics.json", "CURRENT", ".roc.png", "ROC.png", "roc.png%00", "nope.png",
                                  "..%5Cmetrics.json", "roc.png%2F..%2F..%2Fevaluation.json", "%252E%252E%252Froc.png"])
def test_a_plot_name_never_leaves_the_reports_folder(served_reports, name):
    client, models = served_reports
    resp = client.get(f"/evaluation/plots/{name}")
    assert resp.status_code in (400, 404) and resp.is_json
    text = resp.get_data(as_text=True)
    assert str(models) not in text and "/tmp" not in text and "reports/h1" not in text


def test_a_corrupt_report_is_a_503_that_says_so_never_a_500(served_reports):
    client, models = served_reports
    metrics = current_metrics(models)
    good = metrics.read_text()
    cases = [("{not json", "not valid JSON", 503), ("[1, 2]", "not a report", 503),
             (json.dumps({**json.loads(good), "models": {"x": {"auc": "high"}}}), "models.x.auc", 200),
             (json.dumps({**json.loads(good), "plots": "roc.png"}), "not a report", 503),
             (json.dumps({**json.loads(good), "horizon": 4}), "not a report", 503)]
    for text, says, plot_status in cases:
        metrics.write_text(text)
        resp = client.get("/evaluation")
        error = resp.get_json()["error"]
        assert resp.status_code == 503 and error["code"] == "evaluation_unreadable" and says in error["message"], text
        assert str(models) not in error["message"] and "scripts/evaluate.py" in error["message"]
        assert client.get("/evaluation/plots/roc.png").status_code == plot_status  # its files may be whole
        assert client.get("/evaluation/list").get_json()["count"] in (0, 1)
    metrics.unlink()
    assert "missing" in client.get("/evaluation").get_json()["error"]["message"]
    (metrics.parent.parent / POINTER).write_text("../../../etc\n")
    assert client.get("/evaluation").status_code == 503
    assert client.get("/evaluation/list").get_json() == {"count": 0, "available": [],
                                                          "default": {"timeframe": "1h", "horizon": 1}}


def test_a_report_published_while_serving_is_answered_next(served_reports, tmp_path):
    client, models = served_reports
    assert client.get("/evaluation").get_json()["evaluated_at"] != "2030-01-01T00:00:00Z"
    publish_fake(models, tmp_path / "out", "2030-01-01T00:00:00Z")
    publish_fake(models, tmp_path / "out", "2030-01-01T00:00:00Z", timeframe="4h", horizon=6)
    body = client.get("/evaluation").get_json()
    assert body["evaluated_at"] == "2030-01-01T00:00:00Z" and [p["name"] for p in body["plots"]] == ["roc.png"]
    assert client.get(body["plots"][0]["url"]).data == PNG
    assert [(a["timeframe"], a["horizon"]) for a in body["available"]] == [("1h", 1), ("4h", 6)]
    assert client.get("/evaluation?timeframe=4h").get_json()["horizon"] == 6
