#!/usr/bin/env python
"""A documented command: runs coinpredict.cli.select_features (also `python -m coinpredict.cli.select_features`)."""

from coinpredict.cli.select_features import main

if __name__ == "__main__":
    raise SystemExit(main())
