# The course as a static JupyterLite site (issue 14), included by the Makefile.
#   make lite        build it into _lite/site (reused while its inputs are unchanged)
#   make lite-serve  serve it; LITE_HOST=0.0.0.0 for a classroom's local network
#   make lite-test   build it, then run notebooks 02 and 06 in it in Chromium, no outside network
#                    (and a second visit, and every explorer control's keys)
#   make lite-bench  benchmarks/bench_lite.py and bench_class.py: visits, bytes, a class of 60
#                    (LITE_BASELINE=DIR: also time another built site, in turn, with ratios)
# Build tools go into .venv-lite (scripts/requirements-lite.txt), never into .venv.
LITE_HOST ?= 127.0.0.1
LITE_PORT ?= 8000

# `make test` runs lite-test after its other checks; the quick unit run leaves it out, as
# lite-test runs it.
TEST_AFTER += lite-test
UNIT_FAST_ARGS += --ignore=tests/e2e/test_lite_browser.py

.PHONY: lite lite-serve lite-test lite-bench lite-clean

lite:
	$(PYTHON) scripts/build_lite.py --reuse

lite-serve: lite
	$(PYTHON) scripts/serve_lite.py --host $(LITE_HOST) --port $(LITE_PORT)

lite-test: lite $(VENV)/.stamp-dev
	$(VENV)/bin/pytest -m e2e -s -p no:cacheprovider tests/e2e/test_lite_browser.py

lite-bench: lite $(VENV)/.stamp-dev
	$(PY) benchmarks/bench_lite.py --site _lite/site $(if $(LITE_BASELINE),--baseline $(LITE_BASELINE))
	$(PY) benchmarks/bench_class.py --site _lite/site

lite-clean:
	rm -rf _lite .venv-lite
