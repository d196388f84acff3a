"""Liveness and readiness probes for the process manager and the load balancer."""

import logging
from collections.abc import Callable

from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from cashman_site.redis_cache import outage

logger = logging.getLogger("cashman.health")


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """The process is up. Touches nothing else."""
    return JsonResponse({"status": "ok"})


def _check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def _check_cache() -> None:
    skipped = outage()
    if skipped:  # this process found Redis down moments ago and is leaving it alone
        raise RuntimeError(f"skipped after a failure: {skipped}")
    cache.set("readyz", "1", timeout=5)
    if cache.get("readyz") != "1":
        raise RuntimeError("cache did not return what was stored")


#: Without these, Cashman cannot answer at all; without the others it answers, degraded.
REQUIRED = ("database",)


@never_cache
@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    """200 `ok` when the database and the cache answer; 200 `degraded`, naming the cache, when
    only the cache does not (requests are served without it: no cached answers, rate limits
    counted per process); 503 `unavailable` when the database does not."""
    checks = {}
    for name, check in (("database", _check_database), ("cache", _check_cache)):
        try:
            check()
            checks[name] = "ok"
        except Exception as exc:  # any failure of a backing service is reported, not raised
            logger.warning("readiness check %s failed: %s", name, exc)
            checks[name] = "unavailable"
    if any(checks[name] != "ok" for name in REQUIRED):
        status = "unavailable"
    else:
        status = "ok" if all(value == "ok" for value in checks.values()) else "degraded"
    return JsonResponse(
        {"status": status, "checks": checks}, status=503 if status == "unavailable" else 200
    )


class HealthCheckMiddleware:
    """Answers /healthz and /readyz before anything else runs.

    A load balancer or an orchestrator probes over plain HTTP with its own Host header (a pod's
    address); the HTTPS redirect and ALLOWED_HOSTS would otherwise turn the probe away.
    """

    PROBES: dict[str, Callable[[HttpRequest], HttpResponse]] = {
        "/healthz": healthz,
        "/readyz": readyz,
    }

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        probe = self.PROBES.get(request.path_info)
        if probe is not None:
            return probe(request)
        return self.get_response(request)
