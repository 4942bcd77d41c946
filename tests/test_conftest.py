"""The shared test set-up (tests/conftest.py): strict skips under CI, and its one exception."""

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

HERE = Path(__file__).resolve().parent

SAMPLE = textwrap.dedent(
    """
    import pytest

    def test_without_torch():
        pytest.skip("could not import 'torch': No module named 'torch'")

    def test_without_browser():
        pytest.skip("no chromium here")
    """
)


def _run(tmp_path, **env):
    shutil.copy(HERE / "conftest.py", tmp_path / "conftest.py")
    (tmp_path / "test_sample.py").write_text(SAMPLE, encoding="utf-8")
    clean = {k: v for k, v in os.environ.items() if k not in {"CI", "COURSE_TESTS_WITHOUT_TORCH"}}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-v",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:randomly",
            "-c",
            os.devnull,
            "--rootdir",
            str(tmp_path),
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        env={**clean, **env},
        cwd=tmp_path,
        check=False,
    )
    return result.stdout


def _outcomes(stdout):
    """{test name: PASSED/FAILED/SKIPPED} from pytest -v's lines "test_sample.py::name OUTCOME"."""
    found = {}
    for line in stdout.splitlines():
        words = line.split()
        if len(words) >= 2 and words[0].startswith("test_sample.py::"):
            if words[1] in {"PASSED", "FAILED", "SKIPPED"}:
                found[words[0].split("::", 1)[1]] = words[1]
    return found


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, {"test_without_torch": "SKIPPED", "test_without_browser": "SKIPPED"}),
        ({"CI": "true"}, {"test_without_torch": "FAILED", "test_without_browser": "FAILED"}),
        (
            {"CI": "true", "COURSE_TESTS_WITHOUT_TORCH": "1"},
            {"test_without_torch": "SKIPPED", "test_without_browser": "FAILED"},
        ),
    ],
)
def test_skips_count_as_failures_under_ci_except_declared_missing_torch(tmp_path, env, expected):
    stdout = _run(tmp_path, **env)
    assert _outcomes(stdout) == expected, stdout


def test_hypothesis_does_not_time_examples():
    assert settings.default.deadline is None
    assert HealthCheck.too_slow in settings.default.suppress_health_check
