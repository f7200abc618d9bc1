# Sigill: `make run` serves the web office on embedded defaults; `make test` runs every test.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
SIGILL := $(VENV)/bin/sigill
export SIGILL_INSTANCE ?= $(CURDIR)/instance
# tesseract-ocr reads the MRZ of ID documents (plugins/id_check); fonts-ocr-b draws its test specimens;
# GNU time measures tesseract's own peak memory in make bench.
APT_PACKAGES := chromium poppler-utils qpdf ghostscript fonts-dejavu-core zbar-tools libreoffice-writer-nogui wrk tesseract-ocr tesseract-ocr-eng fonts-ocr-b time

.PHONY: run test bench chaos lint setup system-deps translations clean

setup: $(VENV)/.installed translations

$(VENV)/.installed: pyproject.toml package.json package-lock.json
	test -x $(PY) || python3 -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -e '.[test]'
	@if [ -f package.json ]; then npm ci --no-audit --no-fund --silent || npm install --no-audit --no-fund --silent; fi
	@if [ -f package.json ]; then $(PY) -m core.vendor; fi
	touch $@

# The core's catalogue and each plugin's own (plugins/*/translations, and the test plugins').
translations: $(VENV)/.installed
	@for dir in core/translations $$(ls -d plugins/*/translations tests/plugins/*/translations 2>/dev/null); do \
		$(VENV)/bin/pybabel compile -q -d $$dir -f 2>/dev/null || $(VENV)/bin/pybabel compile -d $$dir -f || exit 1; \
	done

# Debian packages the tests and the sealing pipeline use (Chromium for Playwright, pdfsig, qpdf ...);
# tesseract reads ID documents' MRZ, fonts-ocr-b draws the test specimens.
system-deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages:$$missing"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

# `make run` also starts a local BankID (the simulator, certificates in instance/bankid-sim) and points
# the web office at it; its phone page plays the BankID app. When it cannot start (port taken ...)
# the office runs without BankID. A BANKID_URL in the environment wins: then no simulator is started.
BANKID_SIM_CERTS := $(SIGILL_INSTANCE)/bankid-sim
BANKID_SIM_PORT ?= 8443
BANKID_SIM_CONTROL_PORT ?= 8444

run: setup
	$(SIGILL) db upgrade
	$(SIGILL) demo
	@if [ -z "$$BANKID_URL" ]; then \
		$(SIGILL) bankid-simulator --port $(BANKID_SIM_PORT) --control-port $(BANKID_SIM_CONTROL_PORT) \
			--certs "$(BANKID_SIM_CERTS)" >"$(SIGILL_INSTANCE)/bankid-simulator.log" 2>&1 & sim=$$!; \
		trap 'kill $$sim 2>/dev/null' EXIT; \
		for i in $$(seq 100); do \
			kill -0 $$sim 2>/dev/null || break; \
			(exec 3<>/dev/tcp/127.0.0.1/$(BANKID_SIM_CONTROL_PORT)) 2>/dev/null && break; \
			sleep 0.2; \
		done; \
		if kill -0 $$sim 2>/dev/null && [ -f "$(BANKID_SIM_CERTS)/rp.p12" ]; then \
			export BANKID_URL=https://127.0.0.1:$(BANKID_SIM_PORT)/rp/v6.0/ \
				BANKID_CERT_P12="$(BANKID_SIM_CERTS)/rp.p12" BANKID_CERT_PASSWORD=qwerty123 \
				BANKID_CA="$(BANKID_SIM_CERTS)/ca.pem" \
				BANKID_APP_URL=http://127.0.0.1:$(BANKID_SIM_CONTROL_PORT)/sim/autostart; \
			echo "BankID: the simulator's phone page is http://127.0.0.1:$(BANKID_SIM_CONTROL_PORT)/sim/"; \
		else \
			echo "BankID simulator did not start (see $(SIGILL_INSTANCE)/bankid-simulator.log): BankID is off"; \
		fi; \
	fi; \
	DEBUG_OUTBOX=$${DEBUG_OUTBOX:-1} $(SIGILL) serve --host 127.0.0.1 --port 5000

# The suite runs in TEST_WORKERS processes (pytest-xdist), each test file on one of them (a file's
# browser and PDFs are made once); TEST_WORKERS=0 runs it in one process. Each worker uses its own
# Redis database number (TEST_REDIS_URL's plus the worker's number, see tests/conftest.py).
TEST_WORKERS ?= 2

test: setup system-deps
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

bench: setup system-deps
	$(PY) -m bench

# Fault runs on the production shape (own redis-server, own workers, own PostgreSQL database and proxy).
chaos: setup system-deps
	$(PY) -m bench.chaos

lint: setup
	$(VENV)/bin/ruff check .

clean:
	rm -rf $(VENV) instance node_modules core/static/vendor
