"""Shared test set-up.

- Figures render on the Agg backend (no screen needed).
- Under CI (``CI=true``) a skipped test counts as a failure: a check that CI was meant to
  run (the PyTorch cross-check, the browser test, the reproducible build) must really run
  there, never pass by being skipped.
"""

import os

import matplotlib
import pytest

matplotlib.use("Agg")


def _strict_skips():
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.skipped and _strict_skips() and not hasattr(report, "wasxfail"):
        reason = report.longrepr[-1] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = f"skipped under CI=true, which counts as a failure: {reason}"


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    import matplotlib.pyplot as plt

    plt.close("all")
