"""One leader for the live duties: of two contenders exactly one holds the lease, and when the holder's
process is killed with kill -9 the other takes it over within the lease time. On a real PostgreSQL
server (advisory lock), a real Redis server (lock with expiry) and a file lock beside a SQLite file."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

import coinpredict
from coinpredict.common.leader import FileLease, Leadership, Never, PostgresLease, RedisLease, lease_holder, make_lease

SOURCE_ROOT = str(Path(coinpredict.__file__).resolve().parents[1])
TAKEOVER_S = 30.0  # the contract: another worker takes over within 30 s of the leader's death
REDIS_TTL_S = 3.0

HOLDER = """
import sys, time
from coinpredict.common.leader import FileLease, PostgresLease, RedisLease
kind, where, key = sys.argv[1:4]
lease = {"postgresql": lambda: PostgresLease(where, "holder", key=int(key)),
         "redis": lambda: RedisLease(where, "holder", ttl_s=float(sys.argv[4]), key=key),
         "file": lambda: FileLease(where)}[kind]()
while not lease.hold():
    time.sleep(0.05)
print("leading", flush=True)
while True:  # renews as the worker does, until killed
    time.sleep(0.2)
    lease.hold()
"""


def leases(kind: str, where: str, tmp_path: Path):
    """A factory of contending leases of ``kind`` on one lock, and the holder subprocess's arguments."""
    if kind == "postgresql":
        key = int.from_bytes(os.urandom(6), "big")  # a lock of this test's own on the session's server
        return (lambda: PostgresLease(where, f"test-{uuid.uuid4().hex[:4]}", key=key)), [kind, where, str(key)]
    if kind == "redis":
        key = f"test-leader-{uuid.uuid4().hex[:8]}"
        return ((lambda: RedisLease(where, f"test-{uuid.uuid4().hex[:4]}", ttl_s=REDIS_TTL_S, key=key)),
                [kind, where, key, str(REDIS_TTL_S)])
    path = str(tmp_path / "coinpredict.sqlite.leader-lock")
    return (lambda: FileLease(path)), [kind, path, "0"]


@pytest.fixture(params=["postgresql", "redis", "file"])
def contenders(request, tmp_path):
    where = {"postgresql": lambda: request.getfixturevalue("postgres"),
             "redis": lambda: request.getfixturevalue("redis_url"), "file": lambda: ""}[request.param]()
    return leases(request.param, where, tmp_path)


def test_of_two_contenders_exactly_one_holds_the_lease_until_it_gives_it_up(contenders):
    make, _ = contenders
    a, b = make(), make()
    try:
        assert a.hold() is True
        assert b.hold() is False
        assert a.hold() is True and b.hold() is False  # held while renewed, never shared
        a.release()  # a clean stop hands over at once
        assert b.hold() is True and a.hold() is False
    finally:
        a.release()
        b.release()


def test_a_killed_holder_is_replaced_within_the_lease_time(contenders, tmp_path):
    make, args = contenders
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([SOURCE_ROOT, os.environ.get("PYTHONPATH", "")])}
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, *args], cwd=tmp_path, env=env, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    follower = make()
    try:
        assert holder.stdout.readline().strip() == "leading", holder.communicate(timeout=60)[1]
        assert follower.hold() is False  # the holder renews it: the follower never takes it meanwhile
        holder.send_signal(signal.SIGKILL)
        holder.wait(30)
        killed = time.monotonic()
        while not follower.hold():
            assert time.monotonic() - killed < TAKEOVER_S, "the lease was not taken over"
            time.sleep(0.1)
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()
        follower.release()


def test_the_worker_follows_while_another_leads_and_says_so(tmp_path, caplog):
    path = str(tmp_path / "coinpredict.sqlite.leader-lock")
    first, second = Leadership(FileLease(path), "w1"), Leadership(FileLease(path), "w2")
    with caplog.at_level("INFO", logger="coinpredict.common.leader"):
        assert first.tick() and not second.tick()
    assert first.leading.is_set() and not second.leading.is_set()
    assert "w1 leads now (file lock)" in caplog.text
    first.lease.release()
    assert second.tick() and second.leading.is_set()
    second.lease.release()


def test_each_backend_gets_its_lease(tmp_path, monkeypatch):
    monkeypatch.delenv("WORKER_LIVE", raising=False)
    sqlite = f"sqlite:///{tmp_path / 'c.sqlite'}"
    assert isinstance(make_lease(sqlite, None, "w"), FileLease)
    assert isinstance(make_lease(sqlite, "redis://127.0.0.1:9/0", "w"), RedisLease)
    assert isinstance(make_lease("postgresql+psycopg://u@127.0.0.1:9/db", "redis://127.0.0.1:9/0", "w"),
                      PostgresLease)
    monkeypatch.setenv("WORKER_LIVE", "off")
    assert isinstance(make_lease(sqlite, None, "w"), Never)


def _wait_for(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.2)


def test_two_procfile_workers_on_postgresql_one_leads_and_the_other_takes_over_after_kill_9(
        synthetic_dir, postgres, tmp_path):
    """The worker's own wiring: two Procfile workers on one PostgreSQL database; one says it leads, the
    other follows; kill -9 of the leader and the follower says it leads within 30 s."""
    import sqlalchemy as sa

    from coinpredict.launch import procfile_command, stop_group

    server = sa.make_url(postgres)
    name = f"leader_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([SOURCE_ROOT, os.environ.get("PYTHONPATH", "")]),
           "DATABASE_URL": server.set(database=name).render_as_string(hide_password=False),
           "OHLCV_DIR": str(synthetic_dir), "MODELS_DIR": str(tmp_path / "models"), "OFFLINE": "1",
           "LOG_LEVEL": "INFO", "WORKER_TICK_S": "0.5", "RETRAIN_EVERY": "off"}
    env.pop("REDIS_URL", None)
    env.pop("WORKER_LIVE", None)
    logs = [tmp_path / f"worker-{i}.log" for i in range(2)]
    procs = []
    try:
        for i, log in enumerate(logs):
            with open(log, "w") as out:
                procs.append(subprocess.Popen(["bash", "-c", procfile_command("worker")], cwd=Path(SOURCE_ROOT).parent,
                                              env={**env, "QUEUE_PATH": str(tmp_path / f"q{i}.sqlite")},
                                              stdout=out, stderr=subprocess.STDOUT, start_new_session=True))

        def said(i: int, words: str) -> bool:
            return words in logs[i].read_text()

        _wait_for(lambda: said(0, "leads now") or said(1, "leads now"), 240, "no worker took the lease")
        _wait_for(lambda: said(0, "follows") or said(1, "follows"), 240, "no worker said it follows")
        leader = 0 if said(0, "leads now") else 1
        other = 1 - leader
        assert not said(other, "leads now") and said(other, "follows (postgresql advisory lock")
        assert lease_holder(env["DATABASE_URL"], None) == f"{socket.gethostname()}:{procs[leader].pid}"
        os.killpg(procs[leader].pid, signal.SIGKILL)
        procs[leader].wait(30)
        _wait_for(lambda: said(other, "leads now"), TAKEOVER_S, "the follower did not take over within 30 s")
        assert lease_holder(env["DATABASE_URL"], None) == f"{socket.gethostname()}:{procs[other].pid}"
        assert procs[other].poll() is None
    finally:
        for proc in procs:
            stop_group(proc)
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_the_holder_is_named_on_redis_and_nobody_once_released(redis_url):
    lease = RedisLease(redis_url, "host-a:123", ttl_s=REDIS_TTL_S)
    try:
        assert lease_holder("sqlite:///unused.sqlite", redis_url) is None
        assert lease.hold()
        assert lease_holder("sqlite:///unused.sqlite", redis_url) == "host-a:123"
    finally:
        lease.release()
    assert lease_holder("sqlite:///unused.sqlite", redis_url) is None
