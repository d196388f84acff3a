"""The Celery app. Workers: `celery -A cashman_site worker`.

With REDIS_URL set, tasks go through Redis to the workers; with nothing configured they run
in-process, at once, so `make run` needs no broker and no worker.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cashman_site.settings.production")

app = Celery("cashman")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
