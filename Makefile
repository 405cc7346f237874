# Everything runs inside .venv, made on first use; nothing is installed system-wide.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: demo serve test typecheck lint format migration i18n install install-dev clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Installing is remembered by a stamp file in .venv: it runs again only when pyproject.toml is newer
# (or .venv is new), so a second `make demo` starts at once. The dev extra includes the base install.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	@touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@ $(VENV)/.installed

install: $(VENV)/.installed

install-dev: $(VENV)/.installed-dev

## demo: install, migrate, load the demo programme and serve on http://127.0.0.1:8000
demo: install
	$(BIN)/wuchuang serve --demo

serve: install
	$(BIN)/wuchuang serve

## test: install with the dev extra, type-check, then run the whole suite on every core (pytest-xdist; PostgreSQL too if WUCHUANG_TEST_POSTGRES_URL is set, one database per worker)
test: install-dev
	$(BIN)/mypy
	$(BIN)/python -m pytest -q -n auto --maxprocesses=4 --dist worksteal

## typecheck: mypy as configured in pyproject.toml (strict for events/; cached in .mypy_cache)
typecheck: install-dev
	$(BIN)/mypy

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install-dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

## migration: make name=add_tickets — autogenerate a revision from the models (then review it)
migration: install-dev
	$(BIN)/alembic upgrade head
	$(BIN)/alembic revision --autogenerate -m "$(name)"

## i18n: extract messages, merge them into the catalogues, compile
i18n: install-dev
	$(BIN)/pybabel extract -F babel.cfg -k N_ -o events/locales/wuchuang.pot --no-location --omit-header --sort-output --ignore-dirs=".venv tests benchmarks migrations data build" .
	$(BIN)/pybabel update -i events/locales/wuchuang.pot -d events/locales -D wuchuang -N --width 120
	$(BIN)/pybabel compile -d events/locales -D wuchuang

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache *.egg-info
