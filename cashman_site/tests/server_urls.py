"""The project's URLs plus two test-only views, for the server tests (server_settings.py): a
request that sleeps, and one that holds the GIL. Never in the production URLconf."""

import time
from pathlib import Path

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.urls import path

from cashman_site.urls import handler400, handler403, handler404, handler500  # noqa: F401
from cashman_site.urls import urlpatterns as project_urlpatterns


def _mark_started(request: HttpRequest) -> None:
    marker = request.GET.get("marker", "")
    if marker and settings.SERVER_TEST_MARKERS:
        (Path(settings.SERVER_TEST_MARKERS) / Path(marker).name).touch()


def sleep(request: HttpRequest) -> JsonResponse:
    """Sleeps ?seconds= (the GIL released), then answers."""
    seconds = float(request.GET.get("seconds", "1"))
    _mark_started(request)
    time.sleep(seconds)
    return JsonResponse({"slept": seconds})


def spin(request: HttpRequest) -> JsonResponse:
    """Sums a huge range in one C call, which never lets go of the GIL: a hang that no thread of
    the worker's own could act on."""
    _mark_started(request)
    total = sum(range(10**12))
    return JsonResponse({"total": total})


urlpatterns = [
    path("test-only/sleep/", sleep),
    path("test-only/spin/", spin),
    *project_urlpatterns,
]
