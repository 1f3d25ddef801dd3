# The two commands in the README: `make demo` and `make test`. Each one creates
# the virtual environment and installs requirements.txt first when needed.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-sqlite test-postgres run bench clean

$(STAMP): requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python app.py demo

run: $(STAMP)
	$(BIN)/python app.py run

# The suite runs on SQLite, then again on PostgreSQL when TEST_DATABASE_URL is set.
test: test-sqlite test-postgres

test-sqlite: $(STAMP)
	env -u TEST_DATABASE_URL ALLOW_SQLITE_ONLY=1 $(BIN)/python -m pytest -q

test-postgres: $(STAMP)
	@if [ -n "$$TEST_DATABASE_URL" ]; then \
		$(BIN)/python -m pytest -q; \
	else \
		echo "TEST_DATABASE_URL is not set: skipping the PostgreSQL pass (set it to postgresql+psycopg://user@host:5432/db)"; \
	fi

bench: $(STAMP)
	$(BIN)/python bench/import_bench.py
	$(BIN)/python bench/lookup_bench.py

clean:
	rm -rf $(VENV) var .pytest_cache
