"""Training profiles: how long and on how much each family trains (smoke, default, full)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from ..data.timeframes import TIMEFRAME_MS
from ..models.options import TrainConfig


@dataclass(frozen=True)
class Profile:
    name: str
    train: TrainConfig
    window: int = 48
    boost_rounds: int = 600
    boost_rows: int = 400_000
    valid_days: float = 120.0
    refit_boosters: bool = True  # after early stopping, train again on train + validation rows
    max_symbols: int | None = None
    train_start: str | None = None
    # Networks train only on at least this many training windows; below it a timeframe's run trains the
    # boosters alone and says why (1w: about 800 windows once the 200-candle feature warm-up is spent).
    min_network_windows: int = 20_000
    extra: dict = field(default_factory=dict)

    def fit_options(self, seed: int) -> dict:
        """The options every family's ``fit`` takes (``models.options.FitOptions``)."""
        return {"seed": seed, "config": self.train, "max_rows": self.boost_rows, "rounds": self.boost_rounds}

    def for_timeframe(self, timeframe: str) -> Profile:
        """Networks see fewer windows per epoch above 1h, as the candle length to the power 0.75
        (4h: about a third, 1d: a tenth): those timeframes have 4 and 24 times fewer distinct windows, and
        a network's cost is per window seen, so every default timeframe fits the profile's time budget."""
        shrink = min(1.0, (TIMEFRAME_MS["1h"] / TIMEFRAME_MS[timeframe]) ** 0.75)
        samples = max(self.train.batch_size, int(self.train.samples_per_epoch * shrink))
        return replace(self, train=replace(self.train, samples_per_epoch=samples))


PROFILES = {
    "smoke": Profile("smoke", TrainConfig(epochs=2, samples_per_epoch=1024, batch_size=256, max_valid=1024,
                                          patience=2, progress=False), window=16, boost_rounds=20,
                     boost_rows=5_000, valid_days=20.0, min_network_windows=500),
    # Sized for 1h, 4h and 1d (every model, every default horizon) in 15 minutes on 2 cores: with twice
    # the windows per epoch and 600k booster rows, 1h alone took 18 minutes (1h validation AUC at
    # horizon 1: boosters 0.563, networks 0.511-0.553); with 200k rows the boosters scored the same
    # (XGBoost 0.5641 vs 0.5639) and all three timeframes took about 17 minutes.
    "default": Profile("default", TrainConfig(epochs=5, samples_per_epoch=12_288, batch_size=512, max_valid=16_384,
                                              patience=2), window=32, boost_rounds=500, boost_rows=150_000),
    "full": Profile("full", TrainConfig(epochs=20, samples_per_epoch=200_000, batch_size=512, max_valid=100_000,
                                        patience=4), window=48, boost_rounds=3000, boost_rows=2_000_000),
}
