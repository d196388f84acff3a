"""A rate limit holds across gunicorn workers: the counts live in Redis, and each is incremented
atomically, so concurrent requests spread over several processes get exactly `limit` answers."""

import json
import os
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.cache import cache

from cashman_site.tests.servers import gunicorn

pytestmark = [pytest.mark.redis, pytest.mark.server]

WORKERS = 4
LIMIT = 25
REQUESTS = 100
ME = "/api/v1/auth/me/"


def _burst(server, token: str) -> list[int]:
    def call(_: int) -> int:
        return server.request("GET", ME, headers={"Authorization": f"Bearer {token}"})[0]

    with ThreadPoolExecutor(max_workers=16) as pool:
        return list(pool.map(call, range(REQUESTS)))


def _day() -> int:
    return int(time.time() // 86400)


def test_a_user_limit_holds_across_four_gunicorn_workers(production_site):
    with gunicorn(
        production_site,
        workers=WORKERS,
        REDIS_URL=os.environ["REDIS_URL"],
        DJANGO_CACHE_PREFIX=f"throttle-test-{uuid.uuid4().hex}",
        CASHMAN_THROTTLE_USER=f"{LIMIT}/day",
    ) as server:
        token = server.access_token()
        for _ in range(2):  # a second try only if the burst straddled midnight UTC (a new window)
            day = _day()
            statuses = _burst(server, token)
            if _day() == day:
                break
            cache.clear()  # the test's Redis database is the server's: start both windows afresh
        log = server.log.read_text()

    assert statuses.count(200) == LIMIT, statuses
    assert statuses.count(429) == REQUESTS - LIMIT
    # The requests really were spread over several processes.
    lines = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    served_by = {line["pid"] for line in lines if line.get("path") == ME}
    assert len(served_by) > 1, f"one worker served everything: {served_by}"
