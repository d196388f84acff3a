#!/usr/bin/env bash
# Smoke test of scripts/entrypoint.sh outside a container, against real PostgreSQL and Redis:
# a fresh database, collectstatic, migrate + the server (granian, cashman_site/serve.py) with
# production settings, then the probes, the API docs and admin pages with their static files
# (served by whitenoise), a JSON 404, a request in flight that SIGTERM lets finish, and a clean
# exit.
#
# Run from anywhere, with the project's virtualenv first on PATH:
#   PATH="$PWD/.venv/bin:$PATH" bash scripts/smoke_entrypoint.sh
# Tunables: PGHOST/PGPORT/PGUSER/PGPASSWORD (the PostgreSQL server, default 127.0.0.1:5432 as
# postgres), SMOKE_DB (database to recreate, default cashman_smoke), SMOKE_PORT (default: a free
# port), SMOKE_REDIS_URL (default redis://127.0.0.1:6379/1). PGPASSWORD goes into a URL unescaped.
set -euo pipefail

cd "$(dirname "$0")/.."

export PGHOST="${PGHOST:-127.0.0.1}" PGPORT="${PGPORT:-5432}" PGUSER="${PGUSER:-postgres}"
SMOKE_DB="${SMOKE_DB:-cashman_smoke}"

WORKDIR="$(mktemp -d)"
SERVER_LOG="$WORKDIR/server.log"
BODY="$WORKDIR/body"
HEADERS="$WORKDIR/headers"
SERVER_PID=""

# GET PATH: fetch BASE+PATH, leaving the body in $BODY and the headers in $HEADERS; prints the
# status code ("000" when nothing answered).
get() {
    curl --silent --max-time 10 --output "$BODY" --dump-header "$HEADERS" \
        --write-out '%{http_code}' "$BASE$1" || true
}
header() { { grep -i "^$1:" "$HEADERS" || true; } | tail -n 1 | cut -d: -f2- | tr -d '\r' | sed 's/^ *//'; }
pass() { printf 'ok    %s\n' "$*"; }
fail() {
    printf 'FAIL  %s\n' "$*" >&2
    if [ -s "$SERVER_LOG" ]; then
        printf -- '--- last lines of the server log ---\n' >&2
        tail -n 40 "$SERVER_LOG" >&2
    fi
    exit 1
}

stop_server() {
    [ -n "$SERVER_PID" ] || return 0
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    # The server gives workers CASHMAN_GRACEFUL_TIMEOUT (5 s here) to finish; allow a bit more.
    for _ in $(seq 1 40); do
        kill -0 "$SERVER_PID" 2>/dev/null || break
        sleep 0.25
    done
    kill -KILL "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
}

cleanup() {
    stop_server
    psql -q -d postgres -c "DROP DATABASE IF EXISTS \"$SMOKE_DB\" WITH (FORCE)" >/dev/null 2>&1 || true
    rm -rf "$WORKDIR"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

for tool in python psql curl; do
    command -v "$tool" >/dev/null || fail "$tool is not on PATH (put .venv/bin first on PATH)"
done
SMOKE_PORT="${SMOKE_PORT:-$(python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}"
BASE="http://127.0.0.1:${SMOKE_PORT}"

# --- A fresh database and the production environment ---------------------------------------
psql -q -v ON_ERROR_STOP=1 -d postgres \
    -c "SET client_min_messages = warning" \
    -c "DROP DATABASE IF EXISTS \"$SMOKE_DB\" WITH (FORCE)" \
    -c "CREATE DATABASE \"$SMOKE_DB\"" >/dev/null \
    || fail "could not recreate database $SMOKE_DB on $PGHOST:$PGPORT as $PGUSER"
pass "database $SMOKE_DB recreated on $PGHOST:$PGPORT"

# Settings from the caller's shell (a developer's exports, CI's test settings) stay out.
for name in $(compgen -e); do
    case "$name" in DJANGO_* | JWT_* | CASHMAN_* | GUNICORN_* | GRANIAN_* | FORWARDED_ALLOW_IPS) unset "$name" ;; esac
done
export DJANGO_SETTINGS_MODULE=cashman_site.settings.production
DJANGO_SECRET_KEY="smoke-$(python -c 'import secrets; print(secrets.token_urlsafe(50))')"
export DJANGO_SECRET_KEY
export DJANGO_ALLOWED_HOSTS=127.0.0.1,localhost
export DATABASE_URL="postgres://${PGUSER}${PGPASSWORD:+:$PGPASSWORD}@${PGHOST}:${PGPORT}/${SMOKE_DB}"
export REDIS_URL="${SMOKE_REDIS_URL:-redis://127.0.0.1:6379/1}"
export DJANGO_SECURE_SSL_REDIRECT=false
export DJANGO_STATIC_ROOT="$WORKDIR/static"
export CASHMAN_BIND="127.0.0.1:${SMOKE_PORT}" CASHMAN_WORKERS=2 CASHMAN_GRACEFUL_TIMEOUT=5

python manage.py collectstatic --noinput --verbosity 0 || fail "collectstatic failed"
[ -f "$DJANGO_STATIC_ROOT/staticfiles.json" ] || fail "collectstatic wrote no manifest"
pass "collectstatic into $DJANGO_STATIC_ROOT"

# --- Start the server and wait for liveness -------------------------------------------------
[ "$(get /healthz)" = 000 ] || fail "something already answers on $BASE; choose another SMOKE_PORT"
scripts/entrypoint.sh >"$SERVER_LOG" 2>&1 &
SERVER_PID=$!

for _ in $(seq 1 60); do
    kill -0 "$SERVER_PID" 2>/dev/null || fail "entrypoint exited before serving (migrate or the server failed)"
    [ "$(get /healthz)" = 200 ] && break
    sleep 0.5
done
[ "$(get /healthz)" = 200 ] || fail "/healthz did not answer 200 within 30 s"
pass "/healthz 200 after migrate, the server on $BASE"

# --- The checks -----------------------------------------------------------------------------
status="$(get /readyz)"
[ "$status" = 200 ] || fail "/readyz answered $status: $(cat "$BODY")"
python -c 'import json, sys; body = json.load(open(sys.argv[1])); sys.exit(body["status"] != "ok")' \
    "$BODY" || fail "/readyz body is not {\"status\": \"ok\", ...}: $(cat "$BODY")"
pass "/readyz 200 $(tr -d '\n' <"$BODY")"

# static_ok URL WHAT: the asset answers 200 from whitenoise. Only whitenoise serves static files
# with DEBUG off, and it marks hashed (manifest) names immutable.
static_ok() {
    local status
    status="$(get "$1")"
    [ "$status" = 200 ] || fail "$2 $1 answered $status"
    header Cache-Control | grep -q immutable \
        || fail "$2 $1 is not served by whitenoise (Cache-Control: $(header Cache-Control))"
    pass "$2 $1 200 (whitenoise, immutable)"
}

status="$(get /api/docs/)"
[ "$status" = 200 ] || fail "/api/docs/ answered $status"
bundle="$(grep -o '/static/[^"'\'' ]*swagger-ui-bundle[^"'\'' ]*\.js' "$BODY" || true)"
bundle="${bundle%%$'\n'*}"
[ -n "$bundle" ] || fail "/api/docs/ references no swagger-ui-bundle script"
pass "/api/docs/ 200"
static_ok "$bundle" "swagger-ui bundle"

status="$(get /admin/login/)"
[ "$status" = 200 ] || fail "/admin/login/ answered $status"
css="$(grep -o '/static/admin/css/[^"'\'' ]*\.css' "$BODY" || true)"
css="${css%%$'\n'*}"
[ -n "$css" ] || fail "/admin/login/ references no admin stylesheet"
pass "/admin/login/ 200"
static_ok "$css" "admin stylesheet"

status="$(get /api/v1/nope/)"
[ "$status" = 404 ] || fail "/api/v1/nope/ answered $status, expected 404"
content_type="$(header Content-Type)"
case "$content_type" in
    application/json*) pass "/api/v1/nope/ 404 $content_type" ;;
    *) fail "/api/v1/nope/ 404 has Content-Type '$content_type', expected application/json" ;;
esac

# --- Graceful shutdown ----------------------------------------------------------------------
# A request in flight when SIGTERM arrives still gets its answer: the token request hashes a
# password, long enough to be caught in flight.
python manage.py shell -c "
from accounts.services import user_create
user_create(email='smoke@example.com', password='a-long-Passphrase-42')" >/dev/null 2>&1 \
    || fail "could not create the smoke user"
curl --silent --max-time 20 --output "$WORKDIR/inflight" --write-out '%{http_code}' \
    -H 'Content-Type: application/json' -X POST "$BASE/api/v1/auth/token/" \
    -d '{"email": "smoke@example.com", "password": "a-long-Passphrase-42"}' >"$WORKDIR/inflight.status" &
CLIENT_PID=$!
sleep 0.2  # curl has connected; the password hash takes longer than this
kill -TERM "$SERVER_PID"
for _ in $(seq 1 60); do
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.25
done
kill -0 "$SERVER_PID" 2>/dev/null && fail "the server still running 15 s after SIGTERM"
rc=0
wait "$SERVER_PID" || rc=$?
SERVER_PID=""
[ "$rc" = 0 ] || fail "the server exited with status $rc on SIGTERM"
wait "$CLIENT_PID" || true
[ "$(cat "$WORKDIR/inflight.status")" = 200 ] \
    || fail "the request in flight at SIGTERM got $(cat "$WORKDIR/inflight.status"): $(cat "$WORKDIR/inflight")"
pass "the server let the request in flight finish (200) and stopped cleanly on SIGTERM"
echo "entrypoint smoke test passed"
