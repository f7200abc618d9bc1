# Sigill: `make run` serves the web office on embedded defaults; `make test` runs every test.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
SIGILL := $(VENV)/bin/sigill
export SIGILL_INSTANCE ?= $(CURDIR)/instance
APT_PACKAGES := chromium poppler-utils qpdf ghostscript fonts-dejavu-core zbar-tools

.PHONY: run test bench lint setup system-deps translations clean

setup: $(VENV)/.installed translations

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -e '.[test]'
	@if [ -f package.json ]; then npm ci --no-audit --no-fund --silent || npm install --no-audit --no-fund --silent; fi
	@if [ -f package.json ]; then $(PY) -m core.vendor; fi
	touch $@

translations: $(VENV)/.installed
	@$(VENV)/bin/pybabel compile -q -d core/translations -f 2>/dev/null || $(VENV)/bin/pybabel compile -d core/translations -f

# Debian packages the tests and the sealing pipeline use (Chromium for Playwright, pdfsig, qpdf ...).
system-deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages:$$missing"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

run: setup
	$(SIGILL) db upgrade
	$(SIGILL) demo
	$(SIGILL) serve --host 127.0.0.1 --port 5000

test: setup system-deps
	$(PY) -m pytest $(PYTEST_ARGS)

bench: setup system-deps
	$(PY) -m bench

lint: setup
	$(VENV)/bin/ruff check .

clean:
	rm -rf $(VENV) instance node_modules core/static/vendor
