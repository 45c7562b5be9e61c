"""Production defaults for `gunicorn app:app`. Every value can be overridden from the
environment (GUNICORN_* below) or on the command line."""

import multiprocessing
import os

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
