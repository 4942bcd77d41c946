"""Every prediction and exercise comes before anything on the page that gives its answer away.

How a test can know an answer: each question cell carries it in its metadata,

    "metadata": {"course": {"question": "coke_most_similar",
                            "answer": ["drink 0.53", "re:cos\\w* with coke.*0\\.53"]}}

``question`` names the question once in the course (for a checker cell, the prediction's id
or the function the student writes); ``answer`` lists the texts that would give the answer
away: the printed number, the word with its score, a line of the worked code. A plain entry
is matched as text (case and runs of white space ignored); an entry starting with ``re:`` is
a regular expression (case ignored). The question cell is a code cell that calls a
``check_...`` function, or a markdown cell that asks for a prediction with no checker.

The rules, for every student notebook:

- every checker cell, and every markdown cell but the title that says "predict" (or one of
  the two cells after it), carries ``course.answer``;
- no answer text appears in a cell above the question, nor in the question cell itself: not
  in prose, not in code, not in a saved output (stdout, text, HTML);
- every answer text does appear later: below the question in the student notebook, or in the
  same question's cell of the solution twin (so a listed text cannot be a dead pattern);
- no two questions of the course share an id, and no checker is called twice in the course
  (``check_prediction`` counts once per question id): each exercise is a new one.

The rules are functions of a notebook, so the tests at the bottom can show each one failing
on a doctored copy of a real notebook.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
NB_DIR = ROOT / "notebooks"
STUDENT = sorted(NB_DIR.glob("[0-9][0-9]_*.ipynb"))
CHECK_CALL = re.compile(r"^\s*(?:assert\s+|_\s*=\s*)?(check_\w+)\(\s*(?:\"([^\"]+)\")?", re.M)
PREDICT = re.compile(r"\bpredict\b", re.IGNORECASE)
TEXT_MIMES = ("text/plain", "text/html", "text/markdown", "text/latex")


def rel(path):
    return path.relative_to(ROOT).as_posix()


def read(path):
    return nbformat.read(path, as_version=4)


def meta(cell):
    """The cell's ``course`` metadata (a dict, empty when there is none)."""
    return cell.get("metadata", {}).get("course", {}) or {}


def cell_text(cell, *, outputs=True):
    """What a reader of the saved notebook sees of a cell: its source and its text outputs."""
    parts = [cell.source]
    if outputs and cell.cell_type == "code":
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream":
                parts.append(output.get("text", ""))
            for mime in TEXT_MIMES:
                value = output.get("data", {}).get(mime)
                if value:
                    parts.append(value if isinstance(value, str) else "".join(value))
    return "\n".join(parts)


def _squash(text):
    return " ".join(text.split()).lower()


def matches(pattern, text):
    """Whether an answer pattern (plain text, or ``re:`` + a regular expression) is in text."""
    if pattern.startswith("re:"):
        return re.search(pattern[3:], text, re.IGNORECASE | re.DOTALL) is not None
    return _squash(pattern) in _squash(text)


def questions(nb):
    """(index, cell) of every cell that carries ``course.answer``."""
    return [(i, c) for i, c in enumerate(nb.cells) if meta(c).get("answer")]


def checker_key(cell):
    """What a checker cell checks: ``check_x`` or ``check_prediction:<id>``; None if no call."""
    match = CHECK_CALL.search(cell.source) if cell.cell_type == "code" else None
    if not match:
        return None
    name, first = match.groups()
    return f"{name}:{first}" if name == "check_prediction" and first else name


# ------------------------------------------------------------------------- the rules
def undeclared(nb):
    """Checker cells and "predict" cells with no ``course.answer`` near them."""
    problems = []
    for i, cell in enumerate(nb.cells):
        if meta(cell).get("answer"):
            continue
        if checker_key(cell):
            problems.append(f"cell {i}: checker cell without course.answer metadata")
        elif cell.cell_type == "markdown" and i > 0 and PREDICT.search(cell.source):
            if not any(meta(c).get("answer") for c in nb.cells[i + 1 : i + 3]):
                problems.append(f"cell {i}: asks to predict, but no course.answer here or below")
    return problems


def answers_above(nb):
    """Answer texts that appear above their question, or in the question cell itself."""
    problems = []
    for index, question in questions(nb):
        name = meta(question).get("question", f"cell {index}")
        for pattern in meta(question)["answer"]:
            for above in range(index + 1):
                if matches(pattern, cell_text(nb.cells[above])):
                    where = "in the question cell" if above == index else f"in cell {above}"
                    problems.append(f"{name}: answer {pattern!r} is {where}, cell {index} asks")
                    break
    return problems


def answers_never_revealed(nb, solution=None):
    """Answer texts found neither below their question nor in the solution's question cell."""
    problems = []
    solved = {meta(c).get("question"): c for _, c in questions(solution)} if solution else {}
    for index, question in questions(nb):
        name = meta(question).get("question")
        below = "\n".join(cell_text(c) for c in nb.cells[index + 1 :])
        twin = cell_text(solved[name]) if name in solved else ""
        for pattern in meta(question)["answer"]:
            if not matches(pattern, below) and not matches(pattern, twin):
                problems.append(f"{name}: answer {pattern!r} appears nowhere after cell {index}")
    return problems


def repeated_exercises(notebooks):
    """Question ids or checkers used more than once across the given notebooks, in order."""
    seen, problems = {}, []
    for path, nb in notebooks:
        for index, cell in enumerate(nb.cells):
            for key in {meta(cell).get("question"), checker_key(cell)} - {None}:
                if key in seen and seen[key] != (path, index):
                    problems.append(f"{path} cell {index}: {key} again (first: {seen[key][0]})")
                seen.setdefault(key, (path, index))
    return problems


# ------------------------------------------------------------------------- the notebooks
parametrize_student = pytest.mark.parametrize("path", STUDENT, ids=rel)


def _solution(path):
    twin = NB_DIR / "solutions" / path.name
    return read(twin) if twin.exists() else None


@parametrize_student
def test_every_question_declares_its_answer(path):
    nb = read(path)
    assert not undeclared(nb), undeclared(nb)
    for _, cell in questions(nb):
        course = meta(cell)
        assert isinstance(course.get("question"), str) and course["question"], course
        assert all(isinstance(p, str) and p.strip() for p in course["answer"]), course
        for pattern in course["answer"]:
            if pattern.startswith("re:"):
                re.compile(pattern[3:])


@parametrize_student
def test_no_answer_is_given_before_its_question(path):
    problems = answers_above(read(path))
    assert not problems, "\n".join(problems)


@parametrize_student
def test_every_listed_answer_is_revealed_later(path):
    problems = answers_never_revealed(read(path), _solution(path))
    assert not problems, "\n".join(problems)


@parametrize_student
def test_solution_twin_asks_the_same_questions(path):
    solution = _solution(path)
    assert solution is not None, f"no solution twin for {rel(path)}"
    ours = [(meta(c)["question"], meta(c)["answer"]) for _, c in questions(read(path))]
    theirs = [(meta(c)["question"], meta(c)["answer"]) for _, c in questions(solution)]
    assert ours == theirs


def test_each_exercise_of_the_course_is_a_new_one():
    problems = repeated_exercises([(rel(p), read(p)) for p in STUDENT])
    assert not problems, "\n".join(problems)


# ------------------------------------------------------------------------- the rules can fail
def _first_question(nb):
    index, cell = questions(nb)[0]
    return index, cell, meta(cell)["answer"][0]


def _doctored_source():
    """A student notebook with a question whose answer is printed below it, and where."""
    for path in STUDENT:
        nb = read(path)
        for index, question in questions(nb):
            for pattern in meta(question)["answer"]:
                for later in range(index + 1, len(nb.cells)):
                    if matches(pattern, cell_text(nb.cells[later])):
                        return nb, index, later
    pytest.fail("no student notebook has a question whose answer is printed below it")


def test_moving_the_reveal_above_the_question_is_caught():
    nb, index, later = _doctored_source()
    assert not answers_above(nb)
    doctored = copy.deepcopy(nb)
    reveal = doctored.cells.pop(later)
    doctored.cells.insert(index, reveal)  # the reveal now sits just above the question
    assert answers_above(doctored)


def test_an_answer_in_the_prose_above_is_caught():
    nb = read(STUDENT[0])
    index, _, pattern = _first_question(nb)
    doctored = copy.deepcopy(nb)
    text = pattern[3:] if pattern.startswith("re:") else pattern
    if pattern.startswith("re:"):  # write a text the expression matches, taken from below
        below = "\n".join(cell_text(c) for c in nb.cells[index + 1 :])
        found = re.search(text, below, re.IGNORECASE | re.DOTALL)
        text = found.group(0) if found else text
    doctored.cells.insert(index, nbformat.v4.new_markdown_cell(f"Spoiler: {text}."))
    assert answers_above(doctored)


def test_an_answer_in_the_question_cells_saved_output_is_caught():
    """As in 02's old exercise 4, whose saved "not yet" message spelled out the fix."""
    nb = read(STUDENT[0])
    index, _, pattern = next(
        (i, c, p) for i, c in questions(nb) for p in meta(c)["answer"] if not p.startswith("re:")
    )
    doctored = copy.deepcopy(nb)
    said = f"❌ not yet: the answer is {pattern}"
    doctored.cells[index] = nbformat.v4.new_code_cell(
        "check_x(f)", metadata=nb.cells[index].metadata
    )
    doctored.cells[index].outputs = [nbformat.v4.new_output("stream", name="stdout", text=said)]
    assert not answers_above(nb) and answers_above(doctored)


def test_a_dead_answer_pattern_is_caught():
    nb = read(STUDENT[0])
    index, _, _ = _first_question(nb)
    doctored = copy.deepcopy(nb)
    doctored.cells[index].metadata["course"]["answer"] = ["zebra-quagga-37"]
    assert answers_never_revealed(doctored)


def test_a_checker_cell_without_metadata_is_caught():
    nb = read(STUDENT[0])
    index, _, _ = _first_question(nb)
    doctored = copy.deepcopy(nb)
    del doctored.cells[index].metadata["course"]
    assert undeclared(doctored)


def test_a_repeated_exercise_is_caught():
    nb = read(STUDENT[0])
    index, cell, _ = _first_question(nb)
    doctored = copy.deepcopy(nb)
    doctored.cells.append(copy.deepcopy(cell))
    assert repeated_exercises([("a", nb)]) == []
    assert repeated_exercises([("a", doctored)])


def test_matching_ignores_case_and_spacing_and_reads_expressions():
    assert matches("Drink  0.53", "coke: drink 0.53, eat 0.29")
    assert not matches("drink 0.53", "drink 0.54")
    assert matches(r"re:cos\w* .*0\.5\d", "cosine with coke 0.53")
    assert not matches(r"re:^0\.53$", "10.53")
