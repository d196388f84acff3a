"""A real Celery worker with embedded beat, fed through Redis, posts a schedule's due occurrence
on its own, once, however many times beat runs the task.

The worker is another process: its clock cannot be frozen, so the schedule starts on today as
that process sees it (the same real clock and DJANGO_TIME_ZONE as this one), and its rule gives
no other date for a month, so a run across midnight changes nothing.
"""

import contextlib
import os
import subprocess
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from accounts.tests.factories import UserFactory
from cashman_site.celery import app as celery_app
from cashman_site.tests.servers import BIN, PROJECT_ROOT, wait_until
from ledger.choices import TransactionType
from ledger.models import Schedule, Transaction
from ledger.services import schedules
from ledger.tests.factories import main_account

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.server,
    pytest.mark.django_db(transaction=True),
]

TASK = "ledger.tasks.post_schedules"


@contextlib.contextmanager
def worker_with_beat(schedule_file: Path, **extra_env: str) -> Iterator[subprocess.Popen]:
    """`celery -A cashman_site worker --beat` on the test database, beat's state in
    `schedule_file`, and this process's app switched to Redis (to inspect the worker). As
    test_worker.celery_worker, with beat."""
    db = connection.settings_dict
    database_url = (
        f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    )
    env = {
        **os.environ,
        # Not the test settings: they run every task eagerly whatever the environment says, so
        # beat would run post_schedules itself instead of sending it through Redis to the worker.
        # dev is base with DEBUG, here off: what a deployment's worker and beat run.
        "DJANGO_SETTINGS_MODULE": "cashman_site.settings.dev",
        "DJANGO_DEBUG": "false",
        "DATABASE_URL": database_url,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "DJANGO_MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "DJANGO_READ_ENV_FILE": "false",
        "DJANGO_TIME_ZONE": settings.TIME_ZONE,
        **extra_env,
    }
    process = subprocess.Popen(
        [
            str(BIN / "celery"),
            "-A",
            "cashman_site",
            "worker",
            "--beat",
            "--schedule",
            str(schedule_file),
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
        if process.poll() is None:
            process.terminate()
        output, _ = process.communicate(timeout=30)
        print(output[-5000:])


def runs_of_the_task() -> int:
    """How many post_schedules tasks the worker has run so far."""
    stats = celery_app.control.inspect(timeout=2).stats() or {}
    return sum(node.get("total", {}).get(TASK, 0) for node in stats.values())


def test_beat_posts_a_due_occurrence_once(tmp_path):
    owner = UserFactory()
    today = timezone.localdate()  # the worker's clock and zone: the same as this process's
    schedule = schedules.schedule_create(
        actor=owner,
        account=main_account(owner),
        type=TransactionType.EXPENSE,
        description="Gym",
        amount=Decimal("35.00"),
        start_date=today,
        rule={"freq": "monthly"},
    )
    assert schedule.next_date == today
    assert not Transaction.objects.filter(schedule=schedule).exists()

    with worker_with_beat(tmp_path / "celerybeat-schedule", CASHMAN_SCHEDULES_SECONDS="1"):
        tx = wait_until(
            lambda: Transaction.objects.filter(schedule=schedule).first(),
            timeout=60,
            interval=0.2,
            what="beat to post the schedule's occurrence",
        )
        # Beat sent it through Redis, and the worker ran it.
        seen = wait_until(runs_of_the_task, timeout=30, what="the worker's count of the task")
        # Several more beat ticks run the task again: nothing more is posted.
        wait_until(
            lambda: runs_of_the_task() >= seen + 3,
            timeout=60,
            interval=0.5,
            what="three more runs of post_schedules",
        )
        assert Transaction.objects.filter(schedule=schedule).count() == 1

    assert (tx.occurrence_date, tx.date, tx.amount) == (today, today, Decimal("-35.00"))
    assert (tx.account_id, tx.description, tx.created_by_id) == (
        main_account(owner).pk,
        "Gym",
        owner.pk,
    )
    stored = Schedule.objects.get(pk=schedule.pk)
    assert stored.posted_until == today
    assert stored.next_date is not None and stored.next_date > today
