#!/bin/sh
# Start Cashman: apply migrations, then replace this shell with gunicorn so it receives the
# container's signals directly (SIGTERM -> graceful shutdown).
#
# The same script runs in the Docker image and from a checkout; it uses whatever `python` and
# `gunicorn` come first on PATH. With arguments it runs those instead of the server, e.g.
#   docker compose run --rm web python manage.py createsuperuser
set -eu

cd "$(dirname "$0")/.."
export DJANGO_SETTINGS_MODULE="${DJANGO_SETTINGS_MODULE:-cashman_site.settings.production}"

if [ "$#" -gt 0 ]; then
    exec "$@"
fi

python manage.py migrate --noinput
exec gunicorn cashman_site.wsgi:application -c gunicorn.conf.py
