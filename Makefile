# Two commands from a fresh clone (OPERATIONS.md): `make run` and `make test`.
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.requirements-installed
PORT   ?= 5003
export PORT

.PHONY: setup system-deps run test train evaluate bench lint clean

setup: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $(STAMP)

# Choose the market once, queue the default profile's training (1h first) when MODELS_DIR holds no trained
# models, then run the Procfile's web and worker lines together from the repo root (honcho; Ctrl-C stops
# both). The web answers at once; the worker trains. bootstrap.py writes data/run.env: the candle folder
# both serve and train on (OHLCV_DIR, absolute), and SYNTHETIC=1 (loudly) only when it trains on the
# synthetic market. An OHLCV_DIR without candles stops it here.
run: setup
	$(PY) scripts/bootstrap.py
	set -a && . data/run.env && set +a && exec $(VENV)/bin/honcho start

# Debian packages the tests start for real: PostgreSQL and Redis (the job store's and the queue's
# server backends) and Chromium (the dashboard's browser tests drive it with Playwright; no browser is
# downloaded). Installed once; without root or apt the tests that need them skip and say why.
SYSTEM_PACKAGES := postgresql redis-server chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo -n)

system-deps:
	@if ! command -v redis-server >/dev/null || ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || \
	    ! command -v chromium >/dev/null; then \
	  echo "installing $(SYSTEM_PACKAGES) with apt-get"; \
	  ($(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq \
	    --no-install-recommends $(SYSTEM_PACKAGES) >/dev/null) || \
	  echo "could not install $(SYSTEM_PACKAGES): the PostgreSQL, Redis and browser tests will skip"; \
	fi

test: setup system-deps
	$(PY) -m pytest

lint: setup
	test -x $(VENV)/bin/ruff || $(PY) -m pip install --quiet ruff
	$(VENV)/bin/ruff check python-services tests scripts

bench: setup
	$(PY) scripts/bench_data.py
	$(PY) scripts/bench_models.py
	$(PY) scripts/bench_api.py

clean:
	rm -rf $(VENV) .pytest_cache
