"""Atomic writes: a reader sees the old file or the new one, never half of one; a folder appears whole
or not at all."""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
from collections.abc import Callable
from pathlib import Path

TMP_PREFIX = ".tmp-"  # a folder being written; one a killed writer left is debris for its owner to clear


def _writer_tag() -> str:
    """``<pid>@<host>@``: who writes a temporary folder, so a sweep can tell a dead writer's at once."""
    return f"{os.getpid()}@{socket.gethostname()}@"


def writer_is_dead(name: str) -> bool:
    """Whether the temporary folder ``name`` was left by a process of this host that no longer runs (a
    folder of another host, or of an unknown writer, is not known to be dead)."""
    pid, _, rest = name.removeprefix(TMP_PREFIX).partition("@")
    host = rest.partition("@")[0]
    if not pid.isdigit() or host != socket.gethostname():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, someone else's
        return False
    return False


def write_atomic_text(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def write_folder_atomically(root: Path, write: Callable[[Path], str]) -> Path:
    """``write(tmp)`` fills a hidden temporary folder in ``root`` and returns the name it is to have; the
    folder is then renamed into place (replacing one of that name) and returned. On any failure the
    temporary folder is removed and nothing appears."""
    tmp = Path(tempfile.mkdtemp(dir=root, prefix=TMP_PREFIX + _writer_tag()))
    try:
        final = root / write(tmp)
        if final.exists():
            shutil.rmtree(final)
        os.rename(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final
