"""Every table the service declares (jobs, the ledger, strategies): what autogenerate and the tests
compare a migrated database with. Imported only for comparing (importing the jobs package brings in
training): upgrading needs none."""

from __future__ import annotations

from ..jobs.store import metadata as jobs_metadata
from ..ledger.store import metadata as ledger_metadata
from ..strategy.store import metadata as strategy_metadata

TARGET_METADATA = (jobs_metadata, ledger_metadata, strategy_metadata)
