# The verbs a newcomer types. Everything installs into .venv; nothing touches the system
# Python except `make test` installing Debian's chromium (for the browser test) when missing.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip --disable-pip-version-check
NOTEBOOKS := $(wildcard notebooks/*.ipynb) $(wildcard notebooks/solutions/*.ipynb)
# JupyterLab for a lecture hall: no news feed, no update check, no extension-manager look-ups
# (nothing reaches for the network); --allow-root only where we are root (containers).
LAB_FLAGS := --LabApp.news_url=None \
	--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate \
	--LabApp.extension_manager=readonly \
	$(if $(filter 0,$(shell id -u)),--allow-root)

# Checks that other files add to `make test` (lite.mk adds lite-test): TEST_AFTER runs after
# all the others, alone (for a timing that no other check disturbs); TEST_PARALLEL joins the
# two-at-a-time pool (quicker in total).
TEST_AFTER :=
TEST_PARALLEL :=
# pytest options of unit-fast, e.g. lite.mk's --ignore of a test that lite-test runs itself.
UNIT_FAST_ARGS :=
# `make` alone prints the help, whatever lite.mk defines.
.DEFAULT_GOAL := help
# The JupyterLite site's targets (lite, lite-serve, lite-test), when that file is there.
-include lite.mk
# A check's commands, then how long they took: $(call timed,commands)
timed = echo '$(strip $(1))'; t0=$$(date +%s); $(1); rc=$$?; \
	echo "$@: $$(( $$(date +%s) - t0 )) s"; exit $$rc

.PHONY: help lab test checks unit unit-fast build-test notebooks-test colab-test lint bench \
	notebooks links format clean

help:
	@echo "make lab        open the course in JupyterLab (creates .venv on first use)"
	@echo "make test       install everything needed and run every check"
	@echo "make bench      run the benchmarks and print their tables"
	@echo "make notebooks  re-execute the notebooks and save them with their outputs"
	@echo "make links      regenerate the Colab/Binder links from pyproject.toml"
	@echo "make format     ruff format and fix the code and notebooks"
	@echo "make lite       build the JupyterLite site into _lite/site (runs in any browser)"
	@echo "make lite-serve serve it (LITE_HOST=0.0.0.0 for a classroom's network)"

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip

# The course and JupyterLab, enough for `make lab`.
$(VENV)/.stamp-lab: pyproject.toml | $(PY)
	$(PIP) install -q -e ".[lab]"
	touch $@

# Test tools, plus PyTorch and the build-only dependencies where a local CPU wheel of torch
# exists (torch first and from that wheel only, so pip never pulls GBs of CUDA packages).
$(VENV)/.stamp-dev: pyproject.toml scripts/requirements-build.txt | $(PY)
	@if $(PIP) install -q --no-index --no-deps "torch==2.13.0" 2>/dev/null; then \
		$(PIP) install -q "torch==2.13.0" && $(PIP) install -q -r scripts/requirements-build.txt; \
	else \
		echo "note: no offline CPU wheel of torch==2.13.0 here; the PyTorch cross-checks and"; \
		echo "      the reproducible-build test will be skipped (CI=true turns skips into failures)."; \
	fi
	$(PIP) install -q -e ".[dev]"
	touch $@

lab: $(VENV)/.stamp-lab
	@$(PY) -c "from course_lib.embeddings import available_sources as a; print('Embedding sources available here:', ', '.join(a()))"
	@echo "Starting JupyterLab on notebooks/; open the http://127.0.0.1:... URL it prints below."
	$(VENV)/bin/jupyter lab --notebook-dir=notebooks $(LAB_FLAGS)

# Two jobs at a time: the rebuild of the bundled table (5 min, one core: torch is pinned to
# one thread) runs beside the other checks, which take turns on the second core. Each check's
# output is printed as a block when it finishes; --keep-going reports every failing check.
test: $(VENV)/.stamp-dev
	bash scripts/ensure_chromium.sh
	@echo "make test: the rebuild check runs beside the others; output appears as each ends."
	$(MAKE) --no-print-directory -j2 --output-sync=target --keep-going checks
	$(if $(strip $(TEST_AFTER)),$(MAKE) --no-print-directory $(TEST_AFTER))

# build-test first, so it starts at once and the rest queue behind the other job slot.
checks: build-test lint unit-fast notebooks-test colab-test $(TEST_PARALLEL)

lint: $(VENV)/.stamp-dev
	@$(call timed,$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check . \
		&& $(PY) scripts/make_links.py --check)

# Unit tests, doctests of course_lib, property tests, the browser test (tests/e2e) and the
# rebuild of the bundled table (tests marked build). `make test` runs the same tests as two
# parts that can run side by side: unit-fast (all but the rebuild) and build-test.
unit: $(VENV)/.stamp-dev
	$(VENV)/bin/pytest

unit-fast: $(VENV)/.stamp-dev
	@$(call timed,$(VENV)/bin/pytest -m "not build" $(UNIT_FAST_ARGS))

build-test: $(VENV)/.stamp-dev
	@$(call timed,$(VENV)/bin/pytest -m build -rA tests/test_bundled_build.py)

# Every notebook and its solution, run top to bottom by nbval in this environment's kernel.
notebooks-test: $(VENV)/.stamp-dev
	@$(call timed,$(VENV)/bin/pytest --nbval-lax --nbval-current-env \
		--nbval-cell-timeout=300 -p no:cacheprovider notebooks notebooks/solutions)

# The unit tests of the code again, in a venv pinned to Google Colab's package versions.
colab-test:
	@$(call timed,bash scripts/check_colab_stack.sh)

bench: $(VENV)/.stamp-dev
	$(PY) benchmarks/bench_embeddings.py
	$(PY) benchmarks/bench_widgets.py
	$(PY) benchmarks/bench_browser.py

notebooks: $(VENV)/.stamp-dev
	$(PY) scripts/execute_notebooks.py $(NOTEBOOKS)

links: $(VENV)/.stamp-dev
	$(PY) scripts/make_links.py

format: $(VENV)/.stamp-dev
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

clean:
	rm -rf $(VENV) .venv-colab .pytest_cache .ruff_cache .hypothesis
