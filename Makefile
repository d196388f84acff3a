# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
# The modules mypy checks (django-stubs, djangorestframework-stubs): every write and read, and the
# security plumbing (throttles, lockout hooks, token revocation, request middleware).
TYPED ?= accounts/services.py accounts/selectors.py ledger/services/ ledger/selectors/ cashman_site/fastpaths/ \
	accounts/authentication.py accounts/tokens.py accounts/exceptions.py \
	cashman_site/throttling.py cashman_site/redis_cache.py cashman_site/middleware.py accounts/lockout.py cashman_site/logging.py \
	cashman_site/renderers.py cashman_site/keyset.py

.PHONY: run test install lint migrate demo worker clean bench bench-smoke bench-install

$(BIN)/activate: requirements/base.txt requirements/production.txt requirements/dev.txt
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements/dev.txt
	touch $(BIN)/activate

install: $(BIN)/activate

migrate: install
	$(BIN)/python manage.py migrate --noinput

## Serve Cashman on http://127.0.0.1:8000 with SQLite (set DEMO=1 to load the demo user first).
run: migrate
	@if [ -n "$(DEMO)" ]; then $(BIN)/python manage.py seed_demo; fi
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

## Run the whole test suite (SQLite unless DATABASE_URL says otherwise).
test: install
	$(BIN)/pytest $(PYTEST_ARGS)

## The benchmark's own packages: the lean peers it measures Cashman against (bench/peers/).
$(BIN)/.bench-installed: $(BIN)/activate requirements/bench.txt
	$(BIN)/pip install --quiet -r requirements/bench.txt
	touch $@

bench-install: $(BIN)/.bench-installed

## The benchmark (PostgreSQL, Redis and wrk; see bench/README.md): seeds 1,000,000 rows once,
## then the growth table (the same reads at 1,000, 100,000 and 1,000,000 rows).
bench: install bench-install
	$(BIN)/python -m bench.run
	$(BIN)/python -m bench.growth --json bench/results/growth.json

## The benchmark at a tiny scale in its own database, one short round: checks the harness works.
bench-smoke: install bench-install
	$(BIN)/python -m bench.run --smoke
	$(BIN)/python -m bench.growth --smoke --repeats 1

## A Celery worker for imports and emails, with beat's schedule embedded (needs REDIS_URL; without
## it tasks run in-process). Run beat once for all workers: with several, start one with --beat.
worker: install
	$(BIN)/celery -A cashman_site worker --beat --schedule $(VENV)/celerybeat-schedule --loglevel INFO

demo: migrate
	$(BIN)/python manage.py seed_demo

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy $(TYPED)

clean:
	rm -rf $(VENV) staticfiles .pytest_cache
