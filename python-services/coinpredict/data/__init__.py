"""Market data: symbols, timeframes, candle sources, the local store and the coin universe."""
