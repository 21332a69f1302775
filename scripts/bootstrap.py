#!/usr/bin/env python
"""A documented command: runs coinpredict.cli.bootstrap (also `python -m coinpredict.cli.bootstrap`)."""

from coinpredict.cli.bootstrap import main

if __name__ == "__main__":
    raise SystemExit(main())
