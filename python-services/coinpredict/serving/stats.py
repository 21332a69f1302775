"""Serving figures per model: requests, errors and latency percentiles (last 2048 answers)."""

from __future__ import annotations

import threading
from collections import defaultdict, deque

import numpy as np

from ..models.registry import ENSEMBLE_ID, MODEL_IDS

COUNTED = frozenset(MODEL_IDS) | {ENSEMBLE_ID}  # made-up ids are refused, never counted: memory stays bounded


class ServingStats:
    """Per-model request, error and latency counters (last 2048 latencies for percentiles)."""

    def __init__(self):
        self._lock = threading.Lock()
        self.requests: dict[str, int] = defaultdict(int)
        self.errors: dict[str, int] = defaultdict(int)
        self.latency: dict[str, deque] = defaultdict(lambda: deque(maxlen=2048))

    def record(self, model_id: str, ms: float, ok: bool) -> None:
        if model_id not in COUNTED:
            return
        with self._lock:
            self.requests[model_id] += 1
            if ok:
                self.latency[model_id].append(ms)
            else:
                self.errors[model_id] += 1

    def summary(self, model_id: str) -> dict:
        with self._lock:
            lat = np.array(self.latency[model_id]) if self.latency[model_id] else None
            return {"requests": self.requests[model_id], "errors": self.errors[model_id],
                    "p50_ms": round(float(np.percentile(lat, 50)), 2) if lat is not None else None,
                    "p95_ms": round(float(np.percentile(lat, 95)), 2) if lat is not None else None}
