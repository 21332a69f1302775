"""A promotion the serving cannot use is refused (409 incompatible_version) unless forced: a version that
lacks a horizon the timeframe serves, an ensemble whose members are not served at one of its horizons,
features this code does not compute, a window longer than serving fetches. The check runs for promotions
by API and by a run's if_better gate; the versions list says what each version was trained for."""

from __future__ import annotations

import json
import shutil

import pytest

from coinpredict.common.times import iso
from coinpredict.errors import Conflict
from coinpredict.models.artifacts import CURRENT, current_dir, version_folder
from coinpredict.models.manifest import Manifest
from coinpredict.models.registry import ENSEMBLE_ID
from coinpredict.training import pipeline, promotion
from coinpredict.training.compatibility import Served, check
from coinpredict.training.versions import list_versions, promote
from tests.conftest import SYNTHETIC_END_MS
from tests.versioning import OLDER, clone_version

SERVED = Served("1h", ensemble=(1, 4, 24), models={"lightgbm": (1, 4, 24), "xgboost": (1, 4, 24)})


def member(horizons, **extra) -> Manifest:
    return Manifest(**{"version": "v", "horizons": list(horizons), "feature_names": ["ret_1", "ret_z"], "window": 16,
                       **extra})


def ensemble(by_horizon: dict[int, list[str]]) -> Manifest:
    weights = {str(h): {"validation_log_loss": {m: 0.69 for m in ids}, "ranking": ids} for h, ids in by_horizon.items()}
    return Manifest(version="e", horizons=list(by_horizon), by_horizon=weights)


@pytest.mark.parametrize("horizons", [(1, 4, 24), (24, 1, 4), (1, 4, 24, 2)])
def test_a_member_with_every_served_horizon_can_be_served(horizons):
    assert check(SERVED, "lightgbm", member(horizons)).ok


def test_a_member_lacking_served_horizons_is_refused_saying_which():
    verdict = check(SERVED, "lightgbm", member((2,)))
    assert not verdict.ok and (verdict.horizons, verdict.required) == ([2], [1, 4, 24])
    assert "predicts horizons 2" in verdict.reason and "the ensemble on 1h serves horizons 1, 4, 24" in verdict.reason
    assert "lacks 1, 4, 24" in verdict.reason
    assert "lacks 24" in check(SERVED, "lightgbm", member((1, 4))).reason


def test_without_an_ensemble_the_models_own_served_horizons_count():
    alone = Served("4h", models={"lightgbm": (1, 6)})
    assert "the served lightgbm on 4h predicts horizons 1, 6" in check(alone, "lightgbm", member((2,))).reason
    assert check(alone, "xgboost", member((2,))).ok  # nothing served for it: its first version
    assert check(Served("4h"), "lightgbm", member((3,))).ok


def test_features_this_code_does_not_compute_and_a_window_beyond_the_lookback_are_refused():
    assert "does not compute (made_up)" in check(SERVED, "lightgbm", member((1, 4, 24), feature_names=["ret_1",
                                                                                                    "made_up"])).reason
    long = member((1, 4, 24), window=400)
    assert "more than the 500 serving fetches" in check(SERVED, "lightgbm", long).reason
    assert check(SERVED, "lightgbm", long, lookback=1000).ok


def test_an_ensemble_must_keep_the_served_horizons_and_be_answerable_at_each_of_its_own():
    assert check(SERVED, ENSEMBLE_ID, ensemble({1: ["lightgbm"], 4: ["xgboost"], 24: ["lightgbm"]})).ok
    assert "lacks 4, 24" in check(SERVED, ENSEMBLE_ID, ensemble({1: ["lightgbm"]})).reason
    extra = check(SERVED, ENSEMBLE_ID, ensemble({1: ["lightgbm"], 4: ["xgboost"], 24: ["xgboost"], 2: ["lightgbm"]}))
    assert "at horizon 2 members none of which is served with that horizon" in extra.reason


@pytest.fixture()
def models(with_other_horizons, tmp_path):
    source, version = with_other_horizons
    shutil.copytree(source, tmp_path / "models")
    return tmp_path / "models", version


def test_promoting_a_version_of_other_horizons_is_refused_unless_forced(models):
    models, other = models
    before = (models / "1h" / "lightgbm" / CURRENT).read_text()
    with pytest.raises(Conflict) as refused:
        promote(models, "1h", "lightgbm", other)
    error = refused.value
    assert (error.status, error.code, error.field) == (409, "incompatible_version", "version")
    assert error.details["details"] == {"horizons": [2], "served_horizons": [1, 4, 24]}
    assert f"version {other} of lightgbm predicts horizons 2" in error.message and "/" not in error.message
    assert (models / "1h" / "lightgbm" / CURRENT).read_text() == before
    assert promote(models, "1h", "lightgbm", other, force=True) == other
    assert current_dir(models, "1h", "lightgbm").name == version_folder(other)


def test_the_list_shows_each_versions_profile_horizons_and_whether_it_could_be_served(models):
    models, other = models
    listing = {v["version"]: v for v in list_versions(models, "1h", "lightgbm")["versions"]}
    served = next(v for v in listing.values() if v["status"] == "serving")
    assert (served["profile"], served["horizons"], served["window"], served["incompatible"]) == ("smoke", [1, 4, 24],
                                                                                                  16, None)
    assert served["features"] > 10
    assert listing[other]["horizons"] == [2] and listing[other]["profile"] == "smoke"
    assert "lacks 1, 4, 24" in listing[other]["incompatible"]
    assert list(listing[other]["metrics"]["validation_by_horizon"]) == ["2"]


def test_an_if_better_run_goes_through_the_same_check(models, synthetic_dir, monkeypatch):
    models, _ = models
    before = (models / "1h" / "lightgbm" / CURRENT).read_text()
    monkeypatch.setattr(promotion, "decide", lambda *a, **k: {"promote": True, "basis": "stub: better"})
    results = pipeline.train_models(data_dir=synthetic_dir, timeframe="1h", end=iso(SYNTHETIC_END_MS),
                                    models_dir=models, profile="smoke", model_ids=["lightgbm"], horizons=(2,),
                                    promote="if_better")
    assert results["lightgbm"].promoted is False and "lacks 1, 4, 24" in results["lightgbm"].gate["refused"]
    assert (models / "1h" / "lightgbm" / CURRENT).read_text() == before


def test_a_hand_edited_manifest_is_listed_unreadable_and_refused_not_a_crash(models):
    models, _ = models
    folder = clone_version(models, "1h", "lightgbm")
    manifest = json.loads((folder / "manifest.json").read_text())
    (folder / "manifest.json").write_text(json.dumps({**manifest, "horizons": ["soon"]}))
    listing = {v["version"]: v for v in list_versions(models, "1h", "lightgbm")["versions"]}
    assert listing[OLDER]["status"] == "unreadable" and "unusable horizons" in listing[OLDER]["reason"]
    with pytest.raises(Conflict) as refused:
        promote(models, "1h", "lightgbm", OLDER)
    assert refused.value.code == "version_unusable"
