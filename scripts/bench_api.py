#!/usr/bin/env python
"""A documented command: runs coinpredict.cli.bench_api (also `python -m coinpredict.cli.bench_api`)."""

from coinpredict.cli.bench_api import main

if __name__ == "__main__":
    raise SystemExit(main())
