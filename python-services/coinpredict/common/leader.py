"""One leader among the workers for the live duties (candle refresh, outcome scoring, scheduling): a
lease that exactly one process holds at a time and that passes to another when its holder dies.

- PostgreSQL ``DATABASE_URL``: a session-level advisory lock held on a connection of its own. The
  server drops it the moment the holder's connection closes (a kill -9 closes it), so a follower takes
  it on its next try. The connection's ``application_name`` names the holder (``pg_stat_activity``).
- ``REDIS_URL`` without PostgreSQL: a key set only if absent, with an expiry the holder renews while
  its value is still its own (one Lua script), so a dead holder's lease expires after ``ttl_s``.
- SQLite (one machine): an exclusive ``flock`` on a file beside the database, which the kernel
  releases when its process ends however it ends. One worker leads as before; a second worker on the
  same machine trains and leaves the live duties to the first instead of fetching every candle twice.

A worker started with ``WORKER_LIVE=off`` never leads (it only runs training jobs)."""

from __future__ import annotations

import fcntl
import logging
import os
import threading
import uuid

import sqlalchemy as sa

log = logging.getLogger(__name__)
PG_LEADER_KEY = 0x636F696E6C6561  # "coinlea": the advisory lock's key (the migration lock uses another)
REDIS_LEADER_KEY = "coinpredict:leader"
REDIS_TTL_S = 15.0

# KEYS[1]: the lease. ARGV: this holder's token, expiry (ms). 1 when it was still ours and is renewed.
_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class Lease:
    """``hold()`` is called every few seconds: it takes the lease when free, keeps it while held, and
    says whether this process leads now. ``kind`` names the mechanism for the log."""

    kind = "none"

    def hold(self) -> bool:
        raise NotImplementedError

    def release(self) -> None:
        """Give the lease up at once (a clean stop), so a follower need not wait for its expiry."""


class Always(Lease):
    """No other process can share the database (in-memory SQLite): this one leads."""

    kind = "sole process"

    def hold(self) -> bool:
        return True


class Never(Lease):
    kind = "WORKER_LIVE=off"

    def hold(self) -> bool:
        return False


class FileLease(Lease):
    kind = "file lock"

    def __init__(self, path: str):
        self.path = path
        self._file = None

    def hold(self) -> bool:
        if self._file is not None:
            return True
        handle = open(self.path, "a")  # noqa: SIM115 - held open while this process leads
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            return False
        self._file = handle
        return True

    def release(self) -> None:
        if self._file is not None:
            self._file.close()  # closing the descriptor releases the lock; the file stays (removing it races)
            self._file = None


class PostgresLease(Lease):
    kind = "postgresql advisory lock"

    def __init__(self, url: str, holder: str, key: int = PG_LEADER_KEY):
        self.key = key
        self.engine = sa.create_engine(url, poolclass=sa.pool.NullPool,
                                       connect_args={"application_name": f"coinpredict leader {holder}"[:63]})
        self._conn: sa.Connection | None = None

    def hold(self) -> bool:
        if self._conn is not None:
            try:
                self._conn.execute(sa.text("SELECT 1"))  # the lock lives exactly as long as this session
                return True
            except sa.exc.SQLAlchemyError as exc:
                log.warning("the leader's database connection broke (%s): the lease is lost", exc)
                self._drop()
        try:
            conn = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        except sa.exc.SQLAlchemyError as exc:
            log.warning("cannot reach the database to take the lease: %s", exc)
            return False
        try:
            won = bool(conn.execute(sa.select(sa.func.pg_try_advisory_lock(self.key))).scalar())
        except sa.exc.SQLAlchemyError:
            conn.close()
            return False
        if won:
            self._conn = conn
        else:
            conn.close()
        return won

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        try:
            conn.invalidate()  # never back to a pool: the session, and with it the lock, ends
        except sa.exc.SQLAlchemyError:
            pass

    def release(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()  # NullPool: the session ends, and the lock with it
            except sa.exc.SQLAlchemyError:
                pass
            self._conn = None


class RedisLease(Lease):
    kind = "redis lock"

    def __init__(self, url: str, holder: str, *, ttl_s: float = REDIS_TTL_S, key: str = REDIS_LEADER_KEY):
        import redis

        self.key, self.ttl_ms = key, int(ttl_s * 1000)
        self.token = f"{holder}:{uuid.uuid4().hex[:8]}"  # two processes never share one, even on one host
        self.client = redis.Redis.from_url(url, socket_timeout=2.0, socket_connect_timeout=2.0)
        self._renew = self.client.register_script(_RENEW)
        self._release = self.client.register_script(_RELEASE)

    def hold(self) -> bool:
        import redis

        try:
            if self._renew(keys=[self.key], args=[self.token, self.ttl_ms]):
                return True
            return bool(self.client.set(self.key, self.token, nx=True, px=self.ttl_ms))
        except redis.RedisError as exc:  # cannot prove it is still ours: stop leading; it expires anyway
            log.warning("cannot reach Redis to hold the lease: %s", exc)
            return False

    def holder(self) -> str | None:
        value = self.client.get(self.key)
        return value.decode() if value else None

    def release(self) -> None:
        import redis

        try:
            self._release(keys=[self.key], args=[self.token])
        except redis.RedisError:
            pass


def make_lease(database_url: str, redis_url: str | None, holder: str) -> Lease:
    """The lease the deployment's backends support (see the module's docstring)."""
    if os.environ.get("WORKER_LIVE", "").lower() in ("off", "0", "no", "false"):
        return Never()
    url = sa.make_url(database_url)
    if url.get_backend_name() == "postgresql":
        return PostgresLease(database_url, holder)
    if redis_url:
        return RedisLease(redis_url, holder)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        return FileLease(f"{url.database}.leader-lock")
    return Always()


def lease_holder(database_url: str, redis_url: str | None) -> str | None:
    """Who holds the lease now (``<host>:<pid>``), for operators and the replay; None when nobody does or
    the backend cannot tell (the SQLite file lock names nobody)."""
    if sa.make_url(database_url).get_backend_name() == "postgresql":
        engine = sa.create_engine(database_url, poolclass=sa.pool.NullPool)
        try:
            with engine.connect() as conn:  # a bigint advisory key is (classid, objid) = (high, low) 32 bits
                name = conn.execute(sa.text(
                    "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
                    "WHERE l.locktype = 'advisory' AND l.granted AND l.classid = :hi AND l.objid = :lo "
                    "AND l.objsubid = 1"), {"hi": PG_LEADER_KEY >> 32, "lo": PG_LEADER_KEY & 0xFFFFFFFF}).scalar()
        finally:
            engine.dispose()
        return name.removeprefix("coinpredict leader ") if name else None
    if redis_url:
        import redis

        value = redis.Redis.from_url(redis_url, socket_timeout=2.0).get(REDIS_LEADER_KEY)
        return value.decode().rsplit(":", 1)[0] if value else None  # the token ends in a random part
    return None


class Leadership:
    """Holds ``lease`` on a thread of its own, every ``renew_s`` whatever the live round is doing (a long
    round never lets a Redis lease expire under it), and says in the log when this process starts or
    stops leading. ``leading`` is what the live loop looks at before each round."""

    def __init__(self, lease: Lease, holder: str, renew_s: float = 5.0):
        self.lease, self.holder, self.renew_s = lease, holder, renew_s
        self.leading = threading.Event()

    def tick(self) -> bool:
        try:
            held = self.lease.hold()
        except Exception:  # noqa: BLE001 - a backend hiccup means not leading this round, never a dead thread
            log.exception("holding the leader lease failed")
            held = False
        if held and not self.leading.is_set():
            log.info("live duties: %s leads now (%s)", self.holder, self.lease.kind)
        elif not held and self.leading.is_set():
            log.warning("live duties: %s no longer leads (%s); another worker takes over", self.holder,
                        self.lease.kind)
        (self.leading.set if held else self.leading.clear)()
        return held

    def run(self, stop: threading.Event) -> None:
        if isinstance(self.lease, Never):
            log.info("live duties: %s never leads (WORKER_LIVE=off); it runs training jobs", self.holder)
        elif not self.tick():
            log.info("live duties: %s follows (%s held by another worker); it runs training jobs",
                     self.holder, self.lease.kind)
        while not stop.wait(self.renew_s):
            self.tick()
        self.leading.clear()
        self.lease.release()
