#!/usr/bin/env python
"""A documented command: runs coinpredict.cli.bench_fanout (also `python -m coinpredict.cli.bench_fanout`)."""

from coinpredict.cli.bench_fanout import main

if __name__ == "__main__":
    raise SystemExit(main())
