# Istmo: `make serve` runs the service on its embedded defaults, `make test` runs the whole suite.
# Debian's CPython 3.11 is built with PGO and LTO, its interpreter linked statically; pyenv's, the
# first python3.11 on PATH here, has neither. The PDF renderer is Python-bound: ~10% faster on
# Debian's. It is taken when it can make a venv and compile extensions (python3.11-venv, -dev).
DEBIAN_PYTHON := $(shell /usr/bin/python3.11 -c 'import ensurepip, sysconfig, os, sys;   sys.exit(not os.path.exists(sysconfig.get_paths()["include"] + "/Python.h"))' 2>/dev/null && echo /usr/bin/python3.11)
PYTHON ?= $(or $(DEBIAN_PYTHON),python3.11)
VENV   ?= .venv
BIN    := $(VENV)/bin
export ISTMO_DATA_DIR ?= $(CURDIR)/var

.PHONY: serve test bench lint clean lock mutate pdf-modules pdf-modules-background test-packages

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --progress-bar on --upgrade pip

# WeasyPrint needs Pango (on the image) and, for its fast font subsetting, HarfBuzz's subset
# library; DejaVu is the built-in layouts' font. Installed when missing and we are root.
SYSTEM_PACKAGES := libharfbuzz-subset0 fonts-dejavu-core libpango-1.0-0 libpangoft2-1.0-0

# Reproducible installs (issue 18): every dependency at the exact version, and hash, of
# requirements.lock, the same file for `make serve`, `make test` and CI; Istmo itself is then
# installed over it, editable, without dependencies. `make lock` refreshes the lock after a
# change to pyproject.toml's dependencies (uv resolves it, in a throwaway venv).
LOCK := requirements.lock

$(VENV)/.installed: pyproject.toml $(LOCK) | $(BIN)/python
	@missing=$$(for p in $(SYSTEM_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq $$missing; \
	  else echo "warning: install $$missing (apt-get) for PDF rendering"; fi; \
	fi
	@echo "Installing Istmo and its dependencies into $(VENV) (pip shows each package as it comes)"
	$(BIN)/python -m pip install --progress-bar on --require-hashes -r $(LOCK)
	$(BIN)/python -m pip install --progress-bar on --no-deps --no-build-isolation -e .
	touch $@

lock:
	@tmp=$$(mktemp -d) && $(PYTHON) -m venv $$tmp && $$tmp/bin/python -m pip install --quiet uv && \
	$$tmp/bin/uv pip compile pyproject.toml --extra test --extra pdf-build --generate-hashes \
	  --python-version 3.11 --python-platform x86_64-manylinux_2_36 -o $(LOCK) && rm -rf $$tmp

# The PDF accelerator (src/adapters/pdf/accelerated): WeasyPrint's hot modules and our patches,
# compiled with Cython (~18% fewer instructions per invoice). Only what changed is compiled again
# (minutes at first); without a C compiler, or on a WeasyPrint it does not know, one line says so.
pdf-modules: $(VENV)/.installed
	$(BIN)/python -m adapters.pdf.accelerated.compile

# `make serve` never waits for it (issue 18): it compiles in the background, at low priority, one
# compile at a time (flock), while the service starts; PDFs render on the stock path until it is
# done (renderer workers started after that use it). `make test` and `make bench` still compile first.
PDF_MODULES_LOG := $(ISTMO_DATA_DIR)/pdf-modules.log
pdf-modules-background: $(VENV)/.installed
	@mkdir -p $(ISTMO_DATA_DIR)
	@nohup nice -n 10 flock -n $(ISTMO_DATA_DIR)/pdf-modules.lock $(BIN)/python -m adapters.pdf.accelerated.compile \
	  > $(PDF_MODULES_LOG) 2>&1 &
	@echo "PDF accelerator: compiling in the background (log: $(PDF_MODULES_LOG)); PDFs render meanwhile"

serve: pdf-modules-background
	$(BIN)/istmo db upgrade
	$(BIN)/istmo tenants create demo --name "Demo PYME" --exist-ok
	@echo "Dev bearer token for tenant demo (paste as  Authorization: Bearer <token>):"
	@$(BIN)/istmo token --tenant demo --ttl 7d
	@echo "GraphQL (GraphiQL on GET): http://127.0.0.1:8000/graphql"
	$(BIN)/istmo serve --dev --with-worker --host 127.0.0.1 --port 8000

# The PDF tests run again on the stock path (accelerator off), as on a host where it stands aside.
PDF_STOCK_TESTS := $(addprefix tests/integration/test_pdf_,render.py renderer_contract.py security.py archival.py)

# Debian's nginx and Chromium: the production proxy tests run the service behind deploy/nginx.conf;
# GraphiQL and the signing page are tested in a browser; qpdf and poppler-utils (pdfinfo, pdffonts,
# pdftotext) check the archival PDFs (each skipped, saying why, without them).
test-packages:
	@missing=$$(command -v nginx >/dev/null 2>&1 || echo nginx; [ -x /usr/bin/chromium ] || echo chromium; \
	  command -v qpdf >/dev/null 2>&1 || echo qpdf; command -v pdftotext >/dev/null 2>&1 || echo poppler-utils); \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq $$missing; \
	  else echo "warning: install $$missing (apt-get) for the proxy, browser and PDF/A tests"; fi; \
	fi

# One pytest worker more than there are cores: about a third of the suite's time is spent waiting
# (worker processes, servers starting, PostgreSQL), which a third worker fills on two cores.
TEST_WORKERS ?= $(shell echo $$(( $$(nproc) + 1 )))

test: pdf-modules test-packages
	$(BIN)/lint-imports
	$(BIN)/ruff check --select S --quiet src
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadgroup
	ISTMO_PDF_ACCELERATOR=off $(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadgroup $(PDF_STOCK_TESTS)

# The webhook bench's load generator (issue 6): wrk, C, so that it leaves the two cores to the service.
bench: pdf-modules
	@command -v wrk >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq wrk; \
	  else echo "warning: install wrk (apt-get) for the webhook bench"; fi; }
	$(BIN)/python -m bench

# Mutation testing of the core (issue 20): mutmut over invoicing, files, deliveries, the webhook
# verifiers, intake records, signatures, QuickBooks, statements and chats, one area at a time in build/mutate/, printing each area's score and survivors. Not part
# of `make test` (minutes per area on two cores). One area: make mutate AREAS=files; diffs: MUTATE_FLAGS=--diffs
mutate: $(VENV)/.installed
	$(BIN)/python tools/mutate.py $(MUTATE_FLAGS) $(AREAS)

clean:
	rm -rf $(VENV) var .pytest_cache .hypothesis
