"""Settings from the environment, with defaults that work from a fresh clone."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def _env_path(name: str, default: Path) -> Path:
    """A path setting made absolute here, once, against the directory the process started in (the repo
    root for ``make run`` and the Procfile lines), so every process reads the same file or folder."""
    value = os.environ.get(name)
    return Path(value).expanduser().resolve() if value else default


def absolute_database_url(url: str) -> str:
    """``sqlite:///data/x.sqlite`` (relative to the start directory) as an absolute SQLite URL; any other
    URL (PostgreSQL, ``sqlite://`` in memory, an absolute file) as given."""
    scheme, sep, rest = url.partition(":///")
    if not sep or not scheme.split("+")[0] == "sqlite" or not rest or rest.startswith("/") or \
            rest.startswith(":memory:") or rest.startswith("file:"):
        return url
    return f"{scheme}:///{Path(rest).expanduser().resolve()}"


# Boosters and networks of a timeframe retrain together (measured: a default-profile 1h job is ~8 minutes
# on 2 cores, so daily is cheap; the slower timeframes gain a candle in 4 hours or a day).
DEFAULT_RETRAIN_EVERY = "1h=24h,4h=72h,1d=168h"
_UNITS = {"m": 60, "h": 3600, "d": 86_400, "w": 604_800}


def parse_retrain_every(text: str) -> dict[str, float]:
    """``1h=24h,4h=72h`` -> {timeframe: seconds}; ``off`` -> {} (no scheduled retraining)."""
    if text.strip().lower() in ("off", "none", "0", ""):
        return {}
    out = {}
    for part in text.split(","):
        tf, _, every = part.strip().partition("=")
        every = every.strip().lower()
        if not tf or not every or every[-1] not in _UNITS:
            raise ValueError(f"RETRAIN_EVERY reads like 1h=24h,4h=72h or off; cannot read {part!r}")
        seconds = float(every[:-1]) * _UNITS[every[-1]]
        if seconds <= 0:
            raise ValueError(f"RETRAIN_EVERY: {part!r} is not a positive interval")
        out[tf.strip()] = seconds
    return out


@dataclass
class Settings:
    port: int = 5003
    ohlcv_dir: Path | None = None
    models_dir: Path = REPO_ROOT / "models"
    store_path: Path = REPO_ROOT / "data" / "candles.sqlite"
    # auto: the candles in DATABASE_URL when it is PostgreSQL (the deployment's), else STORE_PATH; sqlite,
    # postgresql: that one (``data.stores``)
    candle_store: str = "auto"
    api_key: str | None = None
    cors_origins: list[str] = field(default_factory=lambda: ["*"])
    exchange_url: str = "https://api.binance.com"
    universe_url: str = "https://api.coingecko.com/api/v3/coins/markets"
    offline: bool = False
    synthetic: bool = False  # SYNTHETIC=1: the synthetic market (demos, tests); every answer HOLDs
    fetch_deadline_s: float = 3.0  # the longest a request waits on the exchange before answering from the store
    retrain_every: dict[str, float] = field(default_factory=lambda: parse_retrain_every(DEFAULT_RETRAIN_EVERY))
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
    exchange_weight_per_minute: float = 1500.0  # request weight the service spends a minute (shared with Redis)
    max_active_jobs: int = 8  # queued + running; more are refused with 429
    train_profile: str = "default"  # what make run trains first when MODELS_DIR has no model (smoke: seconds)
    job_stale_s: float = 60.0  # a running job whose worker has not reported for this long died

    @classmethod
    def from_env(cls) -> Settings:
        s = cls()
        s.port = int(os.environ.get("PORT", s.port))
        if os.environ.get("OHLCV_DIR"):
            s.ohlcv_dir = _env_path("OHLCV_DIR", REPO_ROOT)
        s.models_dir = _env_path("MODELS_DIR", s.models_dir)
        s.store_path = _env_path("STORE_PATH", s.store_path)
        s.candle_store = (os.environ.get("CANDLE_STORE") or s.candle_store).strip().lower()
        if s.candle_store not in ("auto", "sqlite", "postgresql"):
            raise ValueError(f"CANDLE_STORE is auto, sqlite or postgresql; got {s.candle_store!r}")
        s.api_key = os.environ.get("API_KEY") or None
        origins = os.environ.get("CORS_ORIGINS", "*")
        s.cors_origins = [o.strip() for o in origins.split(",") if o.strip()] or ["*"]
        s.exchange_url = os.environ.get("EXCHANGE_URL", s.exchange_url)
        s.universe_url = os.environ.get("UNIVERSE_URL", s.universe_url)
        s.offline = os.environ.get("OFFLINE", "").lower() in ("1", "true", "yes")
        s.synthetic = os.environ.get("SYNTHETIC", "").lower() in ("1", "true", "yes")
        s.fetch_deadline_s = float(os.environ.get("FETCH_DEADLINE_S", s.fetch_deadline_s))
        if os.environ.get("RETRAIN_EVERY"):
            s.retrain_every = parse_retrain_every(os.environ["RETRAIN_EVERY"])
        s.fee_bps = float(os.environ.get("FEE_BPS", s.fee_bps))
        s.models_poll_s = float(os.environ.get("MODELS_POLL_S", s.models_poll_s))
        s.database_url = absolute_database_url(os.environ.get("DATABASE_URL") or s.database_url)
        s.queue_path = _env_path("QUEUE_PATH", s.queue_path)
        s.redis_url = os.environ.get("REDIS_URL") or None
        s.exchange_weight_per_minute = float(os.environ.get("EXCHANGE_WEIGHT_PER_MINUTE",
                                                            s.exchange_weight_per_minute))
        s.max_active_jobs = int(os.environ.get("MAX_ACTIVE_JOBS", s.max_active_jobs))
        s.job_stale_s = float(os.environ.get("JOB_STALE_S", s.job_stale_s))
        s.train_profile = os.environ.get("TRAIN_PROFILE") or s.train_profile
        return s
