"""Settings for the test suite: the database still comes from DATABASE_URL (SQLite by default)."""

import tempfile
from pathlib import Path

from .base import *  # noqa: F403
from .base import env

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Static files come from the apps' folders through the finders; no collectstatic needed.
STATIC_ROOT = None  # type: ignore[assignment]
WHITENOISE_USE_FINDERS = True
# Tasks run in-process in the suite; the worker test switches the app to a real broker itself.
CELERY_TASK_ALWAYS_EAGER = True
# Uploads go to a fresh folder per run (or DJANGO_MEDIA_ROOT, which a test worker shares).
MEDIA_ROOT = Path(env("DJANGO_MEDIA_ROOT", default="") or tempfile.mkdtemp(prefix="cashman-media-"))

# Rates high enough that no test is throttled by accident; the throttle tests set their own.
# The cache is cleared before every test (conftest.py), so no count leaks from one to the next.
REST_FRAMEWORK = {
    **REST_FRAMEWORK,  # noqa: F405
    "DEFAULT_THROTTLE_RATES": {
        scope: "10000/min"
        for scope in REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]  # noqa: F405
    },
}
