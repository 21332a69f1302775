"""Training jobs: records in a database (``store``), execution on a task queue (``queue``), the
training run itself (``runner``)."""

from .queue import JobQueue
from .store import JobStore

__all__ = ["JobQueue", "JobStore"]
