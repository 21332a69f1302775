#!/usr/bin/env python
"""A documented command: runs coinpredict.cli.backtest (also `python -m coinpredict.cli.backtest`)."""

from coinpredict.cli.backtest import main

if __name__ == "__main__":
    raise SystemExit(main())
