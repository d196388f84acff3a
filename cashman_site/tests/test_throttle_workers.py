"""A rate limit holds across server workers: the counts live in Redis, and each is incremented
atomically, so concurrent requests spread over several processes never get more than `limit`
answers: exactly `limit` when it is reserved one request at a time (under 32 a window), at most
a lease per other worker fewer when workers reserve several at once."""

import json
import os
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.cache import cache

from cashman_site.tests.servers import production_server

pytestmark = [pytest.mark.redis, pytest.mark.server]

WORKERS = 4
LEASE = 10
ME = "/api/v1/auth/me/"


def _burst(server, token: str, requests: int) -> list[int]:
    def call(_: int) -> int:
        return server.request("GET", ME, headers={"Authorization": f"Bearer {token}"})[0]

    with ThreadPoolExecutor(max_workers=16) as pool:
        return list(pool.map(call, range(requests)))


def _day() -> int:
    return int(time.time() // 86400)


@pytest.mark.parametrize(
    ("limit", "requests", "least"),
    [
        (25, 100, 25),  # one at a time: exact
        (400, 500, 400 - (WORKERS - 1) * LEASE),  # leases of up to ten
    ],
)
def test_a_user_limit_holds_across_four_workers(production_site, limit, requests, least):
    with production_server(
        production_site,
        workers=WORKERS,
        REDIS_URL=os.environ["REDIS_URL"],
        DJANGO_CACHE_PREFIX=f"throttle-test-{uuid.uuid4().hex}",
        CASHMAN_THROTTLE_USER=f"{limit}/day",
        CASHMAN_THROTTLE_LEASE=str(LEASE),
    ) as server:
        token = server.access_token()
        for _ in range(2):  # a second try only if the burst straddled midnight UTC (a new window)
            day = _day()
            statuses = _burst(server, token, requests)
            if _day() == day:
                break
            cache.clear()  # the test's Redis database is the server's: start both windows afresh
        log = server.log.read_text()

    assert least <= statuses.count(200) <= limit, statuses
    assert statuses.count(429) == requests - statuses.count(200)
    # The requests really were spread over several processes.
    lines = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    served_by = {line["pid"] for line in lines if line.get("path") == ME}
    assert len(served_by) > 1, f"one worker served everything: {served_by}"
