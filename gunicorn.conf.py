"""gunicorn settings, every one overridable from the environment (see `.env.example`).

Used by `scripts/entrypoint.sh`: `gunicorn cashman_site.wsgi:application -c gunicorn.conf.py`.
"""

import os


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def _default_workers() -> int:
    # 2 x cores + 1 is gunicorn's rule of thumb; the cap keeps a big host from starting dozens of
    # Django processes (each holds its own database connection and ~100 MB). sched_getaffinity
    # counts only the CPUs this process may run on, which is what a container is given.
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return min(2 * (cores or 1) + 1, 9)  # capped at four cores' worth; set GUNICORN_WORKERS


bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")  # all interfaces: inside a container
workers = _int("GUNICORN_WORKERS", _default_workers())
# More than one thread switches to the gthread worker; each thread keeps its own DB connection.
threads = _int("GUNICORN_THREADS", 1)
# A request running longer than this is killed and its worker restarted.
timeout = _int("GUNICORN_TIMEOUT", 30)
# On SIGTERM, requests in flight get this long to finish before workers are killed.
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30)
keepalive = _int("GUNICORN_KEEPALIVE", 5)
# gunicorn answers a longer request line itself, with an HTML 414. 8190 is its ceiling (and
# nginx's default buffer), above Django's CASHMAN_MAX_QUERY_BYTES, which answers JSON.
limit_request_line = _int("GUNICORN_LIMIT_REQUEST_LINE", 8190)
# Recycle each worker after this many requests (plus jitter) to bound slow leaks; 0 = never.
max_requests = _int("GUNICORN_MAX_REQUESTS", 0)
max_requests_jitter = _int("GUNICORN_MAX_REQUESTS_JITTER", 0)

# Django writes one JSON line per request (logger cashman.request: id, user, status, duration),
# so gunicorn's own access log is off unless GUNICORN_ACCESS_LOG names a file ("-" = stdout).
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")

# Worker heartbeats are file writes; on a container's overlay filesystem they can stall, so they
# go to memory when /dev/shm exists (gunicorn's own advice for Docker).
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None  # noqa: S108

# gunicorn's control socket defaults to one fixed path under $HOME, which two servers on the same
# host (CI and a developer, say) would fight over. Off unless a path is given.
if os.environ.get("GUNICORN_CONTROL_SOCKET"):
    control_socket = os.environ["GUNICORN_CONTROL_SOCKET"]
control_socket_disable = not os.environ.get("GUNICORN_CONTROL_SOCKET")
