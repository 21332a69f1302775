"""What a serving process keeps out of memory. Boosters serve through their native ``Booster`` objects,
yet XGBoost and LightGBM import scikit-learn (and with it most of scipy) whenever it is installed, only
for the sklearn-style wrappers serving never uses: about 40-60 MB per web worker. A module marked absent
in ``sys.modules`` fails their guarded import exactly as if it were not installed, so they load without
it. Training and evaluation, which run in other processes, keep it."""

from __future__ import annotations

import sys

NOT_FOR_SERVING = ("sklearn",)


def leave_out_training_libraries() -> None:
    """Called by a web worker right after it forks, before it imports the service."""
    for name in NOT_FOR_SERVING:
        if name not in sys.modules:
            sys.modules[name] = None  # type: ignore[assignment]  # Python's documented "not importable"
