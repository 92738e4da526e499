# Kattoo — the two commands are `make run` and `make test` (see README.md).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
HOST ?= 127.0.0.1
PG_URL ?= postgres://kattoo:kattoo@127.0.0.1:5432/kattoo
# Test processes (pytest-xdist): one per core by default; each gets its own test database.
# `make test TEST_WORKERS=0` runs the suite in one process.
TEST_WORKERS ?= auto
PYTEST_PARALLEL := -n $(TEST_WORKERS) --dist worksteal
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: run test install messages lint typecheck check test-pg test-sqlite demo worker clean audit bench bench-service

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

# Reinstall only when the dependencies change.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e ".[dev,prod]"
	touch $@

install: $(VENV)/.installed messages

# Compiled catalogs are build output; Babel compiles them without system gettext.
messages: $(VENV)/.installed
	@for lang in ky ru uz en; do \
	  $(BIN)/pybabel -q compile -d locale -D django -l $$lang || exit 1; \
	done

# `make run`: a working demo on a bare machine: SQLite, the Tunduk simulator over HTTP, the
# task worker, the outbox drain, the minute timers (audit seal, outbox sweeper, waitlist
# sweep) and the web server, all stopped together by Ctrl+C.
SIM_PORT ?= 8100
# The demo is rebuilt on a new SQLite file each time (STAGE=before|1|2, default 1): it is one
# use of the real lifecycle, replayed up to now (kattoo/demo, docs/runbooks/campaign.md).
STAGE ?= 1
run: export KATTOO_PUBLIC_URL ?= http://$(HOST):$(PORT)
run: install
	rm -f var/kattoo.sqlite3 var/kattoo.sqlite3-wal var/kattoo.sqlite3-shm
	$(BIN)/python manage.py migrate --noinput -v0
	$(BIN)/python manage.py load_demo --stage $(STAGE)
	@echo ""
	@echo "  Kattoo is running at http://$(HOST):$(PORT)/  (API: http://$(HOST):$(PORT)/api/v1/docs)"
	@echo "  Tunduk simulator: http://127.0.0.1:$(SIM_PORT)/_admin/health   SMS go to var/outbox.jsonl"
	@echo "  Stop with Ctrl+C."
	@trap 'kill 0' EXIT INT TERM; \
	  $(BIN)/python -m kattoo.tunduk_sim --population var/registry-population.json --port $(SIM_PORT) >var/tunduk-sim.log 2>&1 & \
	  export KATTOO_REGISTRY_BACKEND=kattoo.integrations.registry.xroad.XRoadRegistry; \
	  export KATTOO_XROAD_SECURITY_SERVER=http://127.0.0.1:$(SIM_PORT); \
	  $(BIN)/python manage.py db_worker --queue-name '*' >var/worker.log 2>&1 & \
	  $(BIN)/python manage.py notifications_drain >var/drain.log 2>&1 & \
	  while sleep 60; do \
	    $(BIN)/python manage.py opening_hold >>var/timers.log 2>&1; \
	    $(BIN)/python manage.py audit_seal >>var/audit-seal.log 2>&1; \
	    $(BIN)/python manage.py notifications_requeue >>var/timers.log 2>&1; \
	    $(BIN)/python manage.py waitlist_sweep >>var/timers.log 2>&1; \
	  done & \
	  $(BIN)/python manage.py runserver --noreload $(HOST):$(PORT)

# `make test`: everything on PostgreSQL (started if needed), then a smoke run on SQLite.
test: install check test-pg test-sqlite

check: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check kattoo tests config
	DJANGO_SETTINGS_MODULE=config.settings.test $(BIN)/mypy kattoo config
	DJANGO_SETTINGS_MODULE=config.settings.test $(BIN)/python manage.py makemigrations --check --dry-run -v1
	DJANGO_SETTINGS_MODULE=config.settings.test $(BIN)/python manage.py check

test-pg: install
	bash scripts/ensure-postgres.sh
	bash scripts/ensure-chromium.sh
	bash scripts/ensure-bench-tools.sh
	bash scripts/ensure-redis.sh
	DATABASE_URL=$(PG_URL) $(BIN)/pytest --create-db -q $(PYTEST_PARALLEL)

test-sqlite: install
	bash scripts/ensure-chromium.sh
	$(BIN)/pytest -q $(PYTEST_PARALLEL) -m "not postgres and not browser"

# Known vulnerabilities in the installed dependencies (pip-audit): fails on a vulnerable
# package, only warns when the advisory service cannot be reached (scripts/dependency-audit.sh).
audit: install
	bash scripts/dependency-audit.sh

# `make bench`: the flash-crowd benchmark over HTTP (bench/flash_crowd.py, issue 6) in its own
# PostgreSQL cluster under var/bench; results in bench/results/latest.json and docs/performance.md.
bench: install
	bash scripts/ensure-bench-tools.sh
	$(BIN)/python -m bench.flash_crowd

# The earlier service-level benchmark (no HTTP), on the shared development server.
bench-service: install
	bash scripts/ensure-postgres.sh
	DATABASE_URL=$(PG_URL) $(BIN)/python -m bench.register_race

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
