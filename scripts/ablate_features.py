#!/usr/bin/env python
"""A documented command: runs coinpredict.cli.ablate_features (also `python -m coinpredict.cli.ablate_features`)."""

from coinpredict.cli.ablate_features import main

if __name__ == "__main__":
    raise SystemExit(main())
