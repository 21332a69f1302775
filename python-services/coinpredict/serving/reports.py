"""Published evaluation reports (``evaluation.publish``), read per request for ``GET /evaluation``.

Each file is read again only when its modification time or size changed, so a report published
while the service runs shows on the next request, and a request costs a few stat calls. Nothing here
names a server path in what it raises: the messages go to clients as they are."""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from dataclasses import dataclass
from pathlib import Path

from ..data.timeframes import TIMEFRAMES
from ..evaluation.publish import FOLDER, HORIZON_DIR, METRICS_FILE, PLOT, POINTER, REPORTS_DIR, report_root

log = logging.getLogger(__name__)
SUPERSEDED_RETRIES = 100  # newer publications that may land while one request reads (each a retry)
DEFAULT = ("1h", 1)  # the report a request without a choice gets, when it is published
CACHE_ENTRIES = 64


class ReportUnreadable(Exception):
    """A published report that cannot be read (corrupt, cut short, or not a report); the message says
    which file and why, without its path."""


@dataclass(frozen=True)
class Plot:
    data: bytes
    etag: str
    modified: float


def _check(body, timeframe: str, horizon: int) -> None:
    """Refuse what is not an evaluation report of this timeframe and horizon."""
    if not isinstance(body, dict):
        raise ValueError("not a JSON object")
    if body.get("timeframe") != timeframe or body.get("horizon") != horizon:
        raise ValueError("its timeframe or horizon is not the folder's")
    for key, kind in (("start", str), ("end", str), ("models", dict), ("symbols", list)):
        if not isinstance(body.get(key), kind):
            raise ValueError(f"{key!r} is missing or of the wrong type")
    plots = body.get("plots", [])
    if not isinstance(plots, list) or not all(isinstance(p, dict) and isinstance(p.get("name"), str)
                                              and isinstance(p.get("title"), str) for p in plots):
        raise ValueError("'plots' is not a list of {name, title}")
    for group in ("models", "baselines"):
        if not all(isinstance(v, dict) for v in (body.get(group) or {}).values()):
            raise ValueError(f"an entry of {group!r} is not an object")


class PublishedReports:
    """The reports published under ``models_dir``."""

    def __init__(self, models_dir: Path):
        self.models_dir = Path(models_dir)
        self._cache: dict[Path, tuple[tuple, object]] = {}
        self._lock = threading.Lock()

    def _cached(self, path: Path, read):
        """``read(path)``'s value, read again only when the file's stamp changed; OSError when absent."""
        st = path.stat()
        stamp = (st.st_mtime_ns, st.st_size, st.st_ino)
        with self._lock:
            hit = self._cache.get(path)
        if hit and hit[0] == stamp:
            return hit[1]
        value = read(path)
        with self._lock:
            if len(self._cache) >= CACHE_ENTRIES:
                self._cache.clear()
            self._cache[path] = (stamp, value)
        return value

    def published(self) -> list[tuple[str, int]]:
        """(timeframe, horizon) of every report CURRENT names, timeframes in their order, horizons ascending."""
        found = []
        for tf in TIMEFRAMES:
            root = self.models_dir / tf / REPORTS_DIR
            try:
                names = [p.name for p in root.iterdir()]
            except OSError:
                continue
            horizons = sorted(int(m[1]) for m in map(HORIZON_DIR.match, names) if m)
            found += [(tf, h) for h in horizons if (report_root(self.models_dir, tf, h) / POINTER).is_file()]
        return found

    def default(self) -> tuple[str, int] | None:
        """The report to show when none is asked for: 1h at horizon 1, else the first published."""
        published = self.published()
        return DEFAULT if DEFAULT in published else (published[0] if published else None)

    def _folder(self, timeframe: str, horizon: int) -> Path | None:
        root = report_root(self.models_dir, timeframe, horizon)
        try:
            name = (root / POINTER).read_text().strip()
        except OSError:
            return None
        if not FOLDER.match(name):
            raise ReportUnreadable(f"the {timeframe} horizon {horizon} report's CURRENT names no report folder")
        return root / name

    def report(self, timeframe: str, horizon: int) -> dict | None:
        """The current report (with its ``plots`` list), None when none is published; ReportUnreadable when
        one is and cannot be read."""
        found = self._current(timeframe, horizon)
        return None if found is None else found[1]

    def _current(self, timeframe: str, horizon: int) -> tuple[Path, dict] | None:
        """(folder, report) that CURRENT names. A folder removed between reading CURRENT and reading it was
        superseded by newer publications (two kept): the newer one is read instead, never an error."""
        for _ in range(SUPERSEDED_RETRIES):
            folder = self._folder(timeframe, horizon)
            if folder is None:
                return None
            try:
                return folder, self._read_report(folder, timeframe, horizon)
            except FileNotFoundError:
                if self._folder(timeframe, horizon) == folder:
                    break
        raise ReportUnreadable(f"the {timeframe} horizon {horizon} report's {METRICS_FILE} is missing")

    def _read_report(self, folder: Path, timeframe: str, horizon: int) -> dict:
        def read(path: Path) -> dict:
            body = json.loads(path.read_text())
            _check(body, timeframe, horizon)
            return body

        what = f"the {timeframe} horizon {horizon} report's {METRICS_FILE}"
        try:
            return self._cached(folder / METRICS_FILE, read)
        except FileNotFoundError:
            raise
        except (OSError, UnicodeDecodeError) as exc:
            log.warning("%s unreadable: %s", folder / METRICS_FILE, exc)
            raise ReportUnreadable(f"{what} cannot be read") from None
        except ValueError as exc:  # JSONDecodeError included
            log.warning("%s refused: %s", folder / METRICS_FILE, exc)
            reason = "is not valid JSON" if isinstance(exc, json.JSONDecodeError) else f"is not a report ({exc})"
            raise ReportUnreadable(f"{what} {reason}") from None

    def summaries(self) -> list[dict]:
        """Every readable published report: timeframe, horizon, start, end, evaluated_at."""
        out = []
        for tf, h in self.published():
            try:
                body = self.report(tf, h)
            except ReportUnreadable as exc:
                log.warning("left out of the listing: %s", exc)
                continue
            if body is not None:
                out.append({"timeframe": tf, "horizon": h, "start": body["start"], "end": body["end"],
                            "evaluated_at": body.get("evaluated_at")})
        return out

    def plot(self, timeframe: str, horizon: int, name: str) -> Plot | None:
        """One plot of the current report: only a name its plot list holds (no path can be formed from
        the request); None when there is no such plot."""
        if not PLOT.match(name):
            return None

        def read(path: Path) -> Plot:
            data = path.read_bytes()
            return Plot(data, hashlib.sha256(data).hexdigest()[:32], path.stat().st_mtime)

        for _ in range(SUPERSEDED_RETRIES):  # the plot of the report read, from its own folder
            found = self._current(timeframe, horizon)
            if found is None or name not in {p["name"] for p in found[1].get("plots", [])}:
                return None
            try:
                return self._cached(found[0] / name, read)
            except FileNotFoundError:
                if self._folder(timeframe, horizon) == found[0]:
                    return None
            except OSError:
                return None
        return None
