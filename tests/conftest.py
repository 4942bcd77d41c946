"""Shared test set-up.

- Figures render on the Agg backend (no screen needed).
- Under CI (``CI=true``) a skipped test counts as a failure: a check that CI was meant to
  run (the PyTorch cross-check, the browser test, the reproducible build) must really run
  there, never pass by being skipped. One exception, declared by the environment itself:
  scripts/check_colab_stack.sh sets ``COURSE_TESTS_WITHOUT_TORCH=1`` because Colab's pinned
  stack has no torch on purpose; there a skip for want of torch stays a skip (the same
  cross-checks must pass in the main venv's run, where that variable is not set).
- Hypothesis: no per-example deadline and no "data generation is too slow" health check.
  Both measure the machine's load, not the code: on a busy runner, or while `make test` runs
  two checks at once on two cores, they fail at random. The properties tested are the same.
"""

import os

import matplotlib
import pytest
from hypothesis import HealthCheck, settings

matplotlib.use("Agg")

settings.register_profile("course", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("course")

TORCH_MISSING = "could not import 'torch'"


def _strict_skips():
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def _skip_allowed_here(reason: str) -> bool:
    without_torch = os.environ.get("COURSE_TESTS_WITHOUT_TORCH") == "1"
    return without_torch and TORCH_MISSING in reason


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.skipped and _strict_skips() and not hasattr(report, "wasxfail"):
        reason = report.longrepr[-1] if isinstance(report.longrepr, tuple) else report.longrepr
        if _skip_allowed_here(str(reason)):
            return
        report.outcome = "failed"
        report.longrepr = f"skipped under CI=true, which counts as a failure: {reason}"


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    import matplotlib.pyplot as plt

    plt.close("all")
