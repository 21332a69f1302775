#!/usr/bin/env python
"""A documented command: runs coinpredict.cli.evaluate (also `python -m coinpredict.cli.evaluate`)."""

from coinpredict.cli.evaluate import main

if __name__ == "__main__":
    raise SystemExit(main())
