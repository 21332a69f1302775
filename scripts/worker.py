#!/usr/bin/env python
"""A documented command: runs coinpredict.cli.worker (also `python -m coinpredict.cli.worker`)."""

from coinpredict.cli.worker import main

if __name__ == "__main__":
    raise SystemExit(main())
