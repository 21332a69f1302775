"""Where candles are read from: the live exchange, a CSV folder, a synthetic market. Each has a ``fetch``
of closed candles with open time in [start_ms, end_ms); requests reach them through one provider per
source (``data.providers``); ``make run``'s bootstrap writes candle folders from them."""
