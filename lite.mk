# The course as a static JupyterLite site (issue 14), included by the Makefile.
#   make lite        build it into _lite/site (reused while its inputs are unchanged)
#   make lite-serve  serve it; LITE_HOST=0.0.0.0 for a classroom's local network
#   make lite-test   build it, then run notebook 02 in it in Chromium with no outside network
# Build tools go into .venv-lite (scripts/requirements-lite.txt), never into .venv.
LITE_HOST ?= 127.0.0.1
LITE_PORT ?= 8000

# `make test` runs lite-test after its other checks; the quick unit run leaves it out, as
# lite-test runs it.
TEST_AFTER += lite-test
UNIT_FAST_ARGS += --ignore=tests/e2e/test_lite_browser.py

.PHONY: lite lite-serve lite-test lite-clean

lite:
	$(PYTHON) scripts/build_lite.py --reuse

lite-serve: lite
	$(PYTHON) scripts/serve_lite.py --host $(LITE_HOST) --port $(LITE_PORT)

lite-test: lite $(VENV)/.stamp-dev
	$(VENV)/bin/pytest -m e2e -s -p no:cacheprovider tests/e2e/test_lite_browser.py

lite-clean:
	rm -rf _lite .venv-lite
