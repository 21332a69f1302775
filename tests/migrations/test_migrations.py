"""The service database's schema comes from alembic migrations: a new database is made by them, one made
by the create_all code from before migrations is adopted with its rows, processes starting together
upgrade it once, and the tables the code declares agree with what the migrations make (a column added
without a migration fails here). On SQLite and on a real PostgreSQL server."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

import coinpredict
from coinpredict.common.migrate import head_revision, upgrade_to_head
from coinpredict.jobs.store import JobStore, job_tasks, jobs
from coinpredict.ledger.store import LedgerStore, predictions
from coinpredict.migrations.metadata import TARGET_METADATA

HERE = Path(__file__).resolve().parent
SOURCE_ROOT = str(Path(coinpredict.__file__).resolve().parents[1])  # where the subprocesses import it from
TABLES = {"alembic_version", "jobs", "predictions", "strategies", "strategy_versions", "strategy_closes",
          "strategy_trades", "strategy_equity", "job_tasks", "candles", "series"}
INDEXES = {"jobs": {"ix_jobs_status", "ix_jobs_timeframe", "one_running_per_timeframe", "one_job_per_schedule"},
           "predictions": {"by_model", "by_recorded", "unscored"},
           "strategy_closes": {"strategy_closes_latest"}, "strategy_trades": {"strategy_trades_by_time"},
           "strategy_equity": {"strategy_equity_by_time"}}


def versions(engine: sa.Engine) -> list[str]:
    with engine.connect() as conn:
        return [row[0] for row in conn.execute(sa.text("SELECT version_num FROM alembic_version"))]


def differences(engine: sa.Engine, metadata=TARGET_METADATA) -> list:
    """What autogenerate would write for ``metadata`` against the database: nothing when they agree."""
    with engine.connect() as conn:
        return compare_metadata(MigrationContext.configure(conn), list(metadata))


def assert_at_head(url: str) -> None:
    engine = sa.create_engine(url)
    try:
        inspector = sa.inspect(engine)
        assert set(inspector.get_table_names()) == TABLES
        for table, names in INDEXES.items():
            indexes = inspector.get_indexes(table)  # PostgreSQL lists a unique constraint's index too
            assert {ix["name"] for ix in indexes if not ix.get("duplicates_constraint")} == names
        assert versions(engine) == [head_revision()]
        assert differences(engine) == []
    finally:
        engine.dispose()


def test_a_new_database_is_made_by_the_migrations(new_database):
    JobStore(new_database)
    LedgerStore(new_database)
    assert_at_head(new_database)


def test_the_tables_declared_in_code_and_the_migrations_agree(new_database):
    engine = sa.create_engine(new_database)
    try:
        upgrade_to_head(engine)
        assert differences(engine) == []
        # The check above can fail: a column declared without a migration is a difference.
        grown = sa.MetaData()
        table = jobs.to_metadata(grown)
        job_tasks.to_metadata(grown)
        table.append_column(sa.Column("priority", sa.Integer))
        [(kind, *_)] = differences(engine, [grown, *TARGET_METADATA[1:]])
        assert kind == "add_column"
    finally:
        engine.dispose()


def make_database_as_before_migrations(url: str, *, drop: tuple[str, ...] = ()) -> None:
    """The schema create_all made before migrations (the checked-in dump), less the ``drop`` statements,
    with a job and a prediction in it."""
    engine = sa.create_engine(url)
    dump = (HERE / f"schema_before_migrations.{engine.dialect.name}.sql").read_text()
    sql = "\n".join(line for line in dump.splitlines() if not line.startswith("--"))
    try:
        with engine.begin() as conn:
            for statement in filter(str.strip, sql.split(";")):
                if not any(name in statement for name in drop):
                    conn.execute(sa.text(statement))
            conn.execute(jobs.insert().values(
                id="old", kind="train", timeframe="1h", status="succeeded", params='{"profile": "smoke"}',
                progress=1.0, stage="succeeded", created_at=1000.0, cancel_requested=False, log_tail='["done"]'))
            if "predictions" not in drop:
                conn.execute(predictions.insert().values(
                    model="xgboost", model_version="v1", symbol="BTCUSDT", timeframe="1h", horizon=1,
                    as_of=1_700_000_000_000, probability_up=0.6, signal="up", recorded_at=1000.0))
    finally:
        engine.dispose()


def test_a_database_made_before_migrations_is_upgraded_in_place_keeping_its_rows(new_database):
    make_database_as_before_migrations(new_database)
    job_store, ledger = JobStore(new_database), LedgerStore(new_database)
    assert_at_head(new_database)
    old = job_store.get("old")
    assert old["params"] == {"profile": "smoke"} and old["log_tail"] == ["done"]
    [row] = ledger.history()
    assert (row["model"], row["probability_up"]) == ("xgboost", 0.6)
    # ...and both stores go on writing to it
    new = job_store.create("train", "4h", {})
    assert job_store.claim(new["id"], "w") == "claimed"
    ledger.append([dict(row, model="lightgbm")])
    assert len(ledger.history()) == 2


def test_what_an_older_database_lacked_is_added(new_database):
    """Only the jobs table, from before the one-running index: the first migration adds the index and
    the ledger's table."""
    make_database_as_before_migrations(new_database, drop=("predictions", "one_running_per_timeframe"))
    store = JobStore(new_database)
    assert_at_head(new_database)
    assert store.get("old")["status"] == "succeeded"
    a, b = store.create("train", "1h", {}), store.create("train", "1h", {})
    assert store.claim(a["id"], "w1") == "claimed"
    assert store.claim(b["id"], "w2") == "busy"  # the index made by the migration holds


def test_a_ledger_at_0001_gains_the_move_columns_and_its_rows_stay_null(new_database):
    """Revision 0002 adds the answer's move quantiles; forecasts recorded before keep null ones, and the
    step back removes the columns again."""
    from alembic import command

    from coinpredict.common.migrate import alembic_config

    engine = sa.create_engine(new_database)
    try:
        with engine.begin() as conn:
            command.upgrade(alembic_config(conn), "0001")
            conn.execute(sa.text(
                "INSERT INTO predictions (model, model_version, symbol, timeframe, horizon, as_of, probability_up, "
                "signal, recorded_at) VALUES ('xgboost', 'v1', 'BTCUSDT', '1h', 1, 0, 0.6, 'HOLD', 1.0)"))
        ledger = LedgerStore(new_database)
        assert_at_head(new_database)
        [old] = ledger.history()
        assert old["probability_up"] == 0.6 and old["move_source"] is None and old["q05_bps"] is None
        ledger.append([dict(old, as_of=3_600_000, move_source="model", q05_bps=-80.0, q25_bps=-20.0, q50_bps=1.0,
                            q75_bps=22.0, q95_bps=85.0)])
        new = ledger.history()[0]
        assert (new["move_source"], new["q05_bps"], new["q95_bps"]) == ("model", -80.0, 85.0)
        ledger.engine.dispose()
        with engine.begin() as conn:
            command.downgrade(alembic_config(conn), "0001")
        assert "q05_bps" not in {c["name"] for c in sa.inspect(engine).get_columns("predictions")}
    finally:
        engine.dispose()


# What each store does on opening the database (importing the stores themselves would bring in training).
STARTER = """
import sys
import time
from pathlib import Path
from coinpredict.common.database import make_engine
from coinpredict.common.migrate import upgrade_to_head
print("ready", flush=True)
go = Path(sys.argv[2])
while not go.exists():
    time.sleep(0.002)
upgrade_to_head(make_engine(sys.argv[1]))
upgrade_to_head(make_engine(sys.argv[1]))  # the second store: finds it done
print("started", flush=True)
"""


def test_processes_starting_together_on_a_new_database_upgrade_it_once(new_database, tmp_path):
    """As web workers and the worker do: each opens the job store, then the ledger, at the same moment."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([SOURCE_ROOT, os.environ.get("PYTHONPATH", "")])}
    go = tmp_path / "go"
    procs = [subprocess.Popen([sys.executable, "-c", STARTER, new_database, str(go)], cwd=tmp_path, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(4)]
    try:
        for proc in procs:  # all have imported everything: the race is on the database alone
            assert proc.stdout.readline().strip() == "ready", proc.communicate(timeout=60)[1]
        go.touch()
        outcomes = [proc.communicate(timeout=180) for proc in procs]
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    for proc, (out, err) in zip(procs, outcomes):
        assert proc.returncode == 0 and out.strip() == "started", err
    assert_at_head(new_database)


def test_the_head_written_in_the_package_is_alembics_head():
    """``HEAD_REVISION`` lets an up-to-date process skip alembic: a new revision updates it."""
    from coinpredict.common.migrate import HEAD_REVISION

    assert HEAD_REVISION == head_revision()


OPEN_UP_TO_DATE = """
import sys
from coinpredict.common.database import make_engine
from coinpredict.common.migrate import upgrade_to_head
upgrade_to_head(make_engine(sys.argv[1]))
print(sorted({m.split(".")[0] for m in sys.modules} & {"alembic", "huey"}))
"""


def test_opening_an_up_to_date_database_does_not_load_alembic(new_database, tmp_path):
    """What keeps alembic out of every web worker after the first start (about 27 MB each)."""
    JobStore(new_database)  # made and migrated by this process
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([SOURCE_ROOT, os.environ.get("PYTHONPATH", "")])}
    out = subprocess.run([sys.executable, "-c", OPEN_UP_TO_DATE, new_database], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
