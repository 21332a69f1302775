#!/usr/bin/env python
"""A documented command: runs coinpredict.cli.train (also `python -m coinpredict.cli.train`)."""

from coinpredict.cli.train import main

if __name__ == "__main__":
    raise SystemExit(main())
