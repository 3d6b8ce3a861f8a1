# Istmo: `make serve` runs the service on its embedded defaults, `make test` runs the whole suite.
# Debian's CPython 3.11 is built with PGO and LTO, its interpreter linked statically; pyenv's, the
# first python3.11 on PATH here, has neither. The PDF renderer is Python-bound: ~10% faster on
# Debian's. It is taken when it can make a venv and compile extensions (python3.11-venv, -dev).
DEBIAN_PYTHON := $(shell /usr/bin/python3.11 -c 'import ensurepip, sysconfig, os, sys;   sys.exit(not os.path.exists(sysconfig.get_paths()["include"] + "/Python.h"))' 2>/dev/null && echo /usr/bin/python3.11)
PYTHON ?= $(or $(DEBIAN_PYTHON),python3.11)
VENV   ?= .venv
BIN    := $(VENV)/bin
export ISTMO_DATA_DIR ?= $(CURDIR)/var

.PHONY: serve test bench lint clean pdf-modules mutate

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# WeasyPrint needs Pango (on the image) and, for its fast font subsetting, HarfBuzz's subset
# library; DejaVu is the built-in layouts' font. Installed when missing and we are root.
SYSTEM_PACKAGES := libharfbuzz-subset0 fonts-dejavu-core libpango-1.0-0 libpangoft2-1.0-0

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	@missing=$$(for p in $(SYSTEM_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq $$missing; \
	  else echo "warning: install $$missing (apt-get) for PDF rendering"; fi; \
	fi
	$(BIN)/python -m pip install --quiet -e '.[test,pdf-build]'
	touch $@

# The PDF accelerator (src/adapters/pdf/accelerated): WeasyPrint's hot modules and our patches,
# compiled with Cython (~18% fewer instructions per invoice). Only what changed is compiled again
# (~1 min at first); without a C compiler, or on a WeasyPrint it does not know, one line says so.
pdf-modules: $(VENV)/.installed
	$(BIN)/python -m adapters.pdf.accelerated.compile

serve: pdf-modules
	$(BIN)/istmo db upgrade
	$(BIN)/istmo tenants create demo --name "Demo PYME" --exist-ok
	@echo "Dev bearer token for tenant demo (paste as  Authorization: Bearer <token>):"
	@$(BIN)/istmo token --tenant demo --ttl 7d
	@echo "GraphQL (GraphiQL on GET): http://127.0.0.1:8000/graphql"
	$(BIN)/istmo serve --dev --with-worker --host 127.0.0.1 --port 8000

# The PDF tests run again on the stock path (accelerator off), as on a host where it stands aside.
PDF_STOCK_TESTS := $(addprefix tests/integration/test_pdf_,render.py renderer_contract.py security.py)

test: pdf-modules
	$(BIN)/lint-imports
	$(BIN)/ruff check --select S --quiet src
	$(BIN)/python -m pytest -n auto --dist loadgroup
	ISTMO_PDF_ACCELERATOR=off $(BIN)/python -m pytest -n auto --dist loadgroup $(PDF_STOCK_TESTS)

# The webhook bench's load generator (issue 6): wrk, C, so that it leaves the two cores to the service.
bench: pdf-modules
	@command -v wrk >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq wrk; \
	  else echo "warning: install wrk (apt-get) for the webhook bench"; fi; }
	$(BIN)/python -m bench

# Mutation testing of the core (issue 20): mutmut over invoicing, files, deliveries and the webhook
# verifiers, one area at a time in build/mutate/, printing each area's score and survivors. Not part
# of `make test` (minutes per area on two cores). One area: make mutate AREAS=files; diffs: MUTATE_FLAGS=--diffs
mutate: $(VENV)/.installed
	$(BIN)/python tools/mutate.py $(MUTATE_FLAGS) $(AREAS)

clean:
	rm -rf $(VENV) var .pytest_cache .hypothesis
