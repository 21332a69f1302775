"""Symbol normalisation: every accepted spelling maps to the exchange form (``BTCUSDT``)."""

from __future__ import annotations

import re

QUOTES = ("FDUSD", "USDT", "USDC", "BUSD", "TUSD")
DEFAULT_QUOTE = "USDT"
_SEPARATORS = re.compile(r"[/_\-:\s]+")
_VALID = re.compile(r"^[A-Z0-9]{2,20}$")


def normalise_symbol(raw: str) -> str:
    """``btc``, ``BTC/USDT``, ``btc-usdt`` -> ``BTCUSDT``; raises ValueError on anything else.

    Symbols are ASCII: Unicode case mapping would turn ``ſhib`` into ``SHIB`` and ``ß`` into ``SS``."""
    if not isinstance(raw, str):
        raise ValueError("symbol must be a string")
    if not raw.isascii():
        raise ValueError(f"cannot read symbol {raw!r}: symbols are ASCII letters and digits")
    text = raw.strip().upper()
    parts = [p for p in _SEPARATORS.split(text) if p]
    if len(parts) == 2:
        base, quote = parts
    elif len(parts) == 1:
        base, quote = parts[0], ""
        for q in QUOTES:
            if base.endswith(q) and len(base) > len(q):
                base, quote = base[: -len(q)], q
                break
    else:
        raise ValueError(f"cannot read symbol {raw!r}")
    symbol = base + (quote or DEFAULT_QUOTE)
    if not _VALID.match(symbol) or not base:
        raise ValueError(f"cannot read symbol {raw!r}")
    return symbol


def base_asset(symbol: str) -> str:
    for q in QUOTES:
        if symbol.endswith(q) and len(symbol) > len(q):
            return symbol[: -len(q)]
    return symbol
