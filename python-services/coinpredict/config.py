"""Settings from the environment, with defaults that work from a fresh clone."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def _env_path(name: str, default: Path) -> Path:
    value = os.environ.get(name)
    return Path(value).expanduser().resolve() if value else default


@dataclass
class Settings:
    port: int = 5003
    ohlcv_dir: Path | None = None
    models_dir: Path = REPO_ROOT / "models"
    store_path: Path = REPO_ROOT / "data" / "candles.sqlite"
    api_key: str | None = None
    cors_origins: list[str] = field(default_factory=lambda: ["*"])
    exchange_url: str = "https://api.binance.com"
    universe_url: str = "https://api.coingecko.com/api/v3/coins/markets"
    offline: bool = False
    live_ttl_s: float = 60.0
    stale_after_candles: float = 3.0
    max_body_bytes: int = 2 * 1024 * 1024
    max_batch_items: int = 500
    max_candles: int = 5000
    serve_lookback: int = 500
    fee_bps: float = 10.0  # per side; a signal must beat the round trip (2 x)
    models_poll_s: float = 1.5  # how often each worker looks for a changed MODELS_DIR (0: never)
    database_url: str = f"sqlite:///{REPO_ROOT / 'data' / 'coinpredict.sqlite'}"  # job records (and later more)
    queue_path: Path = REPO_ROOT / "data" / "queue.sqlite"  # the task queue's embedded storage
    redis_url: str | None = None  # the task queue on Redis instead (several machines)
    max_active_jobs: int = 8  # queued + running; more are refused with 429
    job_stale_s: float = 60.0  # a running job whose worker has not reported for this long died

    @classmethod
    def from_env(cls) -> Settings:
        s = cls()
        s.port = int(os.environ.get("PORT", s.port))
        if os.environ.get("OHLCV_DIR"):
            s.ohlcv_dir = _env_path("OHLCV_DIR", REPO_ROOT)
        s.models_dir = _env_path("MODELS_DIR", s.models_dir)
        s.store_path = _env_path("STORE_PATH", s.store_path)
        s.api_key = os.environ.get("API_KEY") or None
        origins = os.environ.get("CORS_ORIGINS", "*")
        s.cors_origins = [o.strip() for o in origins.split(",") if o.strip()] or ["*"]
        s.exchange_url = os.environ.get("EXCHANGE_URL", s.exchange_url)
        s.universe_url = os.environ.get("UNIVERSE_URL", s.universe_url)
        s.offline = os.environ.get("OFFLINE", "").lower() in ("1", "true", "yes")
        s.live_ttl_s = float(os.environ.get("LIVE_TTL_S", s.live_ttl_s))
        s.fee_bps = float(os.environ.get("FEE_BPS", s.fee_bps))
        s.models_poll_s = float(os.environ.get("MODELS_POLL_S", s.models_poll_s))
        s.database_url = os.environ.get("DATABASE_URL") or s.database_url
        s.queue_path = _env_path("QUEUE_PATH", s.queue_path)
        s.redis_url = os.environ.get("REDIS_URL") or None
        s.max_active_jobs = int(os.environ.get("MAX_ACTIVE_JOBS", s.max_active_jobs))
        s.job_stale_s = float(os.environ.get("JOB_STALE_S", s.job_stale_s))
        return s
