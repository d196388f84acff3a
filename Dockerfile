# syntax=docker/dockerfile:1
# Cashman's production image: granian (cashman_site/serve.py) serving cashman_site.settings.production
# on port 8000 (CASHMAN_BIND).
#   docker build -t cashman .
#   docker run -e DJANGO_SECRET_KEY=... -e DJANGO_ALLOWED_HOSTS=... -e DATABASE_URL=... -p 8000:8000 cashman
# docker-compose.yml wires it to PostgreSQL and Redis for a local run.

ARG PYTHON_VERSION=3.11

# --- builder: every dependency as a wheel, so the final stage needs no compiler or network ---
FROM python:${PYTHON_VERSION}-slim AS builder
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /build
COPY requirements/base.txt requirements/production.txt requirements/
RUN pip wheel --wheel-dir /wheels -r requirements/production.txt

# --- final ------------------------------------------------------------------------------------
FROM python:${PYTHON_VERSION}-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    DJANGO_SETTINGS_MODULE=cashman_site.settings.production

RUN groupadd --system --gid 10001 cashman \
    && useradd --system --uid 10001 --gid cashman --home-dir /app --no-create-home cashman

WORKDIR /app
# Installed from the builder's wheels only; the bind mounts keep the wheels out of every layer.
RUN --mount=type=bind,from=builder,source=/wheels,target=/wheels \
    --mount=type=bind,source=requirements,target=/tmp/requirements \
    pip install --no-index --find-links=/wheels -r /tmp/requirements/production.txt

# The code and the collected static files belong to root: the server can read them, not change them.
COPY . .
# collectstatic imports the production settings, which refuse to load without these three. The
# values are throwaway, set for this one command only, and never reach the running image.
RUN DJANGO_SECRET_KEY=collectstatic-at-build-time-only DJANGO_ALLOWED_HOSTS=localhost \
    DATABASE_URL=sqlite:////tmp/unused.sqlite3 \
    python manage.py collectstatic --noinput --verbosity 0

# Uploaded import files: the one place the server writes; share it with the worker (compose).
ENV DJANGO_MEDIA_ROOT=/data/media
RUN mkdir -p /data/media && chown cashman:cashman /data/media
VOLUME /data/media

USER cashman
EXPOSE 8000
# Liveness only (/healthz touches neither database nor cache). Plain python: slim has no curl.
# The Host header is the first allowed host, so the probe is not refused as a DisallowedHost.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request as u; port = (os.environ.get('CASHMAN_BIND') or os.environ.get('GUNICORN_BIND') or ':8000').rsplit(':', 1)[1]; host = os.environ.get('DJANGO_ALLOWED_HOSTS', 'localhost').split(',')[0].strip().lstrip('.').replace('*', 'localhost'); u.urlopen(u.Request(f'http://127.0.0.1:{port}/healthz', headers={'Host': host}), timeout=4)"]
# Through sh, so the script need not carry an executable bit from the build context.
ENTRYPOINT ["/bin/sh", "/app/scripts/entrypoint.sh"]
