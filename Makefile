# The two set-up commands: `make demo` and `make test`. Both create .venv and install on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/mlwarden demo
	@echo "To open the dashboard: $(BIN)/mlwarden demo --serve — it runs the demo again, keeps serving on"
	@echo "http://127.0.0.1:8000 and prints a token to paste at http://127.0.0.1:8000/login (Ctrl-C stops it)."

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: $(STAMP)
	$(BIN)/python bench/peers.py

clean:
	rm -rf $(VENV) build *.egg-info src/*.egg-info .pytest_cache
