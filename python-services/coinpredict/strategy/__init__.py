"""Strategies that trade the served forecasts on paper and in backtests with one engine (issue 24).

``config`` validates a strategy as API.md gives it; ``engine`` turns forecasts and candles into fills
under the sizing, limits and costs it asks for (``book``, ``limits``, ``selection``); ``report`` sums a
run up; ``store`` keeps strategies, their versions and their paper books in ``DATABASE_URL`` (what
``Engine.snapshot`` returns, per close). No Flask, no torch."""
