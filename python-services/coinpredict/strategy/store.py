"""Strategies and their paper books in ``DATABASE_URL`` (SQLAlchemy Core, like the job records and the
ledger: the embedded SQLite default and PostgreSQL behave the same).

A strategy is a row with its status; its configs are versions (a change adds one, the old ones stay).
Its book is written one close at a time by ``record_close``: the engine's whole state after the close
(``EngineState``), the fills of that close and its equity point, in one transaction whose key is
(strategy, version, close time). A second writer of the same close (a restarted worker, another
worker) finds the key taken and writes nothing, so a close is applied exactly once. Every change to the
book (a close, a resume) also advances the strategy's ``book_revision``; a writer that passes the
revision it read (``CloseRecord.revision``) is refused with ``StaleBook`` when the book changed since,
so a resume is never overwritten by a close computed from the halted state before it.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass

import sqlalchemy as sa

from ..common.database import make_engine
from ..common.migrate import upgrade_to_head
from .book import Fill
from .config import StrategyConfig
from .engine import EngineState, EquityPoint
from .limits import LimitEvent

STATUSES = ("running", "paused", "halted", "deleted")

metadata = sa.MetaData()  # a change to its tables needs a migration (coinpredict/migrations)
strategies = sa.Table(
    "strategies", metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("halt_reason", sa.Text),
    sa.Column("version", sa.Integer, nullable=False),  # the current version
    sa.Column("book_revision", sa.Integer, nullable=False, server_default="0"),  # one more per book change
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
)
strategy_versions = sa.Table(
    "strategy_versions", metadata,
    sa.Column("strategy_id", sa.String(32), sa.ForeignKey("strategies.id"), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("config", sa.Text, nullable=False),  # StrategyConfig JSON
    sa.Column("created_at", sa.Float, nullable=False),
)
strategy_closes = sa.Table(
    "strategy_closes", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("strategy_id", sa.String(32), sa.ForeignKey("strategies.id"), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("close_time", sa.BigInteger, nullable=False),  # ms
    sa.Column("state", sa.Text, nullable=False),  # EngineState JSON after the close
    sa.Column("events", sa.Text, nullable=False),  # the close's LimitEvents, JSON
    sa.Column("forecasts", sa.Text),  # the forecasts the live runner traded on, JSON (migration 0008)
    sa.Column("recorded_at", sa.Float, nullable=False),
    # The live runner's exactly-once key: one close per strategy version, whoever writes it.
    sa.UniqueConstraint("strategy_id", "version", "close_time", name="one_close_per_version"),
    sa.Index("strategy_closes_latest", "strategy_id", "close_time"),
)
strategy_trades = sa.Table(
    "strategy_trades", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("strategy_id", sa.String(32), sa.ForeignKey("strategies.id"), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("time", sa.BigInteger, nullable=False),  # ms: the open the order filled at
    sa.Column("symbol", sa.String(40), nullable=False),
    sa.Column("side", sa.String(4), nullable=False),
    sa.Column("quantity", sa.Float, nullable=False),
    sa.Column("price", sa.Float, nullable=False),
    sa.Column("fee", sa.Float, nullable=False),
    sa.Column("slippage", sa.Float, nullable=False),
    sa.Column("reason", sa.String(64), nullable=False),
    sa.Column("pnl", sa.Float),
    sa.Index("strategy_trades_by_time", "strategy_id", "time"),
)
strategy_equity = sa.Table(
    "strategy_equity", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("strategy_id", sa.String(32), sa.ForeignKey("strategies.id"), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("time", sa.BigInteger, nullable=False),  # ms: the close
    sa.Column("equity", sa.Float, nullable=False),
    sa.Column("cash", sa.Float, nullable=False),
    sa.Column("exposure", sa.Float, nullable=False),
    sa.Column("net_exposure", sa.Float, nullable=False),
    sa.Column("costs", sa.Float, nullable=False),
    sa.Index("strategy_equity_by_time", "strategy_id", "time"),
)


@dataclass(frozen=True)
class StrategyRecord:
    id: str
    name: str
    status: str
    halt_reason: str | None
    version: int
    config: StrategyConfig
    created_at: float
    updated_at: float


@dataclass(frozen=True)
class VersionRecord:
    version: int
    config: StrategyConfig
    created_at: float


@dataclass(frozen=True)
class CloseRecord:
    version: int
    close_time: int
    state: EngineState
    events: list[LimitEvent]
    revision: int  # the strategy's book_revision when it was read


class StrategyNotFound(LookupError):
    pass


class StaleBook(RuntimeError):
    """The book changed since the writer read it (a resume, another close): read it again and redo."""


def _config(text: str) -> StrategyConfig:
    """A stored config: validated once at the API, read back without re-checking models and symbols."""
    return StrategyConfig.model_validate_json(text)


class StrategyStore:
    def __init__(self, url: str, *, clock=time.time):
        self.engine = make_engine(url)
        self.clock = clock
        upgrade_to_head(self.engine)

    # --- strategies and versions -------------------------------------------------------------------

    def create(self, config: StrategyConfig) -> StrategyRecord:
        strategy_id, now = uuid.uuid4().hex[:16], self.clock()
        with self.engine.begin() as conn:
            conn.execute(strategies.insert().values(id=strategy_id, name=config.name, status="running", version=1,
                                                    book_revision=0, created_at=now, updated_at=now))
            conn.execute(strategy_versions.insert().values(strategy_id=strategy_id, version=1,
                                                           config=config.model_dump_json(), created_at=now))
        return self.get(strategy_id)

    def _select(self):
        v = strategy_versions
        return (sa.select(strategies, v.c.config)
                .join(v, sa.and_(v.c.strategy_id == strategies.c.id, v.c.version == strategies.c.version)))

    @staticmethod
    def _record(row) -> StrategyRecord:
        m = row._mapping
        return StrategyRecord(id=m["id"], name=m["name"], status=m["status"], halt_reason=m["halt_reason"],
                              version=m["version"], config=_config(m["config"]), created_at=m["created_at"],
                              updated_at=m["updated_at"])

    def get(self, strategy_id: str) -> StrategyRecord | None:
        with self.engine.connect() as conn:
            row = conn.execute(self._select().where(strategies.c.id == strategy_id)).first()
        return self._record(row) if row else None

    def require(self, strategy_id: str) -> StrategyRecord:
        record = self.get(strategy_id)
        if record is None:
            raise StrategyNotFound(strategy_id)
        return record

    def list(self, *, status: str | None = None) -> list[StrategyRecord]:
        query = self._select().order_by(strategies.c.created_at.desc(), strategies.c.id)
        if status is not None:
            query = query.where(strategies.c.status == status)
        with self.engine.connect() as conn:
            return [self._record(r) for r in conn.execute(query)]

    def new_version(self, strategy_id: str, config: StrategyConfig) -> StrategyRecord:
        """The config as the next version; the book carries on from where the last one left it. The
        number is taken by an update first, so two changes at once get two versions (no read to race)."""
        now = self.clock()
        with self.engine.begin() as conn:
            taken = conn.execute(strategies.update().where(strategies.c.id == strategy_id)
                                 .values(version=strategies.c.version + 1, name=config.name, updated_at=now)).rowcount
            if not taken:
                raise StrategyNotFound(strategy_id)
            version = conn.execute(sa.select(strategies.c.version).where(strategies.c.id == strategy_id)).scalar()
            conn.execute(strategy_versions.insert().values(strategy_id=strategy_id, version=version,
                                                           config=config.model_dump_json(), created_at=now))
        return self.require(strategy_id)

    def versions(self, strategy_id: str) -> list[VersionRecord]:
        query = (strategy_versions.select().where(strategy_versions.c.strategy_id == strategy_id)
                 .order_by(strategy_versions.c.version))
        with self.engine.connect() as conn:
            return [VersionRecord(version=r.version, config=_config(r.config), created_at=r.created_at)
                    for r in conn.execute(query)]

    def set_status(self, strategy_id: str, status: str, *, halt_reason: str | None = None,
                   when: tuple[str, ...] = STATUSES) -> bool:
        """Move the strategy to ``status`` if it is in one of ``when``; False when it was not."""
        if status not in STATUSES:
            raise ValueError(f"unknown status {status!r}")
        with self.engine.begin() as conn:
            return bool(conn.execute(strategies.update().where(strategies.c.id == strategy_id,
                                                               strategies.c.status.in_(when))
                                     .values(status=status, halt_reason=halt_reason,
                                             updated_at=self.clock())).rowcount)

    # --- the paper book ----------------------------------------------------------------------------

    def record_close(self, strategy_id: str, version: int, close_time: int, state: EngineState,
                     fills: list[Fill], point: EquityPoint | None, events: list[LimitEvent] = (),
                     revision: int | None = None, forecasts: list[dict] | None = None) -> bool:
        """Write one close (state, fills, equity point) at once; False, writing nothing, when this close of
        this version is already recorded; ``StaleBook`` when ``revision`` (the one the state was computed
        from) is no longer the book's. A halt in ``state`` halts a running strategy, with its reason.
        ``point`` None: a close skipped (stale data; its events say why), the book unchanged and unvalued.
        ``forecasts``: what the close traded on (kept for audit and the replay's check)."""
        base = {"strategy_id": strategy_id, "version": version}
        try:
            with self.engine.begin() as conn:
                self._advance(conn, strategy_id, revision)
                conn.execute(strategy_closes.insert().values(
                    **base, close_time=close_time, state=state.model_dump_json(),
                    events=json.dumps([e.model_dump() for e in events]), recorded_at=self.clock(),
                    forecasts=None if forecasts is None else json.dumps(forecasts)))
                if fills:
                    conn.execute(strategy_trades.insert(), [
                        {**base, "time": f.time, "symbol": f.symbol, "side": f.side, "quantity": f.quantity,
                         "price": f.price, "fee": f.fee, "slippage": f.slippage, "reason": f.reason[:64],
                         "pnl": f.pnl} for f in fills])
                if point is not None:
                    conn.execute(strategy_equity.insert().values(
                        **base, time=point.time, equity=point.equity, cash=point.cash, exposure=point.exposure,
                        net_exposure=point.net_exposure, costs=point.costs))
                if state.limits.halted is not None:
                    conn.execute(strategies.update().where(strategies.c.id == strategy_id,
                                                           strategies.c.status == "running")
                                 .values(status="halted", halt_reason=state.limits.halted, updated_at=self.clock()))
        except sa.exc.IntegrityError:
            if self.has_close(strategy_id, version, close_time):
                return False
            raise
        return True

    @staticmethod
    def _advance(conn: sa.Connection, strategy_id: str, revision: int | None) -> None:
        """Take the book for this transaction (its row lock) and count the change; ``StaleBook`` when
        ``revision`` is given and is not the book's any more."""
        query = strategies.update().where(strategies.c.id == strategy_id)
        if revision is not None:
            query = query.where(strategies.c.book_revision == revision)
        if not conn.execute(query.values(book_revision=strategies.c.book_revision + 1)).rowcount:
            raise StaleBook(f"strategy {strategy_id}: the book changed since revision {revision}")

    def has_close(self, strategy_id: str, version: int, close_time: int) -> bool:
        c = strategy_closes.c
        with self.engine.connect() as conn:
            return conn.execute(sa.select(c.id).where(c.strategy_id == strategy_id, c.version == version,
                                                      c.close_time == close_time)).first() is not None

    def latest_close(self, strategy_id: str) -> CloseRecord | None:
        """The newest close of any version: the state the next close starts from."""
        c = strategy_closes.c
        query = (strategy_closes.select().where(c.strategy_id == strategy_id)
                 .order_by(c.close_time.desc(), c.id.desc()).limit(1))
        with self.engine.connect() as conn:  # the revision first: a change between the two reads is stale
            revision = conn.execute(sa.select(strategies.c.book_revision)
                                    .where(strategies.c.id == strategy_id)).scalar()
            row = conn.execute(query).first()
        if row is None:
            return None
        return CloseRecord(version=row.version, close_time=row.close_time,
                           state=EngineState.model_validate_json(row.state),
                           events=[LimitEvent.model_validate(e) for e in json.loads(row.events)], revision=revision)

    def book_revision(self, strategy_id: str) -> int | None:
        """The book's revision now (a first close passes it: no close to read it from yet)."""
        with self.engine.connect() as conn:
            return conn.execute(sa.select(strategies.c.book_revision).where(strategies.c.id == strategy_id)).scalar()

    def closes(self, strategy_id: str) -> list[dict]:
        """Every close, oldest first: version, close time, events and the forecasts traded on (for checks)."""
        c = strategy_closes.c
        query = (sa.select(c.version, c.close_time, c.events, c.forecasts).where(c.strategy_id == strategy_id)
                 .order_by(c.close_time, c.id))
        with self.engine.connect() as conn:
            return [{"version": r.version, "close_time": r.close_time, "events": json.loads(r.events),
                     "forecasts": None if r.forecasts is None else json.loads(r.forecasts)}
                    for r in conn.execute(query)]

    def first_close_version(self, strategy_id: str) -> int | None:
        """The version the book started under (its capital is what returns count from)."""
        c = strategy_closes.c
        with self.engine.connect() as conn:
            return conn.execute(sa.select(c.version).where(c.strategy_id == strategy_id)
                                .order_by(c.close_time, c.id).limit(1)).scalar()

    def lift_halt(self, strategy_id: str, state: EngineState, event: LimitEvent, revision: int) -> None:
        """Resume: the newest close's state without its halt (``Engine.resume`` made it from the close read
        at ``revision``; ``StaleBook`` when the book changed since), the resume among that close's events,
        and the strategy running again."""
        c = strategy_closes.c
        with self.engine.begin() as conn:
            self._advance(conn, strategy_id, revision)
            row = conn.execute(sa.select(c.id, c.events).where(c.strategy_id == strategy_id)
                               .order_by(c.close_time.desc(), c.id.desc()).limit(1)).first()
            if row is not None:
                events = [*json.loads(row.events), event.model_dump()]
                conn.execute(strategy_closes.update().where(c.id == row.id)
                             .values(state=state.model_dump_json(), events=json.dumps(events)))
            conn.execute(strategies.update().where(strategies.c.id == strategy_id)
                         .values(status="running", halt_reason=None, updated_at=self.clock()))

    def events(self, strategy_id: str, *, since_ms: int | None = None, limit: int = 100) -> list[LimitEvent]:
        """Limit events of every close, newest first. ``since`` filters the events, not the closes: a resume
        joins the newest close's events with its own (later) time."""
        c = strategy_closes.c
        query = (sa.select(c.events).where(c.strategy_id == strategy_id, c.events != "[]")
                 .order_by(c.close_time.desc(), c.id.desc()).limit(limit))
        with self.engine.connect() as conn:
            rows = [json.loads(r[0]) for r in conn.execute(query)]
        found = [LimitEvent.model_validate(e) for events in rows for e in reversed(events)]
        return [e for e in found if since_ms is None or e.time >= since_ms][:limit]

    def trades(self, strategy_id: str, *, since_ms: int | None = None, limit: int = 100) -> list[dict]:
        """Fills, newest first."""
        t = strategy_trades.c
        query = (strategy_trades.select().where(t.strategy_id == strategy_id)
                 .order_by(t.time.desc(), t.id.desc()).limit(limit))
        if since_ms is not None:
            query = query.where(t.time >= since_ms)
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(query)]

    def equity(self, strategy_id: str, *, since_ms: int | None = None, limit: int | None = None) -> list[dict]:
        """Equity points, oldest first (the newest ``limit`` when given)."""
        e = strategy_equity.c
        query = strategy_equity.select().where(e.strategy_id == strategy_id).order_by(e.time.desc(), e.id.desc())
        if since_ms is not None:
            query = query.where(e.time >= since_ms)
        if limit is not None:
            query = query.limit(limit)
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(query)][::-1]

    def equity_values(self, strategy_id: str) -> list[float]:
        """The whole equity curve, oldest first (for Sharpe and drawdown)."""
        e = strategy_equity.c
        with self.engine.connect() as conn:
            return [r[0] for r in conn.execute(sa.select(e.equity).where(e.strategy_id == strategy_id)
                                               .order_by(e.time, e.id))]
