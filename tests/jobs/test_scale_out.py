"""The scale-out set-up: job records on PostgreSQL, the queue on Redis, a worker process from the
Procfile taking a job that another process submitted."""

from __future__ import annotations

import time

from coinpredict.config import Settings
from coinpredict.jobs import JobQueue
from coinpredict.launch import procfile_worker
from coinpredict.models.artifacts import CURRENT

from .servers import postgres_server, redis_server


def test_a_job_runs_through_redis_with_records_in_postgresql(synthetic_dir, tmp_path):
    with postgres_server() as database_url, redis_server() as redis_url:
        env = {"DATABASE_URL": database_url, "REDIS_URL": redis_url, "OHLCV_DIR": str(synthetic_dir),
               "MODELS_DIR": str(tmp_path / "models"), "OFFLINE": "1", "LOG_LEVEL": "WARNING"}
        settings = Settings(ohlcv_dir=synthetic_dir, models_dir=tmp_path / "models", database_url=database_url,
                            redis_url=redis_url)
        queue = JobQueue(settings)
        job = queue.submit("train", "1h", {"models": ["lightgbm"], "profile": "smoke", "promote": "always"})
        with procfile_worker(env):
            deadline = time.time() + 120
            while (found := queue.store.get(job["id"]))["status"] in ("queued", "running"):
                assert time.time() < deadline, found
                time.sleep(0.3)
        assert found["status"] == "succeeded", found
        assert found["result"]["versions"]["lightgbm"].replace(":", "") == \
            (tmp_path / "models" / "1h" / "lightgbm" / CURRENT).read_text().strip()
