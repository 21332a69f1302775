"""Honest out-of-sample evaluation: metrics, baselines, backtest, look-ahead audit and report."""
