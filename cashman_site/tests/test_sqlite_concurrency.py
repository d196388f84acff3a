"""Two server workers on one SQLite file write at the same time: with every transaction taking
the write lock as it begins (settings' transaction_mode), they wait for each other instead of one
failing with "database is locked". Without a broker, an import runs inside its upload request."""

import json
import threading

import pytest

from cashman_site.tests.servers import production_server
from cashman_site.tests.test_service_outages import get, media, sign_up, upload

pytestmark = pytest.mark.server

ROWS = 3000


def test_two_uploads_of_one_file_at_once_both_finish(production_site):
    content = b"date,description,amount\n" + b"".join(
        f"2026-10-{1 + i % 28:02d},row {i % 500},-{1 + i % 7}.00\n".encode() for i in range(ROWS)
    )
    with production_server(production_site, workers=2, **media(production_site)) as s:
        _, token = sign_up(s)
        start = threading.Barrier(2)
        answers: list[tuple[int, dict]] = []

        def post() -> None:
            start.wait()
            answers.append(upload(s, token, content))

        threads = [threading.Thread(target=post) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert [status for status, _ in answers] == [202, 202], answers
        jobs = [get(s, f"/api/v1/imports/{job['id']}/", token)[1] for _, job in answers]
        assert [job["status"] for job in jobs] == ["succeeded", "succeeded"], json.dumps(jobs)
        assert sum(job["created_count"] for job in jobs) == ROWS
        assert sum(job["duplicate_count"] for job in jobs) == ROWS
        assert get(s, "/api/v1/summary/", token)[1]["count"] == ROWS
