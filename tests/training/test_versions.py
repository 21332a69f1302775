"""Versions on disk: listing (newest first, unreadable ones said so), promotion verified before CURRENT
moves, deletion refused for the version served, and the debris of a killed writer swept."""

from __future__ import annotations

import os
import shutil
import time

import pytest

from coinpredict.errors import Conflict, NotFound
from coinpredict.models.artifacts import CURRENT, current_dir, folder_version, version_folder
from coinpredict.training.versions import clean_partial, delete_version, list_versions, promote
from tests.versioning import OLDER, clone_version, corrupt


@pytest.fixture()
def models(trained_dir, tmp_path):
    target = tmp_path / "models"
    shutil.copytree(trained_dir, target)
    return target


def test_version_ids_and_folder_names_map_both_ways():
    assert version_folder(OLDER) == "2025-01-01T000000Z-0a0a0a"
    assert folder_version("2025-01-01T000000Z-0a0a0a") == OLDER
    assert folder_version("hand-made") == "hand-made"


def test_list_promote_roll_back_and_delete(models):
    newest = list_versions(models, "1h", "lightgbm")["serving"]
    clone_version(models, "1h", "lightgbm")
    (models / "1h" / "lightgbm" / "2024-06-01T000000Z-broken").mkdir()  # no manifest
    listing = list_versions(models, "1h", "lightgbm")
    assert [(v["version"], v["status"]) for v in listing["versions"]] == [
        (newest, "serving"), (OLDER, "available"), ("2024-06-01T00:00:00Z-broken", "unreadable")]
    assert listing["versions"][2]["reason"] == "manifest.json: missing"
    first = listing["versions"][0]
    assert set(first["data_range"]) == {"train", "valid", "end_exclusive"} and first["metrics"]["validation"]["auc"]

    assert promote(models, "1h", "lightgbm", OLDER) == OLDER  # a rollback
    assert current_dir(models, "1h", "lightgbm").name == version_folder(OLDER)
    with pytest.raises(Conflict) as served:
        delete_version(models, "1h", "lightgbm", version_folder(OLDER))  # the folder name works too
    assert served.value.status == 409 and served.value.code == "version_serving"
    with pytest.raises(Conflict, match="being served"):
        delete_version(models, "1h", "lightgbm", newest, in_use=frozenset({version_folder(newest)}))
    assert delete_version(models, "1h", "lightgbm", newest) == newest
    assert [v["version"] for v in list_versions(models, "1h", "lightgbm")["versions"]][0] == OLDER
    assert not [p for p in (models / "1h" / "lightgbm").iterdir() if p.name.startswith(".deleted-")]
    with pytest.raises(NotFound) as unknown:
        promote(models, "1h", "lightgbm", newest)
    assert unknown.value.code == "unknown_version"


def test_a_corrupt_version_is_refused_and_current_stays(models):
    before = (models / "1h" / "xgboost" / CURRENT).read_text()
    corrupt(clone_version(models, "1h", "xgboost"))
    with pytest.raises(Conflict) as refused:
        promote(models, "1h", "xgboost", OLDER)
    assert refused.value.code == "version_unusable" and "checksum mismatch" in refused.value.message
    assert "/" not in refused.value.message
    assert (models / "1h" / "xgboost" / CURRENT).read_text() == before


def test_the_ensemble_has_versions_like_any_model(models):
    clone_version(models, "1h", "ensemble")
    assert promote(models, "1h", "ensemble", OLDER) == OLDER
    assert list_versions(models, "1h", "ensemble")["serving"] == OLDER


def test_names_never_reach_outside_the_model_folder(models):
    for model_id, tf, version in [("../1h", "1h", "x"), ("lightgbm", "../..", "x"), ("lightgbm", "1h", "../xgboost"),
                                  ("lightgbm", "1h", ".."), ("lightgbm", "1h", "/etc")]:
        with pytest.raises(NotFound):
            promote(models, tf, model_id, version)
    with pytest.raises(NotFound) as missing:
        list_versions(models, "4h", "lightgbm")
    assert missing.value.code == "not_trained"


def test_clean_partial_sweeps_only_old_debris(models):
    root = models / "1h" / "gru_standard"
    old_tmp, young_tmp, deleted = root / ".tmp-old", root / ".tmp-young", root / ".deleted-x-1"
    for folder in (old_tmp, young_tmp, deleted):
        folder.mkdir()
        (folder / "weights.safetensors").write_bytes(b"half")
    stale_pointer = root / ".CURRENT.abc123"
    stale_pointer.write_text("x")
    past = time.time() - 3600
    for path in (old_tmp, deleted, stale_pointer):
        os.utime(path, (past, past))
    removed = clean_partial(models, older_than_s=600)
    assert sorted(removed) == sorted(str(p.relative_to(models)) for p in (old_tmp, deleted, stale_pointer))
    assert young_tmp.is_dir() and current_dir(models, "1h", "gru_standard").is_dir()
    assert clean_partial(models / "absent") == []


def test_clean_partial_sweeps_a_dead_writers_folder_at_once(models):
    """A worker killed just after its last heartbeat leaves a folder younger than the stale time: its
    pid says it is gone, so the reap clears it; a live writer's young folder stays."""
    import socket
    import subprocess
    import sys

    from coinpredict.common.files import write_folder_atomically

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True, check=True).stdout.strip()
    root = models / "1h" / "lightgbm"
    killed = root / f".tmp-{dead}@{socket.gethostname()}@abc"
    killed.mkdir()
    seen = []
    write_folder_atomically(root, lambda tmp: seen.append(tmp.name) or "written")
    assert seen[0].startswith(f".tmp-{os.getpid()}@{socket.gethostname()}@")
    live = root / seen[0]
    live.mkdir()  # as if this process were still writing it
    other_host = root / f".tmp-{dead}@elsewhere@abc"
    other_host.mkdir()
    assert clean_partial(models, older_than_s=600) == [str(killed.relative_to(models))]
    assert live.is_dir() and other_host.is_dir()
