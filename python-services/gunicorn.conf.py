"""gunicorn settings tuned for 2 cores: two workers (one per core), each with threads so I/O
waits overlap; every worker loads the models once (no preload: torch and fork do not mix)."""

import os

workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
timeout = 120
graceful_timeout = 20
keepalive = 5
max_requests = 0
accesslog = None
