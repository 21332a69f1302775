"""The replay's no-skew check: for every model version that served during the replay, the ledger's live
AUC on the forecasts it served against what ``evaluate.py`` computes with that version on the same
candles (the same symbols and hours, the labels from the candle folder).

Each ensemble version is evaluated with the member versions it was fitted on (its manifest), in a
folder of copies that serves exactly those versions; a single model's version that no ensemble version
covers is evaluated on its own."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import sqlalchemy as sa

from coinpredict.common.metrics import fast_auc, log_loss
from coinpredict.common.times import iso
from coinpredict.config import REPO_ROOT as REPO
from coinpredict.models.base import MANIFEST, read_manifest

ENSEMBLE = "ensemble"
HOUR_MS = 3_600_000


def ledger_rows(database_url: str) -> pd.DataFrame:
    """Scored 1h, horizon-1 forecasts with a known outcome."""
    engine = sa.create_engine(database_url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            return pd.read_sql_query(sa.text(
                "SELECT model, model_version, symbol, as_of, probability_up, outcome_up FROM predictions "
                "WHERE timeframe = '1h' AND horizon = 1 AND outcome_up IS NOT NULL"), conn)
    finally:
        engine.dispose()


def version_folder(models_dir: Path, model: str, version: str) -> Path:
    """The folder of ``model``'s version (folder names spell the version's time without colons)."""
    for folder in (models_dir / "1h" / model).iterdir():
        if (folder / MANIFEST).is_file() and read_manifest(folder).version == version:
            return folder
    raise FileNotFoundError(f"no version {version} of {model}")


def views(live: pd.DataFrame) -> list[tuple[dict[str, str], set]]:
    """({model: version}, ensemble keys) to evaluate together: every ensemble answer with the member
    versions the ledger recorded beside it (same symbol and candle; a candle where a member served two
    versions is left out, it cannot be told which one the ensemble read), then single versions none covers."""
    ensemble, singles = live[live.model == ENSEMBLE], live[live.model != ENSEMBLE]
    versions = singles.groupby(["symbol", "as_of", "model"]).model_version.agg(lambda v: sorted(set(v)))
    members: dict[tuple, dict[str, str]] = {}
    ambiguous = set()
    for (symbol, as_of, model), found in versions.items():
        if len(found) == 1:
            members.setdefault((symbol, as_of), {})[model] = found[0]
        else:
            ambiguous.add((symbol, as_of))
    grouped: dict[frozenset, set] = {}
    for symbol, as_of, version in zip(ensemble.symbol, ensemble.as_of, ensemble.model_version):
        if (symbol, as_of) in ambiguous:
            continue
        view = frozenset({**members.get((symbol, as_of), {}), ENSEMBLE: version}.items())
        grouped.setdefault(view, set()).add((symbol, as_of))
    out = [(dict(view), keys) for view, keys in sorted(grouped.items(), key=lambda kv: -len(kv[1]))]
    covered = {pair for view, _ in out for pair in view.items()}
    out += [({m: v}, set()) for m, v in sorted(set(zip(singles.model, singles.model_version)) - covered)]
    return out


def models_folder(models_dir: Path, view: dict[str, str], root: Path) -> Path:
    """A MODELS_DIR holding copies of exactly the versions of ``view``, each current."""
    for model, version in view.items():
        source = version_folder(models_dir, model, version)
        target = root / "1h" / model
        shutil.copytree(source, target / source.name)
        (target / "CURRENT").write_text(source.name)
    return root


def evaluate_view(models_dir: Path, view: dict[str, str], data_dir: Path, symbols: list[str], start_ms: int,
                  end_ms: int) -> pd.DataFrame:
    """``evaluate.py``'s probabilities (and labels) with the versions of ``view`` on [start, end)."""
    with tempfile.TemporaryDirectory(prefix="replay-eval-") as tmp:
        folder = models_folder(models_dir, view, Path(tmp) / "models")
        out = Path(tmp) / "out"
        subprocess.run([sys.executable, str(REPO / "scripts" / "evaluate.py"), "--data-dir", str(data_dir),
                        "--timeframe", "1h", "--start", iso(start_ms), "--end", iso(end_ms), "--out", str(out),
                        "--models-dir", str(folder), "--models", ",".join(view), "--symbols", ",".join(symbols),
                        "--audit-samples", "0", "--predictions"], check=True, stdout=subprocess.DEVNULL)
        return pd.read_csv(out / "predictions.csv")


def agreement(database_url: str, models_dir: Path, data_dir: Path, symbols: list[str], start_ms: int,
              end_ms: int) -> list[dict]:
    live = ledger_rows(database_url)
    live = live[(live.as_of >= start_ms) & (live.as_of < end_ms)]
    results, done = [], set()
    for k, (view, ensemble_keys) in enumerate(views(live)):
        wanted = {}
        for model, version in view.items():
            if model != ENSEMBLE and (model, version) in done:
                continue
            rows = live[(live.model == model) & (live.model_version == version)]
            if model == ENSEMBLE:
                rows = rows[[key in ensemble_keys for key in zip(rows.symbol, rows.as_of)]]
            if not rows.empty:
                wanted[(model, version)] = rows
        if not wanted:
            continue
        lo = min(int(r.as_of.min()) for r in wanted.values())
        hi = max(int(r.as_of.max()) for r in wanted.values())
        offline = evaluate_view(models_dir, view, data_dir, symbols, lo, hi + HOUR_MS)
        for (model, version), rows in wanted.items():
            results.append({**_compare(model, version, rows, offline), "view": k})
            done.add((model, version))
    return results


def _compare(model: str, version: str, rows: pd.DataFrame, offline: pd.DataFrame) -> dict:
    joined = rows.merge(offline[["symbol", "as_of", "outcome_up", model]], on=["symbol", "as_of"], how="left",
                        suffixes=("", "_eval"))
    found = joined[model].notna()
    j = joined[found]
    y_live, p_live = j.outcome_up.astype(float).to_numpy(), j.probability_up.to_numpy()
    y_eval, p_eval = j.outcome_up_eval.astype(float).to_numpy(), j[model].to_numpy()
    auc_live, auc_eval = fast_auc(y_live, p_live), fast_auc(y_eval, p_eval)
    return {"model": model, "version": version, "n": int(len(rows)), "n_matched": int(found.sum()),
            "auc_live": float(auc_live), "auc_eval": float(auc_eval), "auc_diff": float(auc_live - auc_eval),
            "max_prob_diff": float(np.max(np.abs(p_live - p_eval))) if len(j) else None,
            "label_mismatches": int((y_live != y_eval).sum()), "log_loss_live": log_loss(y_live, p_live),
            "accuracy_live": float(np.mean((p_live > 0.5) == (y_live == 1)))}


def print_agreement(results: list[dict], live: dict) -> None:
    print(f"\n{'model':<22}{'version':<32}{'n':>7}{'live AUC':>10}{'eval AUC':>10}{'diff':>10}{'max |dp|':>10}"
          f"{'labels':>7}  service live (n, AUC, drift)")
    for r in sorted(results, key=lambda r: (r["model"], r["version"], r["view"])):
        status = live.get(r["model"]) or {}
        service = f"{status.get('n_scored')}, {status.get('auc') or float('nan'):.4f}, {status.get('drift')}"
        version = r["version"] + (f" v{r['view']}" if r["model"] == ENSEMBLE else "")
        print(f"{r['model']:<22}{version:<32}{r['n']:>7}{r['auc_live']:>10.5f}{r['auc_eval']:>10.5f}"
              f"{r['auc_diff']:>10.1e}{r['max_prob_diff']:>10.1e}{r['label_mismatches']:>7}  {service}")
