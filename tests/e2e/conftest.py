"""Fixtures for the browser tests: a private JupyterLab server and Debian's Chromium.

- ``lab_server``: JupyterLab from this Python environment on a free localhost port, with a
  random token, a temporary root folder holding a copy of ``explorer.ipynb``, and temporary
  settings/workspace folders. Told not to fetch news or check for updates. Always stopped
  (REST shutdown, then SIGTERM, then SIGKILL), even when a test fails.
- ``browser``: Chromium driven by Playwright's sync API. Never downloaded by this code:
  we use ``/usr/bin/chromium`` (``make test`` installs it with apt) or ``$CHROMIUM``.
  When no browser is found the tests skip with the reason; under ``CI=true`` that is a
  failure instead.
"""

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from labserver import CHROMIUM_ARGS, find_chromium, running_lab  # noqa: E402


def _under_ci():
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def _skip_or_fail(reason):
    if _under_ci():
        pytest.fail(f"browser test cannot run under CI=true: {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def lab_server(tmp_path_factory):
    pytest.importorskip("jupyterlab", reason="JupyterLab is not installed")
    with running_lab(base=tmp_path_factory.mktemp("lab")) as server:
        yield server


@pytest.fixture(scope="module")
def browser():
    executable = find_chromium()
    if executable is None:
        _skip_or_fail(
            "no Chromium found (looked for $CHROMIUM, /usr/bin/chromium, chromium-browser); "
            "install it with `sudo apt-get install chromium` or run `make test`"
        )
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _skip_or_fail("the Python package playwright is not installed (pip install playwright)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"report_{report.when}", report)


@pytest.fixture
def page(browser, request, tmp_path):
    """A fresh page; when the test fails, a screenshot is saved as tmp_path/failure.png."""
    context = browser.new_context(viewport={"width": 1500, "height": 1100})
    page = context.new_page()
    page.set_default_timeout(30_000)
    try:
        yield page
    finally:
        report = getattr(request.node, "report_call", None)
        if report is not None and report.failed:
            shot = tmp_path / "failure.png"
            page.screenshot(path=str(shot), full_page=True)
            print(f"screenshot of the failure: {shot}")
        context.close()
