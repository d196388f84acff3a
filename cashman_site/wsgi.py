"""WSGI entry point (`cashman_site.wsgi:application`), which cashman_site/serve.py serves."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cashman_site.settings.production")

application = get_wsgi_application()
