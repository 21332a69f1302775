#!/usr/bin/env python
"""A documented command: runs coinpredict.cli.bench_models (also `python -m coinpredict.cli.bench_models`)."""

from coinpredict.cli.bench_models import main

if __name__ == "__main__":
    raise SystemExit(main())
