# Swarmboard: `make run` serves the demo, `make test` runs every test. Python 3.11+.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run serve serve-cluster test quicktest lint format bench soak clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Swarmboard needs Python 3.11 or newer; set PYTHON=python3.11")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	@touch $@

$(VENV)/.installed-serve: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[serve]'
	@touch $@ $(VENV)/.installed

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev,postgres,redis,serve]'
	@touch $@ $(VENV)/.installed $(VENV)/.installed-serve

run: $(VENV)/.installed
	$(FLASK) db upgrade
	$(FLASK) seed-demo --if-empty
	@echo ""
	@echo "  Swarmboard is at http://$(HOST):$(PORT)"
	@echo "  Log in as: alice / swarmboard-demo   (other demo people: bob, carol, dan, erin, viewer)"
	@echo ""
	$(FLASK) run --host $(HOST) --port $(PORT)

# Production: gunicorn, one gevent-websocket worker per process (Socket.IO keeps each client's
# state in the process it connected to). PROCESSES=N runs N processes on ports PORT, PORT+1, ...
# that must share DATABASE_URL and REDIS_URL (the message queue that carries every push to every
# process); the load balancer in front needs sticky sessions, or clients on websocket transport.
# Processes on several machines also need one SECRET_KEY in the environment.
PROCESSES ?= 1
WORKER_CONNECTIONS ?= 4000
GUNICORN := $(BIN)/gunicorn --worker-class geventwebsocket.gunicorn.workers.GeventWebSocketWorker \
	--workers 1 --worker-connections $(WORKER_CONNECTIONS)
serve serve-cluster: PORT := $(if $(filter file,$(origin PORT)),8000,$(PORT))
serve-cluster: PROCESSES := $(if $(filter file,$(origin PROCESSES)),2,$(PROCESSES))

serve serve-cluster: $(VENV)/.installed-serve
	@if [ "$(PROCESSES)" -gt 1 ] && [ -z "$$REDIS_URL" ]; then \
		echo "PROCESSES=$(PROCESSES) needs REDIS_URL (e.g. redis://127.0.0.1:6379/0): without a message queue a change reaches only the clients of the process that made it." >&2; \
		exit 2; fi
	$(FLASK) db upgrade
	@echo "  Swarmboard serves $(PROCESSES) process(es) from http://$(HOST):$(PORT)"
	@trap 'kill $$pids 2>/dev/null; wait' INT TERM; pids=""; \
	for i in $$(seq 0 $$(($(PROCESSES) - 1))); do \
		SOCKETIO_ASYNC_MODE=gevent $(GUNICORN) --bind $(HOST):$$(($(PORT) + i)) wsgi:app & \
		pids="$$pids $$!"; \
	done; wait

# The single sign-on tests run a real OpenID Connect provider (tests/oidc, Node oidc-provider);
# the short soak listens with Node socket.io-client (bench/listener).
NODE_PARTS := tests/oidc bench/listener
test: $(VENV)/.installed-dev
	$(BIN)/ruff check app tests bench
	$(BIN)/lint-imports
	@for part in $(NODE_PARTS); do \
		if command -v npm >/dev/null 2>&1 && { [ ! -d $$part/node_modules ] || [ $$part/package-lock.json -nt $$part/node_modules ]; }; then \
			npm ci --prefix $$part --no-audit --no-fund --silent; fi; \
	done
	$(BIN)/python -m pytest

quicktest: $(VENV)/.installed-dev
	$(BIN)/python -m pytest -m "not e2e and not postgres" -q

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check app tests bench
	$(BIN)/lint-imports

format: $(VENV)/.installed-dev
	$(BIN)/ruff format app tests bench
	$(BIN)/ruff check --fix app tests bench

# The live benchmarks listen with Node socket.io-client (bench/listener) when npm can install it,
# with python-socketio otherwise (BENCH_LISTENERS=python forces that, for comparison).
LISTENER := bench/listener
bench: $(VENV)/.installed-dev
	@if ! command -v npm >/dev/null 2>&1; then \
		echo "npm not found: the live benchmarks listen with python-socketio, not Node socket.io-client"; \
	elif [ ! -d $(LISTENER)/node_modules ] || [ $(LISTENER)/package-lock.json -nt $(LISTENER)/node_modules ]; then \
		npm ci --prefix $(LISTENER) --no-audit --no-fund --silent \
		|| { rm -rf $(LISTENER)/node_modules; echo "npm ci failed: the live benchmarks listen with python-socketio"; }; \
	fi
	$(BIN)/python -m bench

# Two `make serve` processes on PostgreSQL and a Redis of its own, 200 sockets, 10 movers; then a
# process killed, Redis restarted, PostgreSQL cut for 10 s, a listener stalled (bench/soak.py).
# SOAK_SECONDS per scenario (180 by default; five scenarios).
soak: $(VENV)/.installed-dev
	@if [ ! -d $(LISTENER)/node_modules ] || [ $(LISTENER)/package-lock.json -nt $(LISTENER)/node_modules ]; then \
		npm ci --prefix $(LISTENER) --no-audit --no-fund --silent; \
	fi
	$(BIN)/python -m bench.soak

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
