"""Start the Procfile's lines (web on a loopback port, worker) exactly as a deployment runs them; the
end-to-end tests and the HTTP benchmark use this."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager

import requests

from .config import REPO_ROOT


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def procfile_command(name: str) -> str:
    line = next(ln for ln in (REPO_ROOT / "Procfile").read_text().splitlines() if ln.startswith(f"{name}:"))
    return line.split(":", 1)[1].strip()


def procfile_web_command(host: str = "127.0.0.1") -> str:
    return procfile_command("web").replace("0.0.0.0", host)


def stop_group(proc: subprocess.Popen, sig: int = signal.SIGTERM, wait_s: float = 20) -> None:
    """Stop a process started in its own session, and everything it started."""
    try:
        os.killpg(proc.pid, sig)
    except ProcessLookupError:
        return
    try:
        proc.wait(wait_s)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(5)


def _tail(out, size: int = 2000) -> str:
    """The end of captured output (empty when it was not captured)."""
    if out is None:
        return ""
    out.seek(0)
    return out.read().decode(errors="replace")[-size:]


@contextmanager
def procfile_worker(env: dict[str, str]) -> Iterator[subprocess.Popen]:
    """Yield the Procfile's worker line, running; it is stopped after."""
    proc = subprocess.Popen(["bash", "-c", procfile_command("worker")], cwd=REPO_ROOT, env={**os.environ, **env},
                            start_new_session=True)
    try:
        yield proc
    finally:
        stop_group(proc)


@contextmanager
def procfile_server(env: dict[str, str], *, start_timeout: float = 240,
                    capture_output: bool = False) -> Iterator[tuple[str, subprocess.Popen]]:
    """Yield (base URL, process) once ``/health`` answers; the whole process group is stopped after.

    ``start_timeout`` is a deadline, not an expectation: each worker loads every model before it answers,
    which takes minutes on a loaded machine. Captured output goes to a temporary file, not a pipe that
    nobody reads while the server runs (a full pipe would block the server's logging, and so its answers)."""
    port = free_port()
    out = tempfile.TemporaryFile() if capture_output else None
    proc = subprocess.Popen(["bash", "-c", procfile_web_command()], cwd=REPO_ROOT,
                            env={**os.environ, **env, "PORT": str(port)}, start_new_session=True,
                            stdout=out, stderr=subprocess.STDOUT if capture_output else None)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + start_timeout
        while True:
            try:
                requests.get(f"{base}/health", timeout=5)
                break
            except (requests.ConnectionError, requests.Timeout):
                if proc.poll() is not None or time.time() > deadline:
                    raise RuntimeError(f"the web command did not start: {_tail(out)}") from None
                time.sleep(0.3)
        yield base, proc
    finally:
        stop_group(proc)
        if out is not None:
            out.close()
