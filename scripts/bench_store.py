#!/usr/bin/env python
"""A documented command: runs coinpredict.cli.bench_store (also `python -m coinpredict.cli.bench_store`)."""

from coinpredict.cli.bench_store import main

if __name__ == "__main__":
    raise SystemExit(main())
