#!/usr/bin/env python
"""A documented command: runs coinpredict.cli.bench_data (also `python -m coinpredict.cli.bench_data`)."""

from coinpredict.cli.bench_data import main

if __name__ == "__main__":
    raise SystemExit(main())
