"""Resolving what a request needs: members, readiness, horizon, method, history length."""

from __future__ import annotations

import pytest

from coinpredict.errors import BadRequest, NotFound, Unavailable
from coinpredict.features.datasets import min_history
from coinpredict.models.registry import ENSEMBLE_ID, MODEL_IDS
from coinpredict.serving import ModelStore, PredictRequest
from coinpredict.serving.resolve import members_for, plan_for


def test_a_single_model_plans_itself_and_the_history_its_window_needs(store):
    plan = plan_for(store, PredictRequest("BTCUSDT", "1h", "xgboost"))
    assert [m.model_id for m in plan.members] == ["xgboost"]
    assert plan.need == min_history(store.get("1h", "xgboost").manifest.window) and plan.horizon == 1


@pytest.mark.parametrize("horizon", [None, 1, 4, 24])
def test_the_ensemble_plans_the_weighted_members_of_its_horizon_in_registry_order(store, horizon):
    plan = plan_for(store, PredictRequest("BTCUSDT", "1h", ENSEMBLE_ID, horizon=horizon))
    weights = store.ensembles["1h"][0].for_horizon(horizon or 1).weights_
    assert [m.model_id for m in plan.members] == [m for m in MODEL_IDS if m in weights]
    assert len(plan.ready) == len(plan.members) and plan.horizon == (horizon or 1)


@pytest.mark.parametrize("horizon", [4, 24])
def test_a_single_model_answers_each_trained_horizon(store, horizon):
    assert plan_for(store, PredictRequest("BTCUSDT", "1h", "lightgbm", horizon=horizon)).horizon == horizon


@pytest.mark.parametrize(("req", "error", "code"), [
    (PredictRequest("BTCUSDT", "1h", "no_such_model"), NotFound, "unknown_model"),
    (PredictRequest("BTCUSDT", "4h", "no_such_model"), NotFound, "unknown_model"),
    (PredictRequest("BTCUSDT", "4h", "xgboost"), NotFound, "not_trained"),
    (PredictRequest("BTCUSDT", "4h", ENSEMBLE_ID), NotFound, "not_trained"),
    (PredictRequest("BTCUSDT", "1h", "xgboost", horizon=3), NotFound, "not_trained"),
    (PredictRequest("BTCUSDT", "1h", ENSEMBLE_ID, horizon=2), NotFound, "not_trained"),
    (PredictRequest("BTCUSDT", "1h", ENSEMBLE_ID, method="mode"), BadRequest, "invalid_value"),
])
def test_requests_that_cannot_be_served_are_refused_with_their_code(store, req, error, code):
    with pytest.raises(error) as info:
        plan_for(store, req)
    assert info.value.code == code
    if code == "not_trained":  # what can be asked instead
        assert info.value.details["details"]["trained"] == {"1h": {"horizons": [1, 4, 24], "models": len(MODEL_IDS)}}


def test_nothing_trained_refuses_every_model(tmp_path):
    empty = ModelStore(tmp_path).load_all()
    with pytest.raises(Unavailable, match="no model is trained yet"):
        members_for(empty, "1h", ENSEMBLE_ID)
    with pytest.raises(Unavailable, match="no model is trained yet"):
        members_for(empty, "1h", MODEL_IDS[0])


def test_an_ensemble_that_failed_to_load_is_503_not_untrained(trained_dir, tmp_path):
    import shutil

    from coinpredict.models.artifacts import current_dir

    models = tmp_path / "models"
    shutil.copytree(trained_dir, models)
    (current_dir(models, "1h", ENSEMBLE_ID) / "manifest.json").write_text("{not json")
    store = ModelStore(models).load_all()
    with pytest.raises(Unavailable, match="ensemble on 1h failed to load") as info:
        members_for(store, "1h", ENSEMBLE_ID)
    assert "/" not in info.value.message


def test_a_reload_swaps_the_models_and_their_feature_cache_together(store, market, trained_dir):
    from coinpredict.serving import Predictor

    predictor = Predictor(market.settings, market, store)
    req = PredictRequest("BTCUSDT", "1h", MODEL_IDS[0])
    before = predictor.predict_one(req)["probability_up"]
    old_cache = predictor.features
    fresh = predictor.swap(lambda: ModelStore(trained_dir).load_all())
    assert predictor.store is fresh and fresh is not store and predictor.features is not old_cache
    assert predictor.predict_one(req)["probability_up"] == before
