"""The prediction ledger: what the service answered (``recorder``, off the request path), what then
happened (``outcomes``), and the live skill that follows (``live``)."""

from .live import live_detail, live_metrics
from .outcomes import score_due
from .recorder import Recorder, rows_of
from .store import LedgerStore

__all__ = ["LedgerStore", "Recorder", "live_detail", "live_metrics", "rows_of", "score_due"]
