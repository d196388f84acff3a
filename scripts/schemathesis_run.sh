#!/usr/bin/env bash
# Property-based API test: schemathesis generates requests for every operation in
# /api/schema/, authenticated as a staff user, and runs its default checks (no server error,
# status codes, content types, headers and bodies as the schema says, use after delete, auth
# actually enforced, ...) with two exceptions, both about inputs rather than answers:
#   positive_data_acceptance  flags a 400 to a request the schema allows, but the schema cannot
#                             say "a category id of yours", "a strong password" or "a name you
#                             have not used": those 400s are the business rules working.
#   negative_data_rejection   flags DRF's deliberate leniency: a number where a string is
#                             expected is taken as text, a malformed ?page_size= falls back to
#                             the default page size (as the README says).
#
# The server is the production one (granian, cashman_site/serve.py) with the production settings
# on a throw-away SQLite database (no TLS
# here, so the HTTPS redirect is off). Throttles and the login lockout are lifted for the run: a
# fuzzer is exactly the client they exist to stop.
#
# Run from anywhere, with the project's virtualenv first on PATH:
#   PATH="$PWD/.venv/bin:$PATH" bash scripts/schemathesis_run.sh
# Tunables: SCHEMATHESIS_PORT (default: a free port), SCHEMATHESIS_MAX_EXAMPLES (default 10 per
# operation and phase), SCHEMATHESIS_WORKERS (default 2), SCHEMATHESIS_SEED (default: random).
# One worker with one thread: SQLite refuses concurrent writers ("database is locked"), which
# would be reported as server errors of the API.
set -euo pipefail

cd "$(dirname "$0")/.."

WORKDIR="$(mktemp -d)"
SERVER_PID=""
cleanup() {
    if [ -n "$SERVER_PID" ]; then
        kill -TERM "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    rm -rf "$WORKDIR"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

for tool in python schemathesis curl; do
    command -v "$tool" >/dev/null || { echo "$tool is not on PATH (put .venv/bin first)" >&2; exit 1; }
done

PORT="${SCHEMATHESIS_PORT:-$(python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}"
BASE="http://127.0.0.1:${PORT}"

# Only this script's settings: nothing from the caller's shell leaks in.
for name in $(compgen -e); do
    case "$name" in DJANGO_* | JWT_* | CASHMAN_* | GUNICORN_* | GRANIAN_* | FORWARDED_ALLOW_IPS | DATABASE_URL | REDIS_URL) unset "$name" ;; esac
done
export DJANGO_SETTINGS_MODULE=cashman_site.settings.production DJANGO_READ_ENV_FILE=false
DJANGO_SECRET_KEY="schemathesis-$(python -c 'import secrets; print(secrets.token_urlsafe(50))')"
export DJANGO_SECRET_KEY
export DJANGO_ALLOWED_HOSTS=127.0.0.1 DJANGO_SECURE_SSL_REDIRECT=false
export DATABASE_URL="sqlite:///$WORKDIR/db.sqlite3" DJANGO_STATIC_ROOT="$WORKDIR/static"
export JWT_ACCESS_MINUTES=60 CASHMAN_LOGIN_FAILURE_LIMIT=1000000
for scope in ANON USER LOGIN REGISTER PASSWORD_CHANGE IMPORTS; do
    export "CASHMAN_THROTTLE_${scope}=1000000/min"
done
export CASHMAN_BIND="127.0.0.1:${PORT}" CASHMAN_WORKERS=1 CASHMAN_THREADS=1

python manage.py migrate --noinput --verbosity 0
python manage.py collectstatic --noinput --verbosity 0
python manage.py shell -c "
from accounts.services import user_create
user_create(email='fuzzer@example.com', password='a-long-Passphrase-42', is_staff=True)"

python -m cashman_site.serve >"$WORKDIR/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 60); do
    curl -fsS "$BASE/healthz" >/dev/null 2>&1 && break
    sleep 0.5
done
curl -fsS "$BASE/healthz" >/dev/null || { tail -n 40 "$WORKDIR/server.log" >&2; exit 1; }

TOKEN="$(curl -fsS -X POST "$BASE/api/v1/auth/token/" -H 'Content-Type: application/json' \
    -d '{"email": "fuzzer@example.com", "password": "a-long-Passphrase-42"}' \
    | python -c 'import json, sys; print(json.load(sys.stdin)["access"])')"

status=0
schemathesis run "$BASE/api/schema/?format=json" \
    --header "Authorization: Bearer $TOKEN" \
    --max-examples "${SCHEMATHESIS_MAX_EXAMPLES:-10}" \
    --exclude-checks positive_data_acceptance,negative_data_rejection \
    --workers "${SCHEMATHESIS_WORKERS:-2}" \
    ${SCHEMATHESIS_SEED:+--seed "$SCHEMATHESIS_SEED"} \
    --request-timeout 30 \
    --generation-database none \
    --no-color || status=$?
if [ "$status" != 0 ]; then
    echo "--- server errors logged during the run ---" >&2
    grep -E '"level": "ERROR"' "$WORKDIR/server.log" | tail -n 20 >&2 || true
fi
exit "$status"
