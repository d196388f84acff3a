"""A real Celery worker process, fed through Redis, imports what the API receives."""

import csv
import io
import os
import subprocess
from decimal import Decimal

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.tests.factories import UserFactory
from cashman_site.celery import app as celery_app
from cashman_site.tests.servers import BIN, PROJECT_ROOT, wait_until
from conftest import bearer
from ledger.models import ImportJob, Transaction

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.server,
    pytest.mark.django_db(transaction=True),
]

ROWS = 100_000


@pytest.fixture
def worker():
    """`celery -A cashman_site worker` on the test database, and the app switched to Redis."""
    db = connection.settings_dict
    database_url = (
        f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "cashman_site.settings.test",
        "DATABASE_URL": database_url,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "DJANGO_MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "DJANGO_READ_ENV_FILE": "false",
    }
    process = subprocess.Popen(
        [
            str(BIN / "celery"),
            "-A",
            "cashman_site",
            "worker",
            "--pool",
            "solo",
            "--loglevel",
            "INFO",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    celery_app.conf.update(task_always_eager=False, broker_url=os.environ["REDIS_URL"])
    try:
        wait_until(lambda: celery_app.control.ping(timeout=0.5), timeout=60, what="the worker")
        yield process
    finally:
        celery_app.conf.update(task_always_eager=True)
        process.terminate()
        output, _ = process.communicate(timeout=30)
        print(output[-5000:])


def client_for(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=bearer(user))
    return client


def import_file(client, name: str, content: bytes) -> dict:
    response = client.post(
        reverse("api:import-list"), {"file": SimpleUploadedFile(name, content)}, format="multipart"
    )
    assert response.status_code == 202, response.content
    url = reverse("api:import-detail", args=[response.json()["id"]])

    def finished():
        job = client.get(url).json()
        return job if job["status"] in ("succeeded", "failed") else None

    return wait_until(finished, timeout=600, interval=0.5, what=f"the import of {name}")


def big_csv() -> tuple[bytes, Decimal]:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["date", "description", "amount", "category", "external_id"])
    total = Decimal("0")
    for i in range(ROWS):
        amount = Decimal(i % 5000 + 1) / 100 * (1 if i % 7 == 0 else -1)
        total += amount
        writer.writerow(
            [
                f"2025-{1 + i % 12:02d}-{1 + i % 28:02d}",
                f"row {i}",
                f"{amount:.2f}",
                f"cat {i % 9}",
                f"bank-{i}" if i % 2 else "",
            ]
        )
    return out.getvalue().encode(), total


def test_a_100k_row_csv_is_imported_by_the_worker_and_restores_into_a_new_account(worker):
    owner = UserFactory()
    client = client_for(owner)
    content, total = big_csv()

    job = import_file(client, "big.csv", content)
    assert job["status"] == "succeeded", job
    assert (job["created_count"], job["duplicate_count"], job["invalid_count"]) == (ROWS, 0, 0)
    assert Transaction.objects.filter(owner=owner).count() == ROWS
    summary = client.get(reverse("api:summary-list")).json()
    assert summary["balance"] == f"{total:.2f}"
    assert summary["count"] == ROWS

    again = import_file(client, "big.csv", content)
    assert (again["created_count"], again["duplicate_count"]) == (0, ROWS)
    assert Transaction.objects.filter(owner=owner).count() == ROWS

    export = client.get(reverse("api:export-list"), {"format": "json"})
    exported = b"".join(export.streaming_content)
    newcomer = client_for(UserFactory())
    restored = import_file(newcomer, "backup.json", exported)
    assert restored["created_count"] == ROWS, restored
    for url in ("api:summary-list", "api:summary-monthly"):
        assert newcomer.get(reverse(url)).json() == client.get(reverse(url)).json()
    assert ImportJob.objects.filter(status="succeeded").count() == 3
    # The worker, not this process, ran the three imports.
    (stats,) = celery_app.control.inspect(timeout=5).stats().values()
    assert stats["total"] == {"ledger.tasks.run_import": 3}
