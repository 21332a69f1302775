"""The job queue opens huey only when a job is queued: a web worker that reads job records never loads it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import coinpredict

SOURCE_ROOT = str(Path(coinpredict.__file__).resolve().parents[1])

READ_ONLY = """
import sys
from coinpredict.config import Settings
from coinpredict.jobs import JobQueue
queue = JobQueue(Settings.from_env())
queue.store.active()
print("huey" in sys.modules)
queue.huey  # the first submission opens it
print("huey" in sys.modules)
"""


def test_reading_job_records_does_not_import_huey(tmp_path):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([SOURCE_ROOT, os.environ.get("PYTHONPATH", "")]),
           "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite'}", "QUEUE_PATH": str(tmp_path / "queue.sqlite"),
           "MODELS_DIR": str(tmp_path / "models"), "OFFLINE": "1"}
    out = subprocess.run([sys.executable, "-c", READ_ONLY], cwd=tmp_path, env=env, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["False", "True"]
