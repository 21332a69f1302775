"""What a timeframe's data can train, and why a model was left out: written beside the models so
``/models/<id>/status`` says why a model has no version there instead of a bare "not trained"."""

from __future__ import annotations

import json
import logging
from pathlib import Path

from ..common.files import write_atomic_text
from ..models.artifacts import UNTRAINED_FILE, read_untrained
from ..models.registry import MODEL_SPECS
from .profiles import Profile
from .split import Split

log = logging.getLogger(__name__)


def members_the_data_supports(members: list[str], split: Split, prof: Profile,
                              timeframe: str) -> tuple[list[str], dict[str, str]]:
    """The members to train and, for each one left out, why: networks need ``prof.min_network_windows``
    training windows (1w has a few hundred weeks per coin); the boosters train on whatever there is."""
    n_train = len(split.train.ends)
    if n_train >= prof.min_network_windows:
        return members, {}
    reason = (f"too little history on {timeframe} for the networks: {n_train:,} training windows, they need "
              f"{prof.min_network_windows:,} ({prof.name} profile); the boosters serve {timeframe}")
    skipped = {m: reason for m in members if MODEL_SPECS[m].kind == "neural"}
    if skipped:
        log.warning("%s: %s", ", ".join(skipped), reason)
    return [m for m in members if m not in skipped], skipped


def record_untrained(models_dir: Path, timeframe: str, trained: list[str], skipped: dict[str, str]) -> None:
    """Earlier runs' reasons, less the models this run trains, plus the ones it leaves out."""
    path = Path(models_dir) / timeframe / UNTRAINED_FILE
    earlier = read_untrained(Path(models_dir), timeframe)
    reasons = {**{m: why for m, why in earlier.items() if m not in trained}, **skipped}
    if reasons == earlier:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic_text(path, json.dumps(reasons, indent=1, sort_keys=True))
