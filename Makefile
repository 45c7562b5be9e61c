# Two commands do all the set-up: `make run` and `make test`. See README.md.
VENV ?= .venv
PY := $(VENV)/bin/python
FLASK := $(VENV)/bin/flask --app app
PORT ?= 5000
DEMO_PORT ?= 8000
# A development-only signing secret, so `flask stripe simulate` works out of the box.
DEV_ENV := MEMBERSHIP_ENV=development \
	STRIPE_WEBHOOK_SECRET=$${STRIPE_WEBHOOK_SECRET:-whsec_dev_only_not_a_real_secret}

.PHONY: install run test lint simulate admin-user bench widget clean

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed

# Migrate the SQLite default, seed the demo campaign (with six weeks of simulated history, the
# first time only), serve the API on :$(PORT) and a publisher's demo article on another origin
# (:$(DEMO_PORT)), as a real embed would be, and the notification worker (milestones, digests).
run: install
	$(DEV_ENV) $(FLASK) db upgrade
	$(DEV_ENV) $(FLASK) campaign seed-demo
	@echo
	@echo "  Home page (every campaign's bar):  http://127.0.0.1:$(PORT)/"
	@echo "  Demo article (embeds the widget):  http://localhost:$(DEMO_PORT)/article.html"
	@echo "  Progress API:                      http://127.0.0.1:$(PORT)/api/campaigns/members"
	@echo "  Iframe embed:                      http://127.0.0.1:$(PORT)/embed/members"
	@echo "  Admin dashboard:                   http://127.0.0.1:$(PORT)/admin/ (log in: make admin-user)"
	@echo "  Make the bar move (another shell): make simulate"
	@echo
	$(PY) -m http.server $(DEMO_PORT) --bind 127.0.0.1 --directory demo >/dev/null 2>&1 & \
	demo=$$!; \
	$(DEV_ENV) $(FLASK) notify run & \
	worker=$$!; \
	trap 'kill $$demo $$worker 2>/dev/null' EXIT INT TERM; \
	$(DEV_ENV) $(FLASK) run --host 127.0.0.1 --port $(PORT)

simulate: install
	$(DEV_ENV) $(FLASK) stripe simulate -n $${N:-25} --url http://127.0.0.1:$(PORT)/webhooks/stripe

# An admin login for the local dashboard: asks for a password (NAME=… for another name).
admin-user: install
	$(DEV_ENV) $(FLASK) admin create-user $${NAME:-admin}

# The whole suite on SQLite, then again on PostgreSQL when TEST_DATABASE_URL is set.
test: install
	env -u TEST_DATABASE_URL $(VENV)/bin/pytest
	@if [ -n "$$TEST_DATABASE_URL" ]; then \
		echo "--- again on PostgreSQL ($$TEST_DATABASE_URL)"; \
		$(VENV)/bin/pytest; \
	else echo "TEST_DATABASE_URL is not set: PostgreSQL run skipped"; fi

# Benchmarks (not part of the test run): read, scale, ingest and widget figures as ratios
# measured in one run; needs wrk (apt-get install wrk). Writes bench/results.json.
bench: install
	$(PY) bench/run.py
	$(PY) bench/imports_speed.py

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check membership tests app.py

# Rebuild static/widget.js from static/widget.src.js (needs Node; the service does not).
widget:
	cd tools/widget && npm ci --silent && npm run build

clean:
	rm -rf $(VENV) instance .pytest_cache .hypothesis
