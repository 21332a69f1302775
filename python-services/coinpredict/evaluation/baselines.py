"""Naive forecasters, and a fitted one, scored in the same run and table as the models."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..data.candles import Candles
from ..data.timeframes import TIMEFRAME_MS


def baseline_probabilities(prev_return: np.ndarray, base_rate_train: float, seed: int = 0) -> dict[str, np.ndarray]:
    """coin_flip: random; always_up: constant above 0.5; majority: constant on the side of the
    training base rate; momentum: the sign of the last return; mean_reversion: its opposite."""
    n = len(prev_return)
    rng = np.random.default_rng(seed)
    sign = np.sign(np.nan_to_num(prev_return))
    return {
        "coin_flip": rng.uniform(0.45, 0.55, n),
        "always_up": np.full(n, 0.52),
        "majority": np.full(n, 0.52 if base_rate_train >= 0.5 else 0.48),
        "momentum": 0.5 + 0.02 * sign,
        "mean_reversion": 0.5 - 0.02 * sign,
    }


FITTED_LAGS = (1, 2, 3)
VOL_CANDLES = 48


def scaled_returns(candles: Candles) -> np.ndarray:
    """(n, 3) returns over the last 1, 2 and 3 candles, each divided by the 1-candle volatility of the 48
    candles before (times sqrt(k)): causal, comparable across coins; 0 where a gap or warm-up leaves none."""
    log_close = np.log(candles.close.astype(np.float64))
    step = TIMEFRAME_MS[candles.timeframe]
    one = np.r_[np.nan, np.diff(log_close)]
    one[1:][np.diff(candles.t) != step] = np.nan
    vol = pd.Series(one).rolling(VOL_CANDLES, min_periods=VOL_CANDLES // 2).std().to_numpy()
    out = np.zeros((len(log_close), len(FITTED_LAGS)))
    for j, k in enumerate(FITTED_LAGS):
        if len(log_close) <= k:
            continue
        move = np.full(len(log_close), np.nan)
        exact = candles.t[k:] - candles.t[:-k] == k * step
        move[k:] = np.where(exact, log_close[k:] - log_close[:-k], np.nan)
        out[:, j] = move / (vol * np.sqrt(k))
    return np.nan_to_num(np.clip(out, -5, 5), nan=0.0)


def _rows_of(candles: Candles | None, times: np.ndarray) -> np.ndarray:
    """``scaled_returns`` of ``candles`` at the candles opening at ``times``; 0 where it has none."""
    out = np.zeros((len(times), len(FITTED_LAGS)))
    if candles is None or not len(candles):
        return out
    at = np.clip(np.searchsorted(candles.t, times), 0, len(candles) - 1)
    found = candles.t[at] == times
    out[found] = scaled_returns(candles)[at[found]]
    return out


def fitted_baseline(series: dict[str, Candles], btc: Candles | None, symbols: list[str], symbol_index: np.ndarray,
                    t: np.ndarray, labels: np.ndarray, train: np.ndarray, test: np.ndarray) -> np.ndarray:
    """The bar a model must clear to show more than short-term reversal: a logistic regression on the coin's
    and BTC's last 1, 2 and 3 volatility-scaled returns, fitted on the ``train`` rows (all labelled before
    the test period) and applied to the ``test`` rows. BTC's columns are 0 where it has no candle."""
    from sklearn.linear_model import LogisticRegression  # evaluation only

    rows = np.r_[train, test]
    x = np.zeros((len(rows), 2 * len(FITTED_LAGS)))
    for s in np.unique(symbol_index[rows]):
        mine = symbol_index[rows] == s
        x[mine, :len(FITTED_LAGS)] = _rows_of(series.get(symbols[s]), t[rows[mine]])
    x[:, len(FITTED_LAGS):] = _rows_of(btc, t[rows])
    if len(train) == 0 or len(np.unique(labels[train])) < 2:
        return np.full(len(test), 0.5)
    model = LogisticRegression(C=1.0, max_iter=200).fit(x[:len(train)], labels[train])
    return model.predict_proba(x[len(train):])[:, 1]
