"""A run's shared data, prepared once: the split (pooled features scaled by the scaler fitted on its
training rows, the train and validation ends, the gate's unscaled recent rows), the manifest fields
every version of the run shares, and which models it trains.

A job fanned out over several workers (``jobs.fanout``) builds it once and saves it beside its versions
(``save``/``load``: plain arrays and JSON, no pickle), so every member task trains on the very same rows
and scaler, and none spends the feature computation again (``docs/training.md`` has the measurement)."""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..common.files import write_folder_atomically
from ..data.timeframes import default_horizons
from ..features.datasets import PooledData, Scaler
from ..features.pipeline import FeatureSet
from ..models.base import DataView
from ..models.manifest import Manifest
from ..models.registry import ENSEMBLE_ID, MODEL_IDS, MOVE_ID
from .gate import RawRecent
from .profiles import PROFILES, Profile
from .promotion import PROMOTE_POLICIES, Report
from .split import Split, load_split
from .untrained import members_the_data_supports, record_untrained

log = logging.getLogger(__name__)
ARRAYS = "arrays.npz"
META = "prepared.json"
_DATA_ARRAYS = ("features", "t", "close", "labels", "symbol_index", "can_end", "high", "low", "outperform")


@dataclass
class Prepared:
    """Everything a member, the ensemble and the move model of one run train from."""

    split: Split
    common: Manifest
    timeframe: str
    profile: str
    seed: int
    promote: str
    ids: list[str]  # what the run was asked to train (members, the ensemble, the move model)
    members: list[str]  # the members the data supports, in training order
    skipped: dict[str, str] = field(default_factory=dict)
    started: float = field(default_factory=time.time)

    @property
    def prof(self) -> Profile:
        return PROFILES[self.profile].for_timeframe(self.timeframe)

    @property
    def horizons(self) -> tuple[int, ...]:
        return tuple(self.split.data.horizons)

    @property
    def tasks(self) -> list[str]:
        """The independent pieces of work: each member, then the move model when the run has it."""
        return [*self.members, *([MOVE_ID] if MOVE_ID in self.ids else [])]

    def save(self, folder: Path) -> Path:
        """Written whole into ``folder`` (created; replaced if it exists) or not at all."""
        folder.parent.mkdir(parents=True, exist_ok=True)
        data, split = self.split.data, self.split

        def write(tmp: Path) -> str:
            arrays = {k: getattr(data, k) for k in _DATA_ARRAYS if getattr(data, k) is not None}
            arrays.update(train_ends=split.train.ends, valid_ends=split.valid.ends)
            if split.raw is not None:
                arrays.update(raw_rows=split.raw.rows, raw_features=split.raw.features)
            np.savez(tmp / ARRAYS, **arrays)
            meta = {"feature_names": list(data.feature_set.names), "window": data.window, "symbols": data.symbols,
                    "horizons": list(data.horizons), "scaler": data.scaler.to_dict() if data.scaler else None,
                    "data_meta": data.meta, "ranges": split.ranges, "step_ms": split.step_ms,
                    "common": self.common.to_dict(), "timeframe": self.timeframe, "profile": self.profile,
                    "seed": self.seed, "promote": self.promote, "ids": self.ids, "members": self.members,
                    "skipped": self.skipped, "started": self.started}
            (tmp / META).write_text(json.dumps(meta, default=float))
            return folder.name

        return write_folder_atomically(folder.parent, write)

    @classmethod
    def load(cls, folder: Path) -> Prepared:
        meta = json.loads((folder / META).read_text())
        with np.load(folder / ARRAYS, allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
        data = PooledData(FeatureSet(tuple(meta["feature_names"])), meta["window"], arrays["features"], arrays["t"],
                          arrays["close"], arrays["labels"], arrays["symbol_index"], list(meta["symbols"]),
                          arrays["can_end"], tuple(meta["horizons"]),
                          Scaler.from_dict(meta["scaler"]) if meta["scaler"] else None, meta["data_meta"],
                          arrays.get("high"), arrays.get("low"), arrays.get("outperform"))
        raw = RawRecent(arrays["raw_rows"], arrays["raw_features"]) if "raw_rows" in arrays else None
        split = Split(data, DataView(data, arrays["train_ends"]), DataView(data, arrays["valid_ends"]),
                      meta["ranges"], raw, meta["step_ms"])
        return cls(split, Manifest.from_dict(meta["common"]), meta["timeframe"], meta["profile"], meta["seed"],
                   meta["promote"], list(meta["ids"]), list(meta["members"]), dict(meta["skipped"]), meta["started"])


def prepare(*, data_dir: Path, timeframe: str, end: str, models_dir: Path, profile: str = "default",
            model_ids: list[str] | None = None, start: str | None = None, horizons: tuple[int, ...] | None = None,
            symbols: list[str] | None = None, seed: int = 0, shuffle_labels: bool = False, promote: str = "always",
            report: Report, tags: dict | None = None) -> Prepared:
    """Load the candles, split them by time, and decide which members the data supports (recording the
    ones it does not in the timeframe's folder)."""
    if promote not in PROMOTE_POLICIES:
        raise ValueError(f"promote is one of {', '.join(PROMOTE_POLICIES)}")
    started = time.time()
    prof = PROFILES[profile].for_timeframe(timeframe)
    horizons = tuple(horizons or default_horizons(timeframe))
    ids = model_ids or [*MODEL_IDS, ENSEMBLE_ID, MOVE_ID]
    report(0.0, "loading candles")
    split = load_split(data_dir, timeframe, prof, horizons, start, end, symbols, keep_raw=promote == "if_better",
                       report=report)
    if shuffle_labels:
        rng = np.random.default_rng(seed)
        for view in (split.train, split.valid):  # one order for both targets: a row keeps its pair of labels
            order = rng.permutation(len(view.ends))
            split.data.labels[view.ends] = split.data.labels[view.ends][order]
            if split.data.outperform is not None:
                split.data.outperform[view.ends] = split.data.outperform[view.ends][order]
    log.info("data ready in %.1fs: %s", time.time() - started, split.ranges)
    common = Manifest(
        feature_names=list(split.data.feature_set.names), feature_hash=split.data.feature_set.hash,
        window=prof.window, horizon=horizons[0], horizons=list(horizons), targets=list(split.data.targets),
        scaler=split.data.scaler.to_dict(),
        training={**split.ranges, "symbols": split.data.symbols, "profile": profile, "seed": seed,
                  "data_dir": str(data_dir), "shuffled_labels": shuffle_labels, **(tags or {})})
    members, skipped = members_the_data_supports([i for i in ids if i not in (ENSEMBLE_ID, MOVE_ID)], split, prof,
                                                 timeframe)
    record_untrained(models_dir, timeframe, members, skipped)
    return Prepared(split, common, timeframe, profile, seed, promote, list(ids), members, skipped, started)
