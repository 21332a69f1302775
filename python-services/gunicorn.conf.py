"""gunicorn settings tuned for 2 cores: two workers (one per core), each with threads so I/O
waits overlap; every worker loads the models once (no preload: a model runtime's threads and fork do not mix).

The worker is gthread with one change (coinpredict.transport.worker): no thread waits for a client (a
request is read as it arrives and the app runs only once it is whole), so slow or idle clients hold no
thread, and the errors gunicorn raises itself are answered in the API's JSON shape.
``HTTP_READ_TIMEOUT`` (seconds, default 15) bounds how long a request may take to arrive."""

import os
import shutil
import tempfile

workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "coinpredict.transport.worker.BufferingThreadWorker"
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
timeout = 120
graceful_timeout = 20
keepalive = 5
max_requests = 0
accesslog = None

# Prometheus counters live in each worker; with a shared folder every scrape of /metrics, whichever
# worker answers it, sums all workers. Set here, in the master, so workers inherit it before they
# import prometheus_client.
_OWN_METRICS_DIR = not os.environ.get("PROMETHEUS_MULTIPROC_DIR")  # ours to remove at exit
if _OWN_METRICS_DIR:
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="coinpredict-metrics-")


def on_starting(server):
    folder = os.environ["PROMETHEUS_MULTIPROC_DIR"]
    os.makedirs(folder, exist_ok=True)
    for name in os.listdir(folder):  # figures from an earlier run are not this run's
        os.remove(os.path.join(folder, name))


def on_exit(server):
    if _OWN_METRICS_DIR:
        shutil.rmtree(os.environ["PROMETHEUS_MULTIPROC_DIR"], ignore_errors=True)


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def post_fork(server, worker):
    # One thread per model call by default: workers and their threads parallelise across requests. Networks
    # serve from their ONNX graphs (ORT_THREADS); the boosters' OpenMP reads OMP_NUM_THREADS as it loads,
    # after this (torch's set_num_threads used to cap it); torch, imported only for a version saved without
    # a graph, uses TORCH_THREADS.
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    from coinpredict.models.lean import leave_out_training_libraries
    from coinpredict.models.threads import serve_with

    leave_out_training_libraries()
    serve_with(int(os.environ.get("TORCH_THREADS", "1")))
