"""A real Celery worker process, fed through Redis, imports what the API receives."""

import contextlib
import csv
import io
import os
import signal
import subprocess
from collections.abc import Iterator
from decimal import Decimal

import pytest
import redis
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import override_settings
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.tests.factories import UserFactory
from cashman_site.celery import app as celery_app
from cashman_site.tests.servers import BIN, PROJECT_ROOT, wait_until
from conftest import bearer
from ledger import imports, tasks
from ledger.models import ImportJob, Transaction
from ledger.tests.factories import main_account

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.server,
    pytest.mark.django_db(transaction=True),
]

ROWS = 100_000


@contextlib.contextmanager
def celery_worker(*extra_args: str, **extra_env: str) -> Iterator[subprocess.Popen]:
    """`celery -A cashman_site worker` (with `extra_args`, and `extra_env` over the test
    environment) on the test database, and the app switched to Redis."""
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
        **extra_env,
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
            *extra_args,
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
        if process.poll() is None:
            process.terminate()
        output, _ = process.communicate(timeout=30)
        print(output[-5000:])


@pytest.fixture
def worker():
    with celery_worker() as process:
        yield process


def client_for(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=bearer(user))
    return client


def import_file(client, name: str, content: bytes) -> dict:
    response = client.post(
        reverse("api:import-list"), {"file": SimpleUploadedFile(name, content)}, format="multipart"
    )
    assert response.status_code == 202, response.content
    return job_end(client, response.json()["id"])


def job_end(client, job_id: int) -> dict:
    """The job as the API shows it once it has ended."""
    url = reverse("api:import-detail", args=[job_id])

    def finished():
        job = client.get(url).json()
        return job if job["status"] in ("succeeded", "failed") else None

    return wait_until(finished, timeout=600, interval=0.2, what=f"the end of import {job_id}")


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
    assert Transaction.objects.filter(account=main_account(owner)).count() == ROWS
    summary = client.get(reverse("api:summary-list")).json()
    assert summary["balance"] == f"{total:.2f}"
    assert summary["count"] == ROWS

    again = import_file(client, "big.csv", content)
    assert (again["created_count"], again["duplicate_count"]) == (0, ROWS)
    assert Transaction.objects.filter(account=main_account(owner)).count() == ROWS

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


def test_an_import_whose_worker_is_killed_is_resumed_by_another_without_a_row_twice():
    """kill -9 the worker mid-import: its job stays `running` with the batches it committed.
    The sweeper (run here as beat would) queues it again, and a second worker resumes it after
    those batches. The rows repeat (ten contents, 2,000 times each): resuming must count the rows
    alike from the file's start, or it would store too few or too many."""
    rows = 40_000
    owner = UserFactory()
    client = client_for(owner)
    content = b"date,description,amount\n" + b"".join(
        f"2026-10-0{1 + i % 5},coffee {i % 2},-3.{i % 10}0\n".encode() for i in range(rows)
    )
    with celery_worker(CASHMAN_IMPORT_BATCH_SIZE="250") as first:
        response = client.post(
            reverse("api:import-list"),
            {"file": SimpleUploadedFile("bank.csv", content)},
            format="multipart",
        )
        assert response.status_code == 202, response.content
        job_id = response.json()["id"]
        wait_until(
            lambda: ImportJob.objects.filter(pk=job_id, rows_processed__gte=1000).exists(),
            timeout=120,
            interval=0.02,
            what="the first batches",
        )
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
    # Its message stays taken by the dead worker until the visibility timeout: drop it, so that
    # no later test's worker gets it back.
    redis.Redis.from_url(os.environ["REDIS_URL"]).delete("unacked", "unacked_index")
    job = ImportJob.objects.get(pk=job_id)
    assert job.status == "running", "the worker finished before it was killed: use more rows"
    committed = job.rows_processed
    assert 0 < committed < rows
    assert (
        Transaction.objects.filter(account=main_account(owner)).count()
        == job.created_count
        == committed
    )

    # The second worker sees any running job as stale (STALE_SECONDS=0), as the sweeper does
    # once CASHMAN_IMPORT_STALE_SECONDS have passed without a heartbeat.
    with celery_worker(CASHMAN_IMPORT_BATCH_SIZE="250", CASHMAN_IMPORT_STALE_SECONDS="0"):
        with override_settings(CASHMAN_IMPORT_STALE_SECONDS=0):
            assert job_id in imports.import_recover()
            assert tasks.recover_imports() >= 1
        finished = job_end(client, job_id)
    assert finished["status"] == "succeeded", finished
    assert (finished["created_count"], finished["duplicate_count"]) == (rows, 0)
    assert Transaction.objects.filter(account=main_account(owner)).count() == rows
    assert ImportJob.objects.get(pk=job_id).attempts == 2
    expected = -sum(Decimal(f"3.{i % 10}0") for i in range(rows))
    assert client.get(reverse("api:summary-list")).json()["balance"] == f"{expected:.2f}"
