"""Production defaults for `gunicorn app:app`. Every value can be overridden from the
environment (GUNICORN_* below) or on the command line."""

import multiprocessing
import os
import shutil
import tempfile
from pathlib import Path

bind = os.environ.get("GUNICORN_BIND", f"0.0.0.0:{os.environ.get('PORT', '8000')}")
# Threads cover the time a request waits on the database; processes cover the CPU.
workers = int(os.environ.get("GUNICORN_WORKERS", min(multiprocessing.cpu_count() * 2 + 1, 9)))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
# Stripe gives up on an endpoint after 20 s; a request that long is stuck, not slow.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 20
# Behind a load balancer that keeps connections open.
keepalive = 5
# Recycle workers now and then, jittered so they never restart together.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "20000"))
max_requests_jitter = 2000
# Each worker imports the app itself, so database pools are never shared across a fork.
preload_app = False
accesslog = os.environ.get("GUNICORN_ACCESSLOG", "-") or None  # empty: no access log
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOGLEVEL", "info")
# Trust X-Forwarded-* from the load balancer only; set to its address in production.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# Request limits: the webhook body is capped at 1 MiB by the app; headers stay small.
limit_request_line = 4094
limit_request_fields = 50

# --- metrics: every worker's counters add up (prometheus_client's multiprocess mode) -------
# Each worker writes its values to files in PROMETHEUS_MULTIPROC_DIR and /metrics sums them.
# Unset, the master makes a private directory (removed at exit); set (systemd's
# RuntimeDirectory, say), it must belong to this one gunicorn: it is emptied at start, as the
# client requires, so two instances must never share one.
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="membership-metrics-")
    # Remembered in the environment: a reload (HUP) reads this file again.
    os.environ["MEMBERSHIP_METRICS_DIR_MADE"] = os.environ["PROMETHEUS_MULTIPROC_DIR"]


def on_starting(server):
    directory = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("*.db"):  # a previous run's values would be added in
        stale.unlink()


def child_exit(server, worker):
    # A worker that is gone: its live gauges go, its counters are added into one archive file
    # (membership/metrics_fold.py), so recycled workers do not pile up files to scrape.
    from prometheus_client import multiprocess

    from membership import metrics_fold

    multiprocess.mark_process_dead(worker.pid)
    try:
        metrics_fold.fold(os.environ["PROMETHEUS_MULTIPROC_DIR"], worker.pid)
    except Exception:  # never let bookkeeping stop the master from replacing the worker
        server.log.exception("could not fold the metrics of worker %s", worker.pid)


def on_exit(server):
    made = os.environ.get("MEMBERSHIP_METRICS_DIR_MADE")
    if made and made == os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        shutil.rmtree(made, ignore_errors=True)


# --- logs: LOG_FORMAT=json for one JSON object per line (membership/logs.py) -------------------
if os.environ.get("LOG_FORMAT", "").strip().lower() == "json":
    from membership.logs import gunicorn_logconfig

    logconfig_dict = gunicorn_logconfig(loglevel, access_log=accesslog is not None)
