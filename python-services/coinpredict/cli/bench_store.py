"""The candle stores side by side: the top-100 path reads 100 symbols per request (``read_many``), so
this times it for 100 symbols x 1,000 candles on the embedded SQLite store and on the PostgreSQL store of
``--database-url``, with the write of those candles (one upsert per symbol), the same read one symbol at
a time, and the summary /health and the refresher ask for beside it.

The PostgreSQL database is one the bench may write to: it adds the candles of 100 symbols named
``BENCH<n>USDT`` on the timeframe 1h and deletes them after."""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import sqlalchemy as sa

from coinpredict.data.candles import EXTRA_COLUMNS, Candles
from coinpredict.data.store import CandleStore
from coinpredict.data.store_pg import PostgresCandleStore

H = 3_600_000


def bench_candles(symbols: int, n: int) -> list[Candles]:
    rng = np.random.default_rng(0)
    t = 1_700_000_000_000 // H * H + H * np.arange(n, dtype=np.int64)
    out = []
    for i in range(symbols):
        close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, n)))
        extra = {k: rng.random(n) * 1e6 for k in EXTRA_COLUMNS}
        out.append(Candles.from_arrays(f"BENCH{i}USDT", "1h", t, close, close * 1.01, close * 0.99, close,
                                       rng.random(n) * 1e3, extra=extra, source="bench"))
    return out


def timed(fn, repeat: int) -> float:
    runs = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - t0)
    return statistics.median(runs)


def measure(store, series: list[Candles], last: int, repeat: int) -> dict[str, float]:
    names = [c.symbol for c in series]
    write = timed(lambda: [store.upsert(c) for c in series], 1)
    got = store.read_many(names, "1h", last)
    assert all(len(got[s]) == min(last, len(series[0])) for s in names), "the bench read fewer candles than written"
    return {"write": write, "read_many": timed(lambda: store.read_many(names, "1h", last), repeat),
            "read_each": timed(lambda: [store.read(s, "1h", last=last) for s in names], repeat),
            "summary": timed(lambda: store.summary("1h", EXTRA_COLUMNS), repeat)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--database-url", required=True, help="a PostgreSQL SQLAlchemy URL the bench may write to")
    ap.add_argument("--symbols", type=int, default=100)
    ap.add_argument("--candles", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=7)
    args = ap.parse_args()
    series = bench_candles(args.symbols, args.candles)
    with tempfile.TemporaryDirectory() as tmp:
        results = {"sqlite": measure(CandleStore(Path(tmp) / "bench.sqlite"), series, args.candles, args.repeat)}
    pg = PostgresCandleStore(args.database_url)
    try:
        results["postgresql"] = measure(pg, series, args.candles, args.repeat)
    finally:
        with pg.engine.begin() as conn:
            for table in ("candles", "series"):
                conn.execute(sa.text(f"DELETE FROM {table} WHERE timeframe = '1h' AND symbol LIKE 'BENCH%USDT'"))
    print(f"{args.symbols} symbols x {args.candles} candles (median of {args.repeat}; seconds)")
    print(f"{'store':<12}{'write':>10}{'read_many':>12}{'read x ' + str(args.symbols):>14}{'summary':>10}")
    for name, r in results.items():
        print(f"{name:<12}{r['write']:>10.3f}{r['read_many']:>12.3f}{r['read_each']:>14.3f}{r['summary']:>10.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
