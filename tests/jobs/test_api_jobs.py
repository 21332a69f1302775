"""Training jobs over HTTP, run in this process by Huey's immediate mode (the real queue, executed
synchronously): validation, the management key, the queue limit, results and the promotion gate."""

from __future__ import annotations

import json

import pytest

from coinpredict.api.state import KEY
from coinpredict.common.times import iso
from coinpredict.models.artifacts import CURRENT
from coinpredict.models.base import read_manifest
from tests.conftest import SYNTHETIC_END_MS

HEADERS = {"X-API-Key": "s3cret"}


@pytest.fixture
def make_app(synthetic_dir, tmp_path):
    def make(immediate: bool = True, **overrides):
        from coinpredict import create_app

        app = create_app({"TESTING": True, "ohlcv_dir": synthetic_dir, "models_dir": tmp_path / "models",
                          "offline": True, "api_key": "s3cret", "database_url": f"sqlite:///{tmp_path / 'j.sqlite'}",
                          "queue_path": tmp_path / "q.sqlite", **overrides})
        app.extensions[KEY].jobs.huey.immediate = immediate
        return app
    return make


def submit(client, **body):
    return client.post("/jobs", json={"timeframe": "1h", "profile": "smoke", **body}, headers=HEADERS)


def serving(models_dir, model_id: str) -> str:
    return (models_dir / "1h" / model_id / CURRENT).read_text().strip()


@pytest.mark.parametrize("body, field", [
    ({"models": ["nope"]}, "models"), ({"models": []}, "models"), ({"profile": "huge"}, "profile"),
    ({"timeframe": "7h"}, "timeframe"), ({"promote": "maybe"}, "promote"), ({"kind": "evaluate"}, "kind"),
    ({"end": "2031-01-01T00:00:00Z"}, "end"), ({"end": "yesterday"}, "end"), ({"horizons": [0]}, "horizons"),
    ({"start": iso(SYNTHETIC_END_MS)}, "start"), ({"extra": 1}, "extra"), ({"models": "all", "profile": 3}, "profile"),
    ({"end": "2025-02-30T00:00:00Z"}, "end"), ({"end": "2025-01-01T00:00:00+99:99"}, "end"),
    ({"start": "0000-01-01"}, "start"),
])
def test_bad_jobs_are_refused_with_the_field(make_app, body, field):
    client = make_app().test_client()
    r = submit(client, **body)
    assert r.status_code == 400, r.get_json()
    assert r.get_json()["error"]["field"] == field
    assert client.get("/jobs").get_json()["count"] == 0


def test_a_job_names_its_timeframe_and_no_misspelt_field_is_ignored(make_app):
    client = make_app(immediate=False).test_client()
    r = client.post("/jobs", json={"kind": "train", "profile": "smoke"}, headers=HEADERS)
    assert r.status_code == 400 and r.get_json()["error"]["field"] == "timeframe", r.get_json()
    r = submit(client, profle="full")
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "unknown_field", r.get_json()
    assert r.get_json()["error"]["field"] == "profle" and "did you mean 'profile'" in r.get_json()["error"]["message"]
    r = client.post("/jobs", json={"timeframes": "4h", "profile": "smoke"}, headers=HEADERS)
    assert r.get_json()["error"]["field"] == "timeframes"  # the misspelling, not the missing field it explains
    assert client.get("/jobs").get_json()["count"] == 0
    assert submit(client, timeframe="1H").get_json()["timeframe"] == "1h"


def test_management_needs_the_key(make_app):
    client = make_app().test_client()
    assert client.post("/jobs", json={}).status_code == 401
    assert client.post("/jobs", json={}, headers={"X-API-Key": "wrong"}).status_code == 401
    assert client.delete("/jobs/abc").status_code == 401
    off = make_app(api_key=None).test_client()
    r = off.post("/jobs", json={}, headers=HEADERS)
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "management_disabled"
    assert off.get("/jobs").status_code == 200  # reading needs no key


def test_the_queue_limit_answers_429(make_app):
    client = make_app(immediate=False, max_active_jobs=2).test_client()
    assert submit(client).status_code == 202 and submit(client).status_code == 202
    r = submit(client)
    assert r.status_code == 429 and r.get_json()["error"]["code"] == "too_many_jobs" and r.headers["Retry-After"]
    queued = client.get("/jobs?status=queued").get_json()
    assert queued["count"] == 2 and client.get("/health").get_json()["jobs"]["queued"] == 2
    job_id = queued["jobs"][0]["id"]
    assert client.delete(f"/jobs/{job_id}", headers=HEADERS).get_json()["status"] == "cancelled"
    r = client.delete(f"/jobs/{job_id}", headers=HEADERS)
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "job_finished"
    assert submit(client).status_code == 202
    assert client.get("/jobs/nope").status_code == 404


def test_a_job_trains_promotes_and_reports(make_app, tmp_path):
    client = make_app().test_client()
    r = submit(client, models=["lightgbm", "xgboost"], promote="always")
    assert r.status_code == 202
    job = client.get(f"/jobs/{r.get_json()['id']}").get_json()
    assert job["status"] == "succeeded", job
    assert job["progress"] == 1.0 and job["started_at"] and job["finished_at"]
    assert sorted(job["result"]["promoted"]) == ["lightgbm", "xgboost"]
    assert job["result"]["versions"]["lightgbm"].replace(":", "") == serving(tmp_path / "models", "lightgbm")
    assert any("lightgbm" in line for line in job["log_tail"])
    assert str(tmp_path) not in json.dumps(job)
    manifest = read_manifest(next((tmp_path / "models" / "1h" / "lightgbm").glob("*/manifest.json")).parent)
    assert manifest.job == job["id"]


def test_the_gate_keeps_the_serving_version_unless_the_candidate_is_not_worse(make_app, tmp_path):
    client = make_app().test_client()
    models = tmp_path / "models"
    first_end = iso(SYNTHETIC_END_MS - 30 * 86_400_000)
    first = client.get(f"/jobs/{submit(client, models=['lightgbm'], end=first_end).get_json()['id']}").get_json()
    assert first["result"]["gate"]["lightgbm"]["basis"] == "nothing served"
    v1 = serving(models, "lightgbm")
    again = client.get(f"/jobs/{submit(client, models=['lightgbm'], end=first_end, promote='never').get_json()['id']}")
    assert again.get_json()["result"]["promoted"] == [] and serving(models, "lightgbm") == v1
    later = client.get(f"/jobs/{submit(client, models=['lightgbm']).get_json()['id']}").get_json()
    gate = later["result"]["gate"]["lightgbm"]
    assert gate["basis"] == "candles neither version trained on", gate
    assert gate["n"] >= 200 and gate["period"][0] >= first_end
    promoted = gate["candidate_log_loss"] <= gate["serving_log_loss"]
    assert ("lightgbm" in later["result"]["promoted"]) == promoted
    assert (serving(models, "lightgbm") != v1) == promoted
    versions = [p.name for p in (models / "1h" / "lightgbm").iterdir() if p.is_dir()]
    assert len(versions) == 3  # every version is kept, served or not


def test_the_ensemble_is_refitted_over_the_members_served(make_app, tmp_path):
    app = make_app()
    client, models = app.test_client(), tmp_path / "models"
    early = iso(SYNTHETIC_END_MS - 20 * 86_400_000)
    started = submit(client, models=["lightgbm", "xgboost", "catboost", "ensemble"], end=early, promote="always")
    first = client.get(f"/jobs/{started.get_json()['id']}").get_json()
    ensemble = read_manifest(models / "1h" / "ensemble" / serving(models, "ensemble"))
    assert set(ensemble.member_versions) == {"lightgbm", "xgboost", "catboost"}
    client.get(f"/jobs/{submit(client, models=['lightgbm'], promote='always').get_json()['id']}")
    job = app.extensions[KEY].jobs.refit_ensemble("1h")  # most served members are of the first run
    assert job["params"] == {"models": ["ensemble"], "profile": "smoke", "promote": "always", "end": early,
                             "horizons": [1, 4, 24]}
    refit = client.get(f"/jobs/{job['id']}").get_json()
    assert refit["status"] == "succeeded", refit
    assert refit["result"]["versions"]["ensemble"] != first["result"]["versions"]["ensemble"]
    ensemble = read_manifest(models / "1h" / "ensemble" / serving(models, "ensemble"))
    assert ensemble.member_versions == {m: first["result"]["versions"][m] for m in ("xgboost", "catboost")}


def test_a_queue_that_cannot_take_the_job_answers_503_and_leaves_no_waiting_record(make_app):
    client = make_app(immediate=False, redis_url="redis://127.0.0.1:1/0").test_client()
    r = submit(client, models=["lightgbm"])
    assert r.status_code == 503 and r.get_json()["error"]["code"] == "queue_unavailable" and r.headers["Retry-After"]
    [job] = client.get("/jobs").get_json()["jobs"]
    assert job["status"] == "failed" and "task queue" in job["error"]
    assert client.get("/health").get_json()["jobs"]["queued"] == 0


def test_a_date_without_a_time_is_an_end(make_app):
    client = make_app(immediate=False).test_client()
    r = submit(client, models=["lightgbm"], end="2025-06-01")
    assert r.status_code == 202 and r.get_json()["params"]["end"] == "2025-06-01"


def test_an_if_better_ensemble_keeps_the_members_the_gate_kept(make_app, tmp_path):
    client, models = make_app().test_client(), tmp_path / "models"
    early = iso(SYNTHETIC_END_MS - 30 * 86_400_000)
    client.get(f"/jobs/{submit(client, models=['lightgbm', 'xgboost', 'ensemble'], end=early).get_json()['id']}")
    job = client.get(f"/jobs/{submit(client, models=['lightgbm', 'xgboost', 'ensemble']).get_json()['id']}")
    result = job.get_json()["result"]
    folder = models / "1h" / "ensemble" / result["versions"]["ensemble"].replace(":", "")
    members = read_manifest(folder).member_versions
    # Whichever members the gate promoted, the new ensemble combines the version each one now serves.
    assert members == {m: next(v["version"] for v in client.get(f"/models/{m}/versions?timeframe=1h").get_json()
                               ["versions"] if v["status"] == "serving") for m in ("lightgbm", "xgboost")}
    assert result["gate"]["ensemble"]["basis"] == "follows its members"


def test_a_scheduled_job_is_listed_and_shown_like_any_other(make_app):
    """Its record's unique schedule key stays inside: the answers keep the Job schema."""
    app = make_app(immediate=False)
    queue = app.extensions[KEY].jobs
    job = queue.submit("train", "1h", {"models": "all", "profile": "smoke", "promote": "if_better",
                                       "end": iso(SYNTHETIC_END_MS), "scheduled": True},
                       schedule_key=f"retrain:1h:{SYNTHETIC_END_MS}")
    client = app.test_client()
    listed = client.get("/jobs")
    assert listed.status_code == 200, listed.get_json()
    [shown] = listed.get_json()["jobs"]
    assert shown["id"] == job["id"] and shown["params"]["scheduled"] is True and "schedule_key" not in shown
    one = client.get(f"/jobs/{job['id']}")
    assert one.status_code == 200 and "schedule_key" not in one.get_json()
