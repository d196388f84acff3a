"""The Celery app. Workers: `celery -A cashman_site worker`.

With REDIS_URL set, tasks go through Redis to the workers; with nothing configured they run
in-process, at once, so `make run` needs no broker and no worker.
"""

import logging
import os
from typing import Any

from celery import Celery
from kombu.exceptions import OperationalError

from cashman_site.outage import Outage

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cashman_site.settings.production")

app = Celery("cashman")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


logger = logging.getLogger("cashman.tasks")
BROKER_OUTAGE = Outage("the Celery broker")


def dispatch(task: Any, *args: Any) -> bool:
    """Queue `task(*args)`; False, logged, when the broker cannot take it.

    The work a task does is recorded in the database before it is queued (a pending import, a
    welcome email not sent yet), and a beat task queues again what stayed undone. So a broker that
    is down delays the work; it never makes a request that succeeded answer an error.
    """
    if app.conf.task_always_eager:  # no broker: the task runs here, now
        try:
            task.apply_async(args=args)
        except Exception:  # its failure is logged; it is tried again like any undone work
            logger.exception("%s%r failed", task.name, args)
            return False
        return True
    if BROKER_OUTAGE.active():  # it failed moments ago: do not make this request wait too
        logger.warning("not queued while the broker is down: %s%r", task.name, args)
        return False
    try:
        task.apply_async(args=args)
    except (OperationalError, OSError) as exc:
        BROKER_OUTAGE.trip(exc)
        logger.warning("could not queue %s%r: %s", task.name, args, exc)
        return False
    return True
