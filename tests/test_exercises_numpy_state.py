"""Checkers are immune to the notebook's numpy and warning state.

A student may have run ``np.seterr(all="raise")``, ``warnings.simplefilter("error")`` or
``np.set_printoptions(...)`` in an earlier cell. Every solution cell of every notebook
(each code cell of notebooks/solutions that asserts a check) must still pass under all
three, and the state must be the student's again afterwards.
"""

import json
import re
import warnings
from pathlib import Path

import numpy as np
import pytest
from exercise_helpers import assert_correct, assert_not_yet, softmax_rows

from course_lib.exercises import check_masked_attention, check_softmax

SOLUTIONS = sorted((Path(__file__).parents[1] / "notebooks" / "solutions").glob("0*.ipynb"))


@pytest.fixture
def hostile_numpy():
    old_err, old_print = np.geterr(), np.get_printoptions()
    np.seterr(all="raise")
    np.set_printoptions(precision=1, threshold=3, floatmode="fixed", sign="+")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield
    np.seterr(**old_err)
    np.set_printoptions(**old_print)


def _code(cell) -> str:
    source = "".join(cell["source"])
    return "\n".join(
        line for line in source.splitlines() if not line.lstrip().startswith(("%", "!"))
    )


def _exercise_cells(path: Path):
    cells = [c for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code"]
    imports = next(_code(c) for c in cells if "from course_lib" in _code(c))
    checks = [_code(c) for c in cells if re.search(r"assert check_\w+\(", _code(c))]
    return imports, checks


CASES = [
    pytest.param(path, i, id=f"{path.stem[:2]}-{i}")
    for path in SOLUTIONS
    for i in range(len(_exercise_cells(path)[1]))
]


@pytest.mark.parametrize(("path", "index"), CASES)
def test_every_solution_cell_passes_with_hostile_numpy_state(path, index, hostile_numpy, capsys):
    imports, checks = _exercise_cells(path)
    namespace: dict = {}
    with np.errstate(all="ignore"), warnings.catch_warnings():  # the imports themselves
        warnings.simplefilter("ignore")
        exec(compile(imports, f"{path.name}:imports", "exec"), namespace)  # noqa: S102
    exec(compile(checks[index], f"{path.name}:check {index}", "exec"), namespace)  # noqa: S102
    out = capsys.readouterr().out
    assert "❌" not in out and "⏳" not in out, out
    assert np.geterr()["under"] == "raise"  # the student's state is back


def test_there_are_solution_cells_to_check():
    assert len(CASES) >= 15


def test_a_right_softmax_passes_and_a_wrong_one_is_named(hostile_numpy, capsys):
    assert_correct(capsys, check_softmax, softmax_rows)
    assert_not_yet(
        capsys, check_softmax, lambda s: np.exp(s) / np.exp(s).sum(), hint="whole matrix"
    )
    assert np.geterr()["over"] == "raise"
    assert np.get_printoptions()["precision"] == 1


def test_masked_attention_with_underflow_passes(hostile_numpy, capsys):
    def masked(queries, keys, values, keep):
        scores = np.where(keep, queries @ keys.T / np.sqrt(queries.shape[-1]), -np.inf)
        e = np.exp(scores - scores.max(axis=-1, keepdims=True))  # exp(-3000) underflows
        weights = e / e.sum(axis=-1, keepdims=True)
        return weights @ values, weights

    assert_correct(capsys, check_masked_attention, masked)
