#!/usr/bin/env python
"""A documented command: runs coinpredict.cli.replay (also `python -m coinpredict.cli.replay`)."""

from coinpredict.cli.replay import main

if __name__ == "__main__":
    raise SystemExit(main())
