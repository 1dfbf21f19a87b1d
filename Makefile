# 健保資訊網服務系統 (VPN) — the commands the README documents.
#   make run    install what is missing (Debian packages as root, a venv), then start the
#               portal with demo data: Redis, worker, scheduler and gunicorn; Ctrl-C stops all
#   make test   the whole test suite (lint, ES5 check, pytest incl. Redis, PostgreSQL, chromium)
#   make bench  throughput (gunicorn + wrk, ratios to a hello-world route) and full-login times
#   make bench-search  keyword search over 1,000,000 announcements on SQLite and PostgreSQL
#   make bench-files   AES packaging vs bare pyzipper, 下載捷徑專區 over 1,000,000 file rows on SQLite
#                      and PostgreSQL, peak RSS packaging a 1 GB file
#   make bench-uploads upload checks: MB/s beside a parse-only pass (5 MB and 200 MB claims, 20 MB IC day),
#                      peak RSS checking a 1 GB claim, upload → 檢核完成 through gunicorn and a real worker

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
NPM_TOOLS := tests/tooling/node_modules/.package-lock.json

RUN_PACKAGES  := redis-server python3-venv
TEST_PACKAGES := redis-server python3-venv chromium chromium-driver postgresql nodejs npm \
                 pcscd libpcsclite-dev vsmartcard-vpcd gcc python3-dev

.PHONY: run test bench bench-search bench-files bench-uploads setup test-setup lint es5 clean

run: setup
	$(PY) -m portal.launch

setup: $(VENV)/.run-deps

$(VENV)/.run-deps: requirements.txt
	PYTHON=$(PYTHON) ./.ci/ensure-packages $(RUN_PACKAGES)
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt
	touch $@

test-setup: $(VENV)/.test-deps $(NPM_TOOLS)

$(VENV)/.test-deps: $(VENV)/.run-deps tests/requirements.txt
	PYTHON=$(PYTHON) ./.ci/ensure-packages --optional $(TEST_PACKAGES)
	$(PY) -m pip install -q -r tests/requirements.txt
	touch $@

$(NPM_TOOLS): tests/tooling/package.json tests/tooling/package-lock.json
	cd tests/tooling && npm ci --no-audit --no-fund --loglevel=error

lint: test-setup
	$(PY) -m ruff check --config .ci/ruff.toml .

es5: test-setup
	tests/tooling/node_modules/.bin/es-check es5 'static/js/**/*.js' 'portal/cardagent/static/*.js'

test: lint es5
	$(PY) -m pytest tests; rc=$$?; if [ $$rc -eq 5 ]; then echo "pytest: no tests collected"; rc=0; fi; exit $$rc

bench: test-setup
	PYTHON=$(PYTHON) ./.ci/ensure-packages wrk
	$(PY) -m tests.perf.bench
	$(PY) -m pytest tests/cardagent/test_full_login_timing.py -q -p no:randomly

bench-search: test-setup
	$(PY) -m tests.perf.search_bench

bench-files: test-setup
	$(PY) -m tests.perf.files_bench

bench-uploads: test-setup
	$(PY) -m tests.perf.upload_bench

clean:
	rm -rf $(VENV) tests/tooling/node_modules test-artifacts
