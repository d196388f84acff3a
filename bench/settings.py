"""Production settings plus only what the benchmark needs. Used by the bench's gunicorn and by
the harness process itself (SQL capture, token minting); never by Cashman proper.
"""

from cashman_site.settings.production import *  # noqa: F403
from cashman_site.settings.production import CACHES, REDIS_URL, REST_FRAMEWORK, env

# The project's URLs, plus the floor views that only this URLconf serves.
ROOT_URLCONF = "bench.urls"
DEBUG = False
# Plain HTTP on loopback: no TLS proxy in front.
SECURE_SSL_REDIRECT = False

# Throttles still count in Redis on every request, as in production, but never refuse one.
REST_FRAMEWORK = {
    **REST_FRAMEWORK,
    "DEFAULT_THROTTLE_RATES": {
        scope: "100000000/min" for scope in REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
    },
}

if not REDIS_URL:
    raise RuntimeError("The benchmark runs with Redis: set REDIS_URL.")
# One key prefix per run, so a run never reads what an earlier one cached.
CACHES["default"]["KEY_PREFIX"] = env("BENCH_RUN_ID", default="bench")

# Imports run inside the request (in the gunicorn worker) instead of a Celery worker: the
# benchmark times the whole import from upload to the last committed batch.
CELERY_TASK_ALWAYS_EAGER = True

# The SQL Cashman issued for each scenario (bench/sqlcapture.py), replayed by the floor views.
BENCH_SQL_FILE = env("BENCH_SQL_FILE", default="")
