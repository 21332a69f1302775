"""UTC times as the service writes them: ISO text <-> epoch milliseconds."""

from __future__ import annotations

from datetime import UTC, datetime


def to_ms(text: str | None) -> int | None:
    """ISO date or datetime (naive means UTC) -> epoch ms; ``None`` passes through."""
    if text is None:
        return None
    dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return int(dt.timestamp() * 1000)


def iso(ms: int) -> str:
    """Epoch ms -> ``YYYY-MM-DDTHH:MM:SSZ``."""
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
