"""The top-100 coin universe: live market-cap ranking when reachable, else a bundled list."""

from __future__ import annotations

import logging
import threading
import time

import requests

log = logging.getLogger(__name__)

BUNDLED_DATE = "2025-06-30"
# The 100 largest coins by market capitalisation on BUNDLED_DATE, largest first.
BUNDLED_TOP100 = (
    "BTC ETH USDT XRP BNB SOL USDC TRX DOGE ADA HYPE BCH SUI LINK LEO XLM AVAX TON SHIB LTC "
    "HBAR XMR DOT USDE DAI BGB UNI PI PEPE AAVE OKB TAO APT CRO NEAR ICP ETC ONDO MNT POL "
    "GT KAS TRUMP VET SKY ENA RENDER FET FIL ARB ATOM ALGO WLD KCS JUP QNT SEI INJ FLR TIA "
    "BONK XDC STX IP OP VIRTUAL FORM IMX CAKE PAXG GRT CRV FARTCOIN XAUT NEXO ZEC LDO PENGU KAIA "
    "JASMY THETA SAND IOTA PYTH WIF GALA ENS XTZ FLOKI RAY JTO BSV HNT MANA EGLD RUNE CFX NEO "
    "AXS CHZ"
).split()
STABLECOINS = frozenset({"USDT", "USDC", "USDE", "DAI", "FDUSD", "TUSD", "USDS", "PYUSD", "BUSD", "USD1", "USDD"})


class Universe:
    """Ranked base assets (stablecoins removed); says which list it came from."""

    def __init__(self, live_url: str | None = None, *, ttl_s: float = 3600.0, timeout_s: float = 3.0):
        self.live_url = live_url
        self.ttl_s = ttl_s
        self.timeout_s = timeout_s
        self._cached: tuple[float, list[str], str] | None = None
        self._lock = threading.Lock()

    def top(self, limit: int = 100) -> tuple[list[str], str]:
        with self._lock:
            if self._cached and time.time() - self._cached[0] < self.ttl_s:
                coins, origin = self._cached[1], self._cached[2]
            else:
                coins, origin = self._load()
                self._cached = (time.time(), coins, origin)
        return coins[:limit], origin

    def _load(self) -> tuple[list[str], str]:
        if self.live_url:
            try:
                resp = requests.get(self.live_url, params={"vs_currency": "usd", "order": "market_cap_desc",
                                                           "per_page": 120, "page": 1}, timeout=self.timeout_s)
                resp.raise_for_status()
                coins = [str(c["symbol"]).upper() for c in resp.json()]
                ranked = [c for c in dict.fromkeys(coins) if c not in STABLECOINS]
                if len(ranked) >= 50:
                    return ranked, "live market-cap ranking"
            except (requests.RequestException, ValueError, KeyError, TypeError) as exc:
                log.info("live universe unavailable (%s); using the bundled list", exc)
        return [c for c in BUNDLED_TOP100 if c not in STABLECOINS], f"bundled top-100 list of {BUNDLED_DATE}"
