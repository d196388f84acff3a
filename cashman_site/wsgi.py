"""WSGI entry point for gunicorn (`cashman_site.wsgi:application`)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cashman_site.settings.production")

application = get_wsgi_application()
