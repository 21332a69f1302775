"""The prediction ledger: every prediction the service answered, and once its outcome candle has closed,
what happened. One table through SQLAlchemy (the same database as the job records: ``DATABASE_URL``).

A prediction is identified by (model, model version, symbol, timeframe, horizon, as_of): asking twice
for the same candle records one row, so the live metrics count each forecast once."""

from __future__ import annotations

import numpy as np
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from ..common.database import make_engine
from ..common.migrate import upgrade_to_head
from ..data.timeframes import TIMEFRAME_MS
from ..models.move import QUANTILE_NAMES

metadata = sa.MetaData()  # a change to its tables needs a migration (coinpredict/migrations)
predictions = sa.Table(
    "predictions", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("model", sa.String(64), nullable=False),
    sa.Column("model_version", sa.String(80), nullable=False),
    sa.Column("symbol", sa.String(40), nullable=False),
    sa.Column("timeframe", sa.String(8), nullable=False),
    sa.Column("horizon", sa.Integer, nullable=False),
    sa.Column("as_of", sa.BigInteger, nullable=False),  # open time of the last candle used, ms
    sa.Column("probability_up", sa.Float, nullable=False),
    sa.Column("signal", sa.String(8), nullable=False),
    sa.Column("recorded_at", sa.Float, nullable=False),
    sa.Column("outcome_up", sa.Boolean),
    sa.Column("return_bps", sa.Float),
    sa.Column("scored_at", sa.Float),
    # The answer's move (migration 0002): return quantiles over the horizon, bps, and "model" or "rule";
    # null for rows recorded before, and for an ensemble's members (centred on the answer's probability).
    *[sa.Column(f"{name}_bps", sa.Float) for name in QUANTILE_NAMES],
    sa.Column("move_source", sa.String(8)),
    # The relative target (migration 0007): null for rows recorded before and models trained without it.
    sa.Column("probability_outperform", sa.Float),
    sa.Column("outcome_outperform", sa.Boolean),
    # The answer's expected move (migration 0008): what its signal and edge were computed from, so the live
    # strategies trade a recorded forecast as served (null for rows recorded before).
    sa.Column("expected_move_bps", sa.Float),
    sa.Column("move_version", sa.String(80)),  # the move model's version that gave it; null: the rule
    sa.UniqueConstraint("model", "model_version", "symbol", "timeframe", "horizon", "as_of", name="one_forecast"),
    sa.Index("by_model", "model", "timeframe", "as_of"),
    sa.Index("unscored", "scored_at", "timeframe", "symbol"),
    sa.Index("by_recorded", "recorded_at"),
)
QUANTILE_FIELDS = tuple(f"{name}_bps" for name in QUANTILE_NAMES)
FIELDS = ("model", "model_version", "symbol", "timeframe", "horizon", "as_of", "probability_up", "signal",
          "recorded_at", *QUANTILE_FIELDS, "move_source", "probability_outperform",
          "expected_move_bps", "move_version")


class LedgerStore:
    def __init__(self, url: str):
        self.engine = make_engine(url)
        upgrade_to_head(self.engine)

    def append(self, rows: list[dict]) -> None:
        """Insert, ignoring a forecast already recorded (one statement for the whole batch)."""
        if not rows:
            return
        dialect = self.engine.dialect.name
        insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(predictions)
        with self.engine.begin() as conn:
            conn.execute(insert.on_conflict_do_nothing(), [{k: r.get(k) for k in FIELDS} for r in rows])

    def forecasts_at(self, model: str, timeframe: str, horizon: int, as_of: int, symbols: list[str]) -> list[dict]:
        """The forecasts recorded for one close (``as_of``: its candle's open time), the newest per symbol,
        among those that kept their expected move (what a live strategy trades them with)."""
        c = predictions.c
        query = predictions.select().where(c.model == model, c.timeframe == timeframe, c.horizon == horizon,
                                           c.as_of == as_of, c.symbol.in_(list(symbols)),
                                           c.expected_move_bps.is_not(None)).order_by(c.symbol, c.id)
        newest: dict[str, dict] = {}
        with self.engine.connect() as conn:
            for row in conn.execute(query):
                newest[row.symbol] = dict(row._mapping)
        return list(newest.values())

    def unscored(self, *, now_ms: int, limit: int = 50_000) -> list[dict]:
        """Forecasts not yet scored whose outcome candle has closed by ``now_ms``."""
        c = predictions.c
        due = sa.or_(*[sa.and_(c.timeframe == tf, c.as_of + sa.cast(c.horizon + 1, sa.BigInteger) * step <= now_ms)
                       for tf, step in TIMEFRAME_MS.items()])
        query = predictions.select().where(predictions.c.scored_at.is_(None), due).order_by(
            predictions.c.symbol, predictions.c.as_of).limit(limit)
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(query)]

    def score(self, outcomes: list[dict], scored_at: float) -> None:
        """``outcomes``: {"id", "outcome_up", "return_bps", "outcome_outperform"?}."""
        if not outcomes:
            return
        stmt = predictions.update().where(predictions.c.id == sa.bindparam("row_id")).values(
            outcome_up=sa.bindparam("up"), return_bps=sa.bindparam("bps"),
            outcome_outperform=sa.bindparam("beat"), scored_at=scored_at)
        with self.engine.begin() as conn:
            conn.execute(stmt, [{"row_id": o["id"], "up": o["outcome_up"], "bps": o["return_bps"],
                                 "beat": o.get("outcome_outperform")} for o in outcomes])

    def history(self, *, symbol: str | None = None, timeframe: str | None = None, model: str | None = None,
                horizon: int | None = None, since_ms: int | None = None, limit: int = 100) -> list[dict]:
        query = predictions.select().order_by(predictions.c.as_of.desc(), predictions.c.id.desc()).limit(limit)
        for column, value in (("symbol", symbol), ("timeframe", timeframe), ("model", model), ("horizon", horizon)):
            if value is not None:
                query = query.where(predictions.c[column] == value)
        if since_ms is not None:
            query = query.where(predictions.c.as_of >= since_ms)
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(query)]

    def recent_symbols(self, since: float) -> dict[str, set[str]]:
        """{timeframe: symbols} answered at or after ``since`` (clock seconds): what to keep fresh."""
        query = sa.select(predictions.c.timeframe, predictions.c.symbol).where(
            predictions.c.recorded_at >= since).distinct()
        out: dict[str, set[str]] = {}
        with self.engine.connect() as conn:
            for tf, symbol in conn.execute(query):
                out.setdefault(tf, set()).add(symbol)
        return out

    def _scored_where(self, model: str, timeframe: str, horizon: int, since_ms: int) -> list:
        c = predictions.c
        return [c.model == model, c.timeframe == timeframe, c.horizon == horizon, c.as_of >= since_ms,
                c.scored_at.is_not(None), c.outcome_up.is_not(None)]

    def scored(self, model: str, timeframe: str, horizon: int, since_ms: int) -> dict[str, np.ndarray]:
        """Scored forecasts of one model, timeframe and horizon made at or after ``since_ms``, as columns
        (probability_up, outcome_up as 0/1, as_of, and the relative target's probability_outperform and
        outcome_outperform, NaN where null): tens of thousands of rows, so no per-row objects."""
        c = predictions.c
        query = sa.select(c.probability_up, sa.cast(c.outcome_up, sa.Integer), c.as_of, c.probability_outperform,
                          sa.cast(c.outcome_outperform, sa.Integer)).where(
            *self._scored_where(model, timeframe, horizon, since_ms))
        with self.engine.connect() as conn:
            columns = list(zip(*conn.execute(query).all())) or [()] * 5

        def floats(values) -> np.ndarray:
            return np.array([np.nan if v is None else v for v in values], dtype=np.float64)

        return {"probability_up": np.array(columns[0], dtype=np.float64),
                "outcome_up": np.array(columns[1], dtype=np.float64), "as_of": np.array(columns[2], dtype=np.int64),
                "probability_outperform": floats(columns[3]), "outcome_outperform": floats(columns[4])}

    def scored_marker(self, model: str, timeframe: str, horizon: int, since_ms: int) -> tuple[int, float | None]:
        """(count, last scoring time) of what ``scored`` would read: it changes whenever that set does
        (a forecast scored raises the time, one leaving the window lowers the count)."""
        query = sa.select(sa.func.count(), sa.func.max(predictions.c.scored_at)).where(
            *self._scored_where(model, timeframe, horizon, since_ms))
        with self.engine.connect() as conn:
            count, last = conn.execute(query).one()
        return int(count), last
