#!/usr/bin/env python
"""A documented command: runs coinpredict.cli.dashboard_tour (also `python -m coinpredict.cli.dashboard_tour`)."""

from coinpredict.cli.dashboard_tour import main

if __name__ == "__main__":
    raise SystemExit(main())
