# Istmo: `make serve` runs the service on its embedded defaults, `make test` runs the whole suite.
PYTHON ?= python3.11
VENV   ?= .venv
BIN    := $(VENV)/bin
export ISTMO_DATA_DIR ?= $(CURDIR)/var

.PHONY: serve test bench lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

serve: $(VENV)/.installed
	$(BIN)/istmo db upgrade
	$(BIN)/istmo tenants create demo --name "Demo PYME" --exist-ok
	@echo "Dev bearer token for tenant demo (paste as  Authorization: Bearer <token>):"
	@$(BIN)/istmo token --tenant demo --ttl 7d
	@echo "GraphQL (GraphiQL on GET): http://127.0.0.1:8000/graphql"
	$(BIN)/istmo serve --dev --host 127.0.0.1 --port 8000

test: $(VENV)/.installed
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -n auto --dist loadgroup

bench: $(VENV)/.installed
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) var .pytest_cache .hypothesis
