"""Reloading MODELS_DIR while serving: incremental (what did not change is reused), a new version that
does not load leaves the previous one serving, a reload that finds nothing changes nothing, and the
watcher serves a change at its first look after it (looks counted, not timed: a loaded machine can
slow any clock-based bound)."""

from __future__ import annotations

import shutil
import time
import weakref
from pathlib import Path

import pytest

from coinpredict.common.files import write_atomic_text
from coinpredict.models.artifacts import CURRENT, current_dir
from coinpredict.models.registry import ENSEMBLE_ID, MODEL_IDS
from coinpredict.serving import ModelReloader, ModelStore, Predictor, PredictRequest, announce_reload, fingerprint
from coinpredict.serving.reloader import _watch
from coinpredict.training.versions import promote
from tests.versioning import OLDER, clone_version, corrupt


@pytest.fixture()
def models(trained_dir, tmp_path):
    target = tmp_path / "models"
    shutil.copytree(trained_dir, target)
    return target


DEADLINE_S = 120  # a deadline for a condition; the contract's seconds are counted in looks, not measured


def reloader_for(models, market, poll_s: float = 0) -> ModelReloader:
    predictor = Predictor(market.settings, market, ModelStore(models).load_all())
    return ModelReloader(predictor, models, poll_s)


def wait_for(condition, timeout: float) -> float:
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > timeout:
            raise AssertionError(f"not within {timeout} s")
        time.sleep(0.05)
    return time.monotonic() - started


def test_a_reload_reads_only_what_changed(models, market):
    reloader = reloader_for(models, market)
    before = reloader.predictor.store
    assert reloader.poll_once() is None  # nothing changed: no reload at all
    clone_version(models, "1h", "lightgbm")
    promote(models, "1h", "lightgbm", OLDER)
    report = reloader.poll_once()
    after = reloader.predictor.store
    assert report.reloaded and report.changed == [
        {"model": "lightgbm", "timeframe": "1h", "before": before.get("1h", "lightgbm").version, "after": OLDER}]
    assert after.get("1h", "lightgbm").version == OLDER
    reused = [m for m in MODEL_IDS if after.get("1h", m).model is before.get("1h", m).model]
    assert reused == [m for m in MODEL_IDS if m != "lightgbm"]
    assert after.ensembles["1h"] is before.ensembles["1h"]


def test_a_new_version_that_does_not_load_leaves_the_previous_serving(models, market):
    reloader = reloader_for(models, market)
    served = reloader.predictor.store.get("1h", "xgboost").version
    for model_id in ("xgboost", ENSEMBLE_ID):  # written straight to CURRENT, as a bad copy would be
        folder = clone_version(models, "1h", model_id)
        corrupt(folder) if model_id != ENSEMBLE_ID else (folder / "manifest.json").write_text("{not json")
        write_atomic_text(models / "1h" / model_id / CURRENT, folder.name + "\n")
    report = reloader.poll_once()
    store = reloader.predictor.store
    entry = store.get("1h", "xgboost")
    assert entry.status == "ready" and entry.version == served and store.counts()["ready"] == len(MODEL_IDS)
    assert entry.load_error.startswith(f"version {OLDER} refused (") and f"still serving {served}" in entry.load_error
    assert "1h" in store.ensembles and OLDER in store.ensemble_errors["1h"]
    assert len(report.refused) == 2 and all("/" not in line.split(": ", 1)[1] for line in report.refused)
    assert any("xgboost (1h)" in w for w in reloader.warnings())
    answer = reloader.predictor.predict_one(PredictRequest("BTCUSDT", "1h", "xgboost"))
    assert answer["model_version"] == served


def test_a_reload_that_finds_nothing_changes_nothing_and_says_why(models, market):
    reloader = reloader_for(models, market)
    store = reloader.predictor.store
    moved = models.with_name("moved")
    models.rename(moved)
    report = reloader.reload()
    assert not report.reloaded and reloader.predictor.store is store
    assert "MODELS_DIR is missing" in report.reason and report.counts["ready"] == len(MODEL_IDS)
    assert reloader.warnings()[0] == report.reason
    models.mkdir()  # emptied rather than moved
    assert "holds no trained model" in reloader.reload().reason
    models.rmdir()
    moved.rename(models)
    assert reloader.reload().reloaded and reloader.warnings() == []


class Looks:
    """The watcher's stop event, counting its waits: ``looks`` waits time out (a poll each), then stop."""

    def __init__(self, looks: int):
        self.looks, self.waits = looks, []

    def wait(self, timeout: float) -> bool:
        self.waits.append(timeout)
        return len(self.waits) > self.looks


def test_the_watcher_serves_a_new_current_at_its_first_look_after_the_change(models, market):
    """What OPERATIONS.md's "within 10 seconds" rests on, without a clock: the watcher waits ``poll_s``
    between looks, and the first look after CURRENT changed serves the new version."""
    reloader = reloader_for(models, market, poll_s=1.5)
    clone_version(models, "1h", "catboost")
    promote(models, "1h", "catboost", OLDER)
    looks = Looks(1)
    _watch(weakref.ref(reloader), reloader.poll_s, looks)
    assert looks.waits == [1.5, 1.5] and reloader.predictor.store.get("1h", "catboost").version == OLDER


def test_the_watcher_thread_picks_up_a_new_current(models, market):
    reloader = reloader_for(models, market, poll_s=0.2)
    reloader.start()
    try:
        clone_version(models, "1h", "catboost")
        promote(models, "1h", "catboost", OLDER)
        wait_for(lambda: reloader.predictor.store.get("1h", "catboost").version == OLDER, DEADLINE_S)
    finally:
        reloader.stop()


def test_starting_empty_the_watcher_serves_models_as_they_are_written(trained_dir, market, tmp_path):
    models = tmp_path / "later"
    reloader = reloader_for(models, market, poll_s=0.2)
    assert reloader.predictor.store.counts()["ready"] == 0
    reloader.start()
    try:
        # Worse than a training run (which writes a version, then CURRENT): every CURRENT first, so the
        # watcher sees them fail, then the versions they name.
        for pointer in trained_dir.glob(f"1h/*/{CURRENT}"):
            (models / pointer.parent.relative_to(trained_dir)).mkdir(parents=True)
            shutil.copy(pointer, models / pointer.relative_to(trained_dir))
        wait_for(lambda: reloader.predictor.store.counts()["failed"] == len(MODEL_IDS), DEADLINE_S)
        for pointer in trained_dir.glob(f"1h/*/{CURRENT}"):
            version = current_dir(trained_dir, "1h", pointer.parent.name)
            shutil.copytree(version, models / version.relative_to(trained_dir))
        wait_for(lambda: reloader.predictor.store.counts()["ready"] == len(MODEL_IDS) and
                 "1h" in reloader.predictor.store.ensembles, DEADLINE_S)
    finally:
        reloader.stop()


def test_the_fingerprint_is_cheap_and_sees_the_token(models, monkeypatch):
    """Cheap: the only files it reads are the CURRENT pointers (stat calls aside), never a manifest or
    weights, so a poll costs the same however large the models are."""
    read, read_text = [], Path.read_text
    monkeypatch.setattr(Path, "read_text", lambda self, *a, **k: read.append(self.name) or read_text(self, *a, **k))
    first = fingerprint(models)
    assert read and set(read) == {CURRENT}
    assert fingerprint(models) == first
    assert announce_reload(models) and fingerprint(models) != first  # what POST /models/reload does
    assert not announce_reload(models / "absent")
    assert fingerprint(models / "absent") == (("root", None), ("token", None))
