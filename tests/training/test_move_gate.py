"""The move model is promoted like the others: ``always`` serves it, ``if_better`` compares log-range
errors on the candles the serving version never saw, or on a shared validation period."""

from __future__ import annotations

from coinpredict.common.times import iso
from coinpredict.models.artifacts import current_dir
from coinpredict.models.registry import MOVE_ID
from coinpredict.training.pipeline import train_models
from tests.conftest import SYNTHETIC_END_MS

DAY = 86_400_000


def test_the_move_model_is_gated_and_promoted_like_the_others(synthetic_dir, tmp_path):
    def run(end_ms, promote, seed):
        return train_models(data_dir=synthetic_dir, timeframe="1h", end=iso(end_ms), models_dir=tmp_path,
                            profile="smoke", model_ids=[MOVE_ID], promote=promote, seed=seed).move

    first = run(SYNTHETIC_END_MS - 30 * DAY, "always", 0)
    assert first.promoted and current_dir(tmp_path, "1h", MOVE_ID).name == first.version.replace(":", "")
    same = run(SYNTHETIC_END_MS - 30 * DAY, "if_better", 1)
    assert same.gate["basis"] == "log-range MSE on the shared validation period"
    assert same.promoted == (same.gate["candidate_mse"] <= same.gate["serving_mse"])
    later = run(SYNTHETIC_END_MS - 15 * DAY, "if_better", 0)
    assert later.gate["basis"].endswith("validation candles the serving version never saw")
    assert later.promoted == (later.gate["candidate_mse"] <= later.gate["serving_mse"])
    served = current_dir(tmp_path, "1h", MOVE_ID).name
    assert served == (later if later.promoted else same if same.promoted else first).version.replace(":", "")
    assert not (tmp_path / "1h" / "lightgbm").exists()  # a move-only run trains nothing else
