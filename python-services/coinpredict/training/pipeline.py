"""The training pipeline behind ``scripts/train.py``: load candles, build pooled features, split by
time with an embargo, fit the scaler on training rows, train, calibrate, save; then the ensemble.
Every model of a timeframe predicts all of its horizons (one label column each)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from ..common.metrics import classification_metrics, clustered_auc_ci, skill
from ..common.times import iso, to_ms
from ..data.candles import Candles
from ..data.sources.csvdir import load_folder
from ..data.timeframes import TIMEFRAME_MS, default_horizons
from ..errors import ArtifactError, ServiceError
from ..features.context import load_anchors
from ..features.datasets import PooledData, build_pooled
from ..features.default import default_feature_set
from ..models.artifacts import load_manifest, load_validation_probs
from ..models.base import DataView
from ..models.ensemble import HorizonEnsembles
from ..models.options import TrainConfig
from ..models.registry import ENSEMBLE_ID, MODEL_IDS, create_model
from .artifacts import save_model, save_version
from .gate import RawRecent, decide
from .versions import promote as promote_version

log = logging.getLogger(__name__)


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
                     boost_rows=5_000, valid_days=20.0),
    # Sized for 1h, 4h and 1d (every model, every default horizon) in 15 minutes on 2 cores: with twice
    # the windows per epoch and 600k booster rows, 1h alone took 18 minutes (1h validation AUC at
    # horizon 1: boosters 0.563, networks 0.511-0.553); with 200k rows the boosters scored the same
    # (XGBoost 0.5641 vs 0.5639) and all three timeframes took about 17 minutes.
    "default": Profile("default", TrainConfig(epochs=5, samples_per_epoch=12_288, batch_size=512, max_valid=16_384,
                                              patience=2), window=32, boost_rounds=500, boost_rows=150_000),
    "full": Profile("full", TrainConfig(epochs=20, samples_per_epoch=200_000, batch_size=512, max_valid=100_000,
                                        patience=4), window=48, boost_rounds=3000, boost_rows=2_000_000),
}


@dataclass
class Split:
    data: PooledData
    train: DataView
    valid: DataView
    ranges: dict
    raw: RawRecent | None = None  # unscaled recent rows, for the promotion gate
    step_ms: int = TIMEFRAME_MS["1h"]  # one candle of the timeframe

    def valid_clusters(self, horizon: int) -> np.ndarray:
        """Validation rows whose labels move together: every coin's candle of one period, and the
        ``horizon`` consecutive candles an overlapping label spans."""
        return self.data.t[self.valid.ends] // (horizon * self.step_ms)


def make_split(series: list[Candles], timeframe: str, profile: Profile, horizons: tuple[int, ...],
               end_ms: int, anchors: dict[str, Candles] | None = None, *, keep_raw: bool = False) -> Split:
    """Train and validation by time. Both need every horizon's label; the embargo between them is a
    window plus the longest horizon, so no training label reaches a validation candle."""
    fs = default_feature_set(timeframe)
    data = build_pooled(series, fs, window=profile.window, horizons=horizons, anchors=anchors)
    step = TIMEFRAME_MS[timeframe]
    horizon = max(horizons)
    horizon_ms = horizon * step
    valid_len = max(int(profile.valid_days * 86_400_000), 400 * step)
    valid_start = end_ms - valid_len
    embargo = (profile.window + horizon) * step
    train_start = to_ms(profile.train_start)
    train_ends = data.select(train_start, valid_start - embargo, label_before_ms=valid_start - embargo + step,
                             horizon_ms=horizon_ms)
    valid_ends = data.select(valid_start, end_ms, label_before_ms=end_ms, horizon_ms=horizon_ms)
    if len(train_ends) < 100 or len(valid_ends) < 50:
        raise ValueError(f"not enough labelled candles to train ({len(train_ends)} train, {len(valid_ends)} valid)")
    raw = RawRecent.keep(data, valid_start) if keep_raw else None
    data.scale(data.fit_scaler(train_ends))
    ranges = {"train": [iso(int(data.t[train_ends].min())), iso(int(data.t[train_ends].max()))],
              "valid": [iso(int(data.t[valid_ends].min())), iso(int(data.t[valid_ends].max()))],
              "embargo_candles": profile.window + horizon, "end_exclusive": iso(end_ms),
              "n_train": int(len(train_ends)), "n_valid": int(len(valid_ends))}
    return Split(data, DataView(data, train_ends), DataView(data, valid_ends), ranges, raw, step)


PROMOTE_POLICIES = ("always", "if_better", "never")


class RunCancelled(Exception):
    """Raised by a ``report`` callback to stop a run; honoured until the run starts promoting (from
    then on the run completes, so what it reports is what is served)."""
Report = Callable[[float, str], None]  # (fraction done, stage); a job's reporter raises to cancel the run


def _quiet(_fraction: float, _stage: str) -> None:
    pass


def train_models(*, data_dir: Path, timeframe: str, end: str, models_dir: Path, profile: str = "default",
                 model_ids: list[str] | None = None, start: str | None = None,
                 horizons: tuple[int, ...] | None = None, symbols: list[str] | None = None, seed: int = 0,
                 shuffle_labels: bool = False, promote: str = "always", report: Report | None = None,
                 tags: dict | None = None) -> dict:
    """Train ``model_ids`` (default: all 19 and the ensemble). ``shuffle_labels`` trains a placebo:
    labels permuted within train and validation, so any skill it shows in evaluation is a leak.
    ``horizons``: candles ahead to predict (default: the timeframe's, ``data.timeframes``).

    Every version is written first and served only at the end (``promote``: ``always``; ``if_better``,
    through ``gate``; ``never``), so a run stopped half way never changes what is served. ``tags`` go
    into each manifest's ``training`` (a job's id)."""
    if promote not in PROMOTE_POLICIES:
        raise ValueError(f"promote is one of {', '.join(PROMOTE_POLICIES)}")
    report = report or _quiet
    prof = PROFILES[profile].for_timeframe(timeframe)
    horizons = tuple(horizons or default_horizons(timeframe))
    import torch  # here: the web process imports this module (the job queue's tasks) and serves without torch

    torch.set_num_threads(max(1, min(torch.get_num_threads(), 2)))
    ids = model_ids or [*MODEL_IDS, ENSEMBLE_ID]
    t0 = time.time()
    report(0.0, "loading candles")
    split = _prepare(data_dir, timeframe, prof, horizons, start, end, symbols, keep_raw=promote == "if_better",
                     report=report)
    if shuffle_labels:
        rng = np.random.default_rng(seed)
        for view in (split.train, split.valid):
            split.data.labels[view.ends] = rng.permutation(split.data.labels[view.ends])
    log.info("data ready in %.1fs: %s", time.time() - t0, split.ranges)
    common = {
        "feature_names": list(split.data.feature_set.names), "feature_hash": split.data.feature_set.hash,
        "window": prof.window, "horizon": horizons[0], "horizons": list(horizons),
        "scaler": split.data.scaler.to_dict(),
        "training": {**split.ranges, "symbols": split.data.symbols, "profile": profile, "seed": seed,
                     "data_dir": str(data_dir), "shuffled_labels": shuffle_labels, **(tags or {})},
    }
    results: dict[str, dict] = {}
    candidates: dict[str, tuple[np.ndarray, dict]] = {}
    members = [i for i in ids if i != ENSEMBLE_ID]
    for k, model_id in enumerate(members):
        def progress(done: float, stage: str, k=k) -> None:
            report(0.1 + 0.85 * (k + done) / len(members), stage)

        results[model_id], candidates[model_id] = _train_one(model_id, split, prof, seed, common, models_dir,
                                                             timeframe, progress)
    report(0.95, "deciding what to serve")  # the last point where a cancel stops the run
    report = _committing(report)
    kept: dict[str, tuple[np.ndarray, str]] = {}  # served versions scored on this run's validation rows
    served = _promote_members(candidates, results, promote, split, models_dir, timeframe, kept)
    if ENSEMBLE_ID in ids and promote == "if_better" and members and not served:
        # Every member kept its served version: the serving ensemble combines exactly what it was fitted on.
        log.info("ensemble: no member changed, the serving ensemble stays")
    elif ENSEMBLE_ID in ids:
        report(0.97, "fitting the ensemble")
        chosen = served if promote == "if_better" else list(candidates)
        probs = {m: candidates[m][0] for m in chosen}
        versions = {m: candidates[m][1]["version"] for m in chosen}
        for m, (p, version) in kept.items():  # members the gate kept: their served version, out of sample
            if m not in probs:
                probs[m], versions[m] = p, version
        results[ENSEMBLE_ID] = train_ensemble(split, probs, models_dir, timeframe, common, versions)
        gate = _ensemble_gate(promote, bool(served) or not members, results[ENSEMBLE_ID], models_dir, timeframe)
        _apply(results[ENSEMBLE_ID], gate, models_dir, timeframe, ENSEMBLE_ID, force=promote == "always")
    results["_meta"] = {"seconds": time.time() - t0, "horizons": list(horizons), **split.ranges}
    return results


def _ensemble_gate(promote: str, changed: bool, result: dict, models_dir: Path, timeframe: str) -> dict:
    """The ensemble follows its members; under ``if_better`` it is not served when it would leave out
    members the serving ensemble uses (trained on another split, their validation predictions do not line
    up with this run's): a smaller ensemble is not what was asked for."""
    gate = {"promote": promote == "always" or (promote == "if_better" and changed), "basis": "follows its members",
            "reason": "its members changed" if changed else "no member changed"}
    if promote == "if_better" and changed:
        try:
            _, manifest = load_manifest(models_dir, timeframe, ENSEMBLE_ID)
            ens = HorizonEnsembles.from_manifest(manifest)
            used = {m for h in ens.horizons for m in ens.members(h)}
        except (FileNotFoundError, ArtifactError, KeyError, ValueError):
            used = set()
        left_out = sorted(used - set(result["members"]))
        if left_out:
            gate.update(promote=False, reason=f"it would leave out {', '.join(left_out)}, which the serving "
                                              f"ensemble uses (trained on another split): train them with it")
    return gate


def _committing(report: Report) -> Report:
    """The report callback once promotions have begun: progress still goes out, a cancel no longer stops."""
    def still(fraction: float, stage: str) -> None:
        try:
            report(fraction, stage)
        except RunCancelled:
            log.warning("cancel asked while promoting: the run completes so its result says what is served")
    return still


def _prepare(data_dir: Path, timeframe: str, prof: Profile, horizons: tuple[int, ...], start: str | None,
             end: str, symbols: list[str] | None, *, keep_raw: bool, report: Report) -> Split:
    end_ms = to_ms(end)
    series = load_folder(Path(data_dir), timeframe, symbols, to_ms(start), end_ms)
    anchors = load_anchors(Path(data_dir), timeframe, default_feature_set(timeframe).anchors, series,
                           to_ms(start), end_ms)
    if prof.max_symbols:
        series = series[: prof.max_symbols]
    if not series:
        raise ValueError(f"no candles for {timeframe} in {data_dir}")
    report(0.03, f"computing features for {len(series)} symbols")
    return make_split(series, timeframe, prof, horizons, end_ms, anchors, keep_raw=keep_raw)


def _train_one(model_id: str, split: Split, prof: Profile, seed: int, common: dict, models_dir: Path,
               timeframe: str, progress: Callable[[float, str], None]) -> tuple[dict, tuple[np.ndarray, dict]]:
    """Fit, calibrate, validate, refit (boosters) and save one model as an unserved version."""
    started = time.time()
    progress(0.0, f"training {model_id}")
    model = create_model(model_id)
    options = prof.fit_options(seed)
    epochs_planned = options["config"].epochs

    def on_epoch(row: dict) -> None:
        progress(min(row["epoch"] / epochs_planned, 0.95),
                 f"training {model_id}: epoch {row['epoch']}, validation AUC {row['valid_auc']:.4f}")

    options["config"] = replace(options["config"], on_epoch=on_epoch)
    model.fit(split.train, split.valid, **options)
    model.calibrate(split.valid)
    x_valid = split.valid.inputs(model.input_kind)
    p = model.predict_proba(x_valid)
    metrics, by_horizon = validation_metrics(split, p)
    epochs = len(model.history_)
    refit = model.input_kind == "table" and prof.refit_boosters
    if refit:
        progress(0.95, f"refitting {model_id} on training and validation candles")
        model.refit(split.train, split.valid, **options)
    seconds = time.time() - started
    manifest = {**common, "metrics": {"validation": metrics, "validation_by_horizon": by_horizon},
                "history": model.history_,
                "training": {**common["training"], "seconds": round(seconds, 1), "epochs": epochs,
                             "refit_on_train_and_validation": refit}}
    version = save_model(model, models_dir, timeframe, manifest, validation_probs=p, promote=False,
                         validation_inputs=None if refit else x_valid)  # a refit predicts other probabilities
    log.info("%s trained in %.1fs: valid AUC %.4f", model_id, seconds, metrics["auc"])
    return ({"version": version, "seconds": seconds, "valid_auc": metrics["auc"],
             "valid_log_loss": metrics["log_loss"], "skill": metrics["skill"],
             "valid_auc_by_horizon": {h: m["auc"] for h, m in by_horizon.items()}, "epochs": epochs,
             "n_parameters": model.n_parameters()}, (p, {**manifest, "version": version}))


def _promote_members(candidates: dict[str, tuple[np.ndarray, dict]], results: dict, promote: str, split: Split,
                     models_dir: Path, timeframe: str, kept: dict) -> list[str]:
    """Apply the policy to every trained member; returns the ids now serving this run's version."""
    served = []
    for model_id, (probs, manifest) in candidates.items():
        if promote == "if_better":
            gate = decide(model_id, models_dir=models_dir, timeframe=timeframe, valid=split.valid,
                          candidate_probs=probs, candidate_manifest=manifest, raw=split.raw, serving_out=kept)
        else:
            gate = {"promote": promote == "always", "basis": f"promote: {promote}"}
        if _apply(results[model_id], gate, models_dir, timeframe, model_id, force=promote == "always"):
            served.append(model_id)
    return served


def _apply(result: dict, gate: dict, models_dir: Path, timeframe: str, model_id: str, *, force: bool) -> bool:
    """Serve the new version when the gate says so; ``versions.promote`` loads it back first, so a
    version damaged on its way to disk is refused and the serving one stays, and (unless ``force``: a run
    told to promote always, e.g. one switching a timeframe to other horizons) refuses one the serving
    cannot use (``compatibility``: other horizons than the timeframe serves)."""
    promoted = bool(gate.pop("promote"))
    if promoted:
        try:
            promote_version(models_dir, timeframe, model_id, result["version"], force=force)
        except ServiceError as exc:
            promoted, gate["refused"] = False, exc.message
            log.error("%s: new version %s refused: %s", model_id, result["version"], exc.message)
    result.update(promoted=promoted, gate=gate)
    return promoted


def validation_metrics(split: Split, p: np.ndarray) -> tuple[dict, dict]:
    """Metrics of the first horizon (what ``metrics.validation`` has always held) and of each horizon,
    with a 95% AUC interval that counts correlated forecasts once per cluster."""
    y, horizons = split.valid.labels, split.data.horizons
    by_horizon = {}
    for j, h in enumerate(horizons):
        m = classification_metrics(y[:, j], p[:, j])
        m["auc_ci95"] = list(clustered_auc_ci(y[:, j], p[:, j], split.valid_clusters(h)))
        m["skill"] = skill(m["auc_ci95"])
        by_horizon[str(h)] = m
    return by_horizon[str(horizons[0])], by_horizon


def train_ensemble(split: Split, valid_probs: dict[str, np.ndarray], models_dir: Path, timeframe: str,
                   common: dict, versions: dict[str, str] | None = None) -> dict:
    """Weights from validation predictions only; members not trained in this run contribute the
    validation predictions stored with their served version (a refit booster would be in-sample there
    now). ``versions``: this run's members' versions; the manifest names every member's version."""
    versions = dict(versions or {})
    for model_id in MODEL_IDS:
        if model_id in valid_probs:
            continue
        try:
            probs, manifest = load_validation_probs(models_dir, timeframe, model_id)
        except (FileNotFoundError, ArtifactError) as exc:
            log.warning("ensemble: %s unavailable (%s)", model_id, exc)
            continue
        probs = probs.reshape(len(probs), -1)
        if manifest["feature_hash"] != common["feature_hash"] or manifest["window"] != common["window"] or \
                manifest["scaler"] != common["scaler"] or probs.shape != (len(split.valid), len(split.data.horizons)):
            log.warning("ensemble: %s was trained on other data; leaving it out", model_id)
            continue
        valid_probs[model_id] = probs
        versions[model_id] = manifest.get("version")
    if not valid_probs:
        raise ValueError(f"no served member of {timeframe} was trained on this split: train members with the ensemble")
    y, horizons = split.valid.labels, split.data.horizons
    ens = HorizonEnsembles.fit(valid_probs, y, horizons)
    combined = np.column_stack([ens.for_horizon(h).combine({i: p[:, j] for i, p in valid_probs.items()})
                                ["probability_up"] for j, h in enumerate(horizons)])
    metrics, by_horizon = validation_metrics(split, combined)
    first = ens.for_horizon(horizons[0])
    manifest = {**common, "family": "ensemble", "params": {"method": first.method, "top_k": first.top_k},
                **ens.to_manifest(), "metrics": {"validation": metrics, "validation_by_horizon": by_horizon},
                "member_versions": {m: versions.get(m) for m in valid_probs}}
    version = save_version(models_dir, timeframe, ENSEMBLE_ID, manifest, promote=False)
    return {"version": version, "seconds": 0.0, "valid_auc": metrics["auc"], "valid_log_loss": metrics["log_loss"],
            "skill": metrics["skill"], "valid_auc_by_horizon": {h: m["auc"] for h, m in by_horizon.items()},
            "epochs": 0, "n_parameters": len(valid_probs), "members": sorted(valid_probs)}


def summary_table(results: dict) -> str:
    """The end-of-training table: one row per model (``_meta`` rows are skipped)."""
    lines = [f"{'model':<24}{'valid AUC':>10}{'log loss':>10}{'skill':>7}{'epochs':>8}{'params':>9}{'secs':>7}"]
    for model_id, r in results.items():
        if model_id.startswith("_"):
            continue
        lines.append(f"{model_id:<24}{r['valid_auc']:>10.4f}{r['valid_log_loss']:>10.4f}{r['skill']:>7}"
                     f"{r['epochs']:>8}{r['n_parameters']:>9}{r['seconds']:>7.0f}")
    return "\n".join(lines)
