"""A real Celery worker with embedded beat, fed through Redis, posts a schedule's due occurrence
on its own, once, however many times beat runs the task.

The worker is another process: its clock cannot be frozen, so the schedule starts on today as
that process sees it (the same real clock and DJANGO_TIME_ZONE as this one), and its rule gives
no other date for a month, so a run across midnight changes nothing.
"""

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.utils import timezone

from accounts.tests.factories import UserFactory
from cashman_site.celery import app as celery_app
from cashman_site.tests.servers import wait_until
from ledger.choices import TransactionType
from ledger.models import Schedule, Transaction
from ledger.services import schedules
from ledger.tests.factories import main_account
from ledger.tests.test_worker import celery_worker

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.server,
    pytest.mark.django_db(transaction=True),
]

TASK = "ledger.tasks.post_schedules"


def worker_with_beat(schedule_file: Path, **extra_env: str) -> Any:
    """test_worker's worker with beat embedded, its state in `schedule_file`."""
    return celery_worker(
        "--beat",
        "--schedule",
        str(schedule_file),
        # Not the test settings: they run every task eagerly whatever the environment says, so
        # beat would run post_schedules itself instead of sending it through Redis to the worker.
        # dev is base with DEBUG, here off: what a deployment's worker and beat run.
        DJANGO_SETTINGS_MODULE="cashman_site.settings.dev",
        DJANGO_DEBUG="false",
        DJANGO_TIME_ZONE=settings.TIME_ZONE,
        **extra_env,
    )


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
