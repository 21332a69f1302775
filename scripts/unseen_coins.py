#!/usr/bin/env python
"""A documented command: runs coinpredict.cli.unseen_coins (also `python -m coinpredict.cli.unseen_coins`)."""

from coinpredict.cli.unseen_coins import main

if __name__ == "__main__":
    raise SystemExit(main())
