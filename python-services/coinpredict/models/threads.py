"""Inference threads of this process. A web worker sets them once after it forks (gunicorn's
``post_fork``): one intra-op thread per model by default, since gunicorn's workers and their threads
already run requests side by side. Training and scripts leave torch's own setting alone."""

from __future__ import annotations

import os

_torch_threads: int | None = None


def serve_with(torch_threads: int) -> None:
    """Torch threads for any network this process loads through torch (a version without a graph)."""
    global _torch_threads
    _torch_threads = max(1, torch_threads)


def torch_threads() -> int | None:
    """The torch thread count a serving process asked for; None: leave torch's."""
    return _torch_threads


def ort_threads() -> int:
    """Intra-op threads per ONNX Runtime session: ``ORT_THREADS``, default one."""
    return max(1, int(os.environ.get("ORT_THREADS", "1")))
