"""Every table the service declares (jobs, the ledger, strategies, the candle store's): what autogenerate
and the tests compare a migrated database with. Imported only for comparing (importing the jobs package
brings in training): upgrading needs none."""

from __future__ import annotations

from ..data.store_pg import metadata as candles_metadata
from ..jobs.store import metadata as jobs_metadata
from ..ledger.store import metadata as ledger_metadata
from ..strategy.store import metadata as strategy_metadata

TARGET_METADATA = (jobs_metadata, ledger_metadata, strategy_metadata, candles_metadata)
