# Carebook: `make run` serves the app locally, `make test` runs the whole suite.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
export FLASK_APP := wsgi
# Languages other than English (README, "Languages"): their catalogues and compiled files.
LOCALES := es
PO_FILES := $(foreach l,$(LOCALES),translations/$(l)/LC_MESSAGES/messages.po)
MO_FILES := $(PO_FILES:.po=.mo)
BABEL_KEYWORDS := -k _l -k lazy_gettext -k lazy_ngettext:1,2 -k N_

.PHONY: run test lint format bench worker clean extract translations

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt $(VENV)/.installed
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

# Without STRIPE_SECRET_KEY, card payments go to localstripe (a Stripe stand-in that also serves
# a Stripe.js stand-in), started here in the background and stopped with the server.
LOCALSTRIPE_PORT ?= 8420
LOCALSTRIPE := http://127.0.0.1:$(LOCALSTRIPE_PORT)

# gevent workers: one greenlet per request or open WebSocket, so a process holds many idle
# sockets (README, "Real time"). No gunicorn access log: it would print query strings, and password-reset links carry their
# token there. The app logs every request itself (method, path, status, time, request id).
run: $(VENV)/.installed $(MO_FILES)
	$(BIN)/flask db upgrade
	$(BIN)/flask seed-demo --if-empty
	@echo "Carebook: http://$(HOST):$(PORT)/"
	@set -e; \
	if [ -z "$$STRIPE_SECRET_KEY" ]; then \
		mkdir -p instance; \
		$(BIN)/python -m localstripe --port $(LOCALSTRIPE_PORT) --from-scratch \
			> instance/localstripe.log 2>&1 & \
		LOCALSTRIPE_PID=$$!; \
		trap 'kill $$LOCALSTRIPE_PID 2>/dev/null || true' EXIT INT TERM; \
		export STRIPE_SECRET_KEY=sk_test_localstripe STRIPE_PUBLISHABLE_KEY=pk_test_localstripe \
			STRIPE_WEBHOOK_SECRET=whsec_localstripe STRIPE_API_BASE=$(LOCALSTRIPE) \
			STRIPE_JS_URL=$(LOCALSTRIPE)/js.stripe.com/v3/; \
		$(BIN)/python -c "import time, urllib.request as u; \
			[time.sleep(0.2) for _ in range(100) if not __import__('socket').socket().connect_ex(('127.0.0.1', $(LOCALSTRIPE_PORT))) == 0]; \
			u.urlopen(u.Request('$(LOCALSTRIPE)/_config/webhooks/carebook', method='POST', \
			data=b'url=http://127.0.0.1:$(PORT)/webhooks/stripe&secret=whsec_localstripe'))"; \
		echo "Card payments: localstripe at $(LOCALSTRIPE) (test card 4242 4242 4242 4242)"; \
	fi; \
	$(BIN)/gunicorn --bind $(HOST):$(PORT) --workers 1 --worker-class gevent \
		--worker-connections 1000 --no-control-socket wsgi:app

test: $(VENV)/.installed-dev $(MO_FILES)
	@if [ ! -d tests/oidc/node_modules ] && command -v npm >/dev/null 2>&1; then \
		npm ci --prefix tests/oidc --no-audit --no-fund; fi
	@if [ ! -d tests/e2e/node_modules ] && command -v npm >/dev/null 2>&1; then \
		npm ci --prefix tests/e2e --no-audit --no-fund; fi
	$(BIN)/pytest $(PYTEST_ARGS)

# Languages (README, "Languages"): English in the sources, one catalogue per other language.
# `make extract` gathers the strings from app/ and templates/ (babel.cfg) into each .po: new
# ones come in untranslated, for a translator to fill; `make translations` compiles the .po
# files into the .mo files the app reads. Both are committed; the tests fail when a string is
# missing from a catalogue, untranslated or fuzzy, or when a .mo does not match its .po.

extract: $(VENV)/.installed
	$(BIN)/pybabel extract -F babel.cfg $(BABEL_KEYWORDS) --no-location --sort-output \
		--project Carebook --copyright-holder Carebook -o translations/messages.pot .
	$(BIN)/pybabel update -i translations/messages.pot -d translations \
		--no-fuzzy-matching --ignore-obsolete

translations: $(MO_FILES)

translations/%/LC_MESSAGES/messages.mo: translations/%/LC_MESSAGES/messages.po | $(VENV)/.installed
	$(BIN)/pybabel compile -d translations -l $* --statistics

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.installed-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Benchmarks against PostgreSQL (BENCH_DATABASE_URL); figures in bench/README.md.
bench: $(VENV)/.installed-dev
	$(BIN)/python bench/seed_large.py
	$(BIN)/python bench/bench_search.py
	$(BIN)/python bench/bench_booking.py

worker: $(VENV)/.installed
	$(BIN)/python -m workers

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
