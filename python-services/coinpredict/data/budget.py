"""The exchange's request budget: weight spent per minute and the pause a 429/418 asks for, held once
for the whole deployment. With ``REDIS_URL`` set every process (web workers catching a symbol up, the
leading worker's refresher) spends from one budget in Redis and sees one pause, so N processes together
stay within the limit one would; without Redis each process holds its own, as one machine needs.

The shared weight is counted per wall-clock minute (the exchange counts its ``X-MBX-USED-WEIGHT-1M`` so),
checked and spent in one Lua script so that two processes never both take the last of it. The pause
lives in Redis as a key with an expiry: its time left is read from Redis's own clock."""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..config import Settings

log = logging.getLogger(__name__)
DEFAULT_WEIGHT_PER_MINUTE = 1500.0  # a quarter of the exchange's 6,000: room for other users of the address

# KEYS[1]: this minute's counter. ARGV: weight, limit, expiry (ms). 1 when taken, 0 when it would overrun.
_TAKE = """
local used = tonumber(redis.call('GET', KEYS[1]) or '0')
if used + tonumber(ARGV[1]) > tonumber(ARGV[2]) then return 0 end
redis.call('INCRBY', KEYS[1], ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1
"""
# KEYS[1]: the pause. ARGV[1]: its length (ms). A pause only ever grows: a shorter one never cuts a longer.
_PAUSE = """
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('SET', KEYS[1], '1', 'PX', ARGV[1])
end
return 1
"""


class WeightBudget:
    """One process's budget: a token bucket of request weight refilled continuously at ``per_minute``,
    and a pause (``time.monotonic``) after the exchange said to slow down."""

    def __init__(self, per_minute: float = DEFAULT_WEIGHT_PER_MINUTE):
        self.per_minute = per_minute
        self._tokens = per_minute
        self._at = time.monotonic()
        self._paused_until = 0.0
        self._lock = threading.Lock()

    def take(self, weight: float) -> bool:
        """Spend ``weight`` if the budget holds it; False (nothing spent) when it does not."""
        with self._lock:
            now = time.monotonic()
            self._tokens = min(self.per_minute, self._tokens + (now - self._at) * self.per_minute / 60)
            self._at = now
            if self._tokens < weight:
                return False
            self._tokens -= weight
            return True

    def pause(self, seconds: float) -> None:
        with self._lock:
            self._paused_until = max(self._paused_until, time.monotonic() + seconds)

    def paused_for(self) -> float:
        """Seconds left of the pause (0 when none)."""
        return max(0.0, self._paused_until - time.monotonic())

    def claim(self, key: str, ttl_s: float) -> bool:
        """One process's budget has no one to share a fetch with: every claim is granted."""
        return True


class RedisBudget:
    """The deployment's budget in Redis. When Redis cannot be reached a process falls back to a budget
    of its own (``local``) rather than stopping every fetch; it says so once in the log."""

    def __init__(self, url: str, per_minute: float = DEFAULT_WEIGHT_PER_MINUTE, *, namespace: str = "",
                 clock=time.time):
        import redis

        self.per_minute = per_minute
        self.clock = clock  # wall time: which minute the weight counts in (machines keep it in sync)
        self.prefix = f"coinpredict:exchange:{namespace}"
        self.client = redis.Redis.from_url(url, socket_timeout=2.0, socket_connect_timeout=2.0)
        self._take = self.client.register_script(_TAKE)
        self._pause = self.client.register_script(_PAUSE)
        self.local = WeightBudget(per_minute)
        self._warned = False

    def _unreachable(self, exc: Exception) -> None:
        if not self._warned:
            log.warning("the shared exchange budget in Redis is unreachable (%s): this process keeps its own", exc)
            self._warned = True

    def take(self, weight: float) -> bool:
        import redis

        minute = int(self.clock() // 60)
        try:
            return bool(self._take(keys=[f"{self.prefix}:weight:{minute}"],
                                   args=[int(weight), int(self.per_minute), 120_000]))
        except redis.RedisError as exc:
            self._unreachable(exc)
            return self.local.take(weight)

    def pause(self, seconds: float) -> None:
        import redis

        self.local.pause(seconds)
        try:
            self._pause(keys=[f"{self.prefix}:pause"], args=[max(1, int(seconds * 1000))])
        except redis.RedisError as exc:
            self._unreachable(exc)

    def paused_for(self) -> float:
        import redis

        try:
            left = self.client.pttl(f"{self.prefix}:pause")
        except redis.RedisError as exc:
            self._unreachable(exc)
            return self.local.paused_for()
        return max(left / 1000 if left and left > 0 else 0.0, self.local.paused_for())


    def claim(self, key: str, ttl_s: float) -> bool:
        """Claim the fetch ``key`` (a symbol, timeframe and candle) for the deployment for ``ttl_s``: True for
        the one process that should call the exchange, False for the others, which wait for the candle in
        the shared store. Granted when Redis cannot say (a fetch twice beats none)."""
        import redis

        try:
            return bool(self.client.set(f"{self.prefix}:fetch:{key}", "1", nx=True, px=max(1, int(ttl_s * 1000))))
        except redis.RedisError as exc:
            self._unreachable(exc)
            return True


ExchangeBudget = WeightBudget | RedisBudget


def make_budget(settings: Settings) -> ExchangeBudget:
    """The deployment's budget when ``REDIS_URL`` is set (one per exchange address), else this process's."""
    per_minute = settings.exchange_weight_per_minute
    if not settings.redis_url:
        return WeightBudget(per_minute)
    namespace = hashlib.sha1(settings.exchange_url.encode()).hexdigest()[:10]
    return RedisBudget(settings.redis_url, per_minute, namespace=namespace)
