# make run    - the services and the gateway, in the foreground
# make test   - the whole test suite, against real RabbitMQ and Redis
#               (the cluster group beside the rest: scripts/run-tests)
# make bench  - the load benchmark
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

.PHONY: run test lint services browser install clean bench bench-replicas wrk

run: services $(INSTALLED)
	$(BIN)/python -m travel_common.runstack

test: services $(INSTALLED) browser
	$(BIN)/ruff check .
	$(BIN)/bandit -q -r gateway_falcon airports_svc trips_svc schemas travel_common -ll
	PYTHON=$(BIN)/python scripts/run-tests

install: $(INSTALLED)

$(INSTALLED): setup.cfg pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	touch $@

# RabbitMQ and Redis: installed from the distribution's packages and started
# when needed and possible (ENSURE_SERVICES=0: only checked); see the README.
services:
	scripts/ensure-services

# Debian's chromium, for the docs page test (Playwright drives it; no download).
browser:
	command -v chromium >/dev/null || (apt-get update && apt-get install -y chromium)

lint: $(INSTALLED)
	$(BIN)/ruff check .

# Debian's wrk, the HTTP load generator of the benchmark.
wrk:
	command -v wrk >/dev/null || (apt-get update && apt-get install -y wrk)

# BENCH_QUICK=1 for a quick run; bench/run.py lists the other knobs. The bench
# runs a RabbitMQ node and a Redis server of its own (rabbitmq-server, redis-server).
bench: $(INSTALLED) services wrk
	$(BIN)/python -m bench

# What REDIS_MIN_REPLICAS=1 costs: 0 against 1 on a primary and a replica.
bench-replicas: $(INSTALLED) services wrk
	$(BIN)/python -m bench.replicas

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache .ruff_cache
