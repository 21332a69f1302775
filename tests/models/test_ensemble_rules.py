"""The ensemble's rule chosen out of fold: members picked on the first half of validation, scored on the
second."""

import numpy as np

from coinpredict.models.ensemble import Ensemble, HorizonEnsembles
from coinpredict.models.ensemble_rules import DEFAULT_RULE, choose_rule, rule_ranking, time_halves

HOUR = 3_600_000


def _periods(n_times=400, n_coins=5, seed=0):
    rng = np.random.default_rng(seed)
    t = np.repeat(np.arange(n_times) * HOUR, n_coins)
    y = (rng.random(len(t)) > 0.5).astype(float)
    return rng, t, y


def _signal(rng, y, strength, n):
    return np.clip(0.5 + strength * (y - 0.5) + 0.1 * rng.standard_normal(n), 0.01, 0.99)


def test_halves_are_ordered_in_time_with_a_gap():
    t = np.repeat(np.arange(100) * HOUR, 3)
    first, second = time_halves(t, 3 * HOUR)
    assert t[first].max() < t[second].min() - 3 * HOUR
    assert t[second].min() == 50 * HOUR and len(second) == 150
    assert len(first) == 3 * 47  # three candles before the cut are left out


def test_members_that_shine_only_where_they_stopped_lose_to_the_boosters():
    """Networks whose validation skill is all in the first half (as early stopping on a period flatters
    them) rank first by log loss there; the rule picked on the first half and scored on the second keeps
    the boosters, whose skill holds."""
    rng, t, y = _periods()
    n, half = len(y), t < t[len(t) // 2]
    members = {b: _signal(rng, y, 0.06, n) for b in ("xgboost", "lightgbm", "catboost")}
    for i in range(6):  # strong in the first half, noise in the second
        members[f"net{i}"] = np.where(half, _signal(rng, y, 0.3, n), rng.uniform(0.4, 0.6, n))
    rule, scores = choose_rule(members, y, t, 2 * HOUR)
    by_rule = {s.rule: s for s in scores}
    assert rule == "boosters" and set(by_rule) == {"all", "boosters", "top5", "top3", "best"}
    assert all(m.startswith("net") for m in by_rule["top5"].members)
    assert by_rule["boosters"].auc > by_rule["top5"].auc + 0.02
    ens = HorizonEnsembles.fit({k: v[:, None] for k, v in members.items()}, y[:, None], (1,), t, HOUR)
    chosen = ens.for_horizon(1)
    assert chosen.rule == "boosters" and chosen.top_k == 3
    assert set(chosen.ranking_[:3]) == {"xgboost", "lightgbm", "catboost"}
    assert sorted(w for w in chosen.weights_.values() if w) == [1 / 3] * 3
    again = Ensemble.from_dict(chosen.to_dict())
    assert again.rule == "boosters" and again.ranking_ == chosen.ranking_ and again.top_k == 3
    assert [s["rule"] for s in again.selection_] == [s.rule for s in scores]


def test_a_consistent_top_member_is_kept_when_it_holds():
    rng, t, y = _periods(seed=1)
    n = len(y)
    members = {"xgboost": _signal(rng, y, 0.02, n), "gru_standard": _signal(rng, y, 0.4, n)}
    members.update({f"weak{i}": rng.uniform(0.4, 0.6, n) for i in range(5)})
    rule, _ = choose_rule(members, y, t, HOUR)
    assert rule in ("best", "top3") and rule_ranking(rule, ["gru_standard", "xgboost"])[0][0] == "gru_standard"


def test_too_few_rows_or_no_times_keep_the_default_rule():
    rng, t, y = _periods(n_times=10, n_coins=2)
    members = {"a": rng.random(len(y)), "b": rng.random(len(y))}
    assert choose_rule(members, y, t, HOUR)[0] == DEFAULT_RULE
    ens = Ensemble().fit(members, y)  # no times: the top-k rule as before
    assert ens.rule == DEFAULT_RULE and ens.top_k == 5 and ens.selection_ == []


def test_a_manifest_from_before_rules_serves_as_it_did():
    old = {"method": "weighted_average", "top_k": 5, "ranking": ["a", "b", "c"],
           "validation_log_loss": {"a": 0.68, "b": 0.69, "c": 0.7}}
    ens = Ensemble.from_dict(old)
    assert ens.rule == DEFAULT_RULE and ens.weights_ == {"a": 1 / 3, "b": 1 / 3, "c": 1 / 3}
    p = {k: np.array([v]) for k, v in {"a": 0.6, "b": 0.5, "c": 0.4}.items()}
    assert ens.combine(p)["probability_up"][0] == np.mean([0.6, 0.5, 0.4])
