# Two entry points for a new user: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PG_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/postgres

.PHONY: demo test lint bench clean

$(BIN)/campaign: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $@

DEMO_SERVE ?= 1
DEMO_DAY ?= 2024-10-09

# The year on SQLite, then (unless DEMO_SERVE=0) the web workspace on a copy stopped at DEMO_DAY.
demo: $(BIN)/campaign
	rm -rf demo && mkdir -p demo
	cd demo && ../$(BIN)/campaign demo --enterprises 6000 --workspace $(DEMO_DAY)
ifneq ($(DEMO_SERVE),0)
	cd demo && CAMPAIGN_DB=workspace.db CAMPAIGN_NOW=$(DEMO_DAY)T10:00:00+08:00 ../$(BIN)/campaign serve
endif

test: $(BIN)/campaign
	$(BIN)/ruff check .
	$(BIN)/mypy
	CAMPAIGN_TEST_PG_URL=$${CAMPAIGN_TEST_PG_URL:-$(PG_URL)} $(BIN)/pytest -q $(PYTEST_ARGS)
	@echo "the date and clock tests again, in a zone far from Asia/Shanghai (SQLite):"
	TZ=America/New_York CAMPAIGN_REQUIRE_PG=0 $(BIN)/pytest -q -m "clock and not postgres"

bench: $(BIN)/campaign
	$(BIN)/python bench/run.py
	$(BIN)/python bench/web_load.py
	$(BIN)/python bench/pg_province.py --pg $(PG_URL)
	$(BIN)/python bench/pg_lock.py --pg $(PG_URL)

clean:
	rm -rf $(VENV) demo *.egg-info
