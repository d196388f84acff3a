#!/bin/sh
# Start Cashman: apply migrations, then replace this shell with the HTTP server (granian, set up
# by cashman_site/serve.py from CASHMAN_BIND, CASHMAN_WORKERS, ...) so that it receives the
# container's signals directly: SIGTERM drains requests in flight, SIGHUP replaces the workers.
#
# The same script runs in the Docker image and from a checkout; it uses whatever `python` comes
# first on PATH. With arguments it runs those instead of the server, e.g.
#   docker compose run --rm web python manage.py createsuperuser
set -eu

cd "$(dirname "$0")/.."
export DJANGO_SETTINGS_MODULE="${DJANGO_SETTINGS_MODULE:-cashman_site.settings.production}"

if [ "$#" -gt 0 ]; then
    exec "$@"
fi

python manage.py migrate --noinput
exec python -m cashman_site.serve
