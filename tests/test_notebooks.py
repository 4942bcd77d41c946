"""Structural checks of every notebook in notebooks/ and notebooks/solutions/.

These read the saved .ipynb files; they do not run them (``pytest --nbval-lax`` does that).
They check the team's notebook conventions: the Colab badge, install cell and imports at the
top, "You will learn", numbered sections, a Summary and "Where next", saved outputs without
errors or widget state, a size limit, solutions whose checkers all say "correct", one lab's
length (words, code cells, minutes in the metadata for the course map), and figures made by
the course's plot functions (no figure size written in a notebook: lecture mode scales them).
The order of questions and answers is tested in test_notebook_order.py, the figures' alt text
in test_figure_alt_text.py, their legibility in lecture mode in test_lecture_mode.py.
"""

import importlib.util
import os
import re
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
NB_DIR = ROOT / "notebooks"
STUDENT = sorted(NB_DIR.glob("*.ipynb"))
SOLUTIONS = sorted((NB_DIR / "solutions").glob("*.ipynb"))
ALL = STUDENT + SOLUTIONS
N_NOTEBOOKS = 6  # 01 words as vectors ... 06 inside a trained Transformer
MAX_WORDS = 2_600  # markdown words of one notebook (one lab of 60-90 minutes)
MAX_CODE_CELLS = 26
MINUTES = (60, 90)  # a lab, for a student who does the exercises
MAX_BYTES = 2_000_000
WIDGET_MIMES = (
    "application/vnd.jupyter.widget-view+json",
    "application/vnd.jupyter.widget-state+json",
)
CORRECT, NOT_YET, NOT_ATTEMPTED = "✅ correct", "❌ not yet", "⏳ not attempted"
CHECK_CALL = re.compile(r"^\s*(?:assert\s+|_\s*=\s*)?check_\w+\(", re.MULTILINE)


def _load_make_links():
    """scripts/make_links.py writes cells 0 and 1; it is the source of the expected text."""
    spec = importlib.util.spec_from_file_location("make_links", ROOT / "scripts" / "make_links.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("make_links", module)  # dataclasses look their module up here
    spec.loader.exec_module(module)
    return module


make_links = _load_make_links()
REPO = make_links.read_repo(ROOT)


def rel(path):
    return path.relative_to(ROOT).as_posix()


def read(path):
    return nbformat.read(path, as_version=4)


def outputs_text(cell):
    """All text a code cell printed or displayed as text/plain."""
    parts = []
    for output in cell.get("outputs", []):
        if output.get("output_type") == "stream":
            parts.append(output.get("text", ""))
        elif "data" in output:
            parts.append(output["data"].get("text/plain", ""))
    return "".join(parts)


def headings(nb, level="## "):
    return [
        line.strip()
        for cell in nb.cells
        if cell.cell_type == "markdown"
        for line in cell.source.splitlines()
        if line.startswith(level)
    ]


def check_cells(nb):
    return [c for c in nb.cells if c.cell_type == "code" and CHECK_CALL.search(c.source)]


parametrize_all = pytest.mark.parametrize("path", ALL, ids=rel)


# ------------------------------------------------------------------------- the set of files
def test_the_course_notebooks_are_there():
    numbers = [p.name[:2] for p in STUDENT]
    assert numbers == [f"{n:02d}" for n in range(1, N_NOTEBOOKS + 1)], [p.name for p in STUDENT]
    assert all(re.fullmatch(r"\d\d_[a-z0-9_]+\.ipynb", p.name) for p in STUDENT)


def test_every_notebook_has_a_solution_twin():
    assert {p.name for p in STUDENT} == {p.name for p in SOLUTIONS}


# ------------------------------------------------------------------------- the first cells
@parametrize_all
def test_cell0_badge_title_and_you_will_learn(path):
    nb = read(path)
    cell = nb.cells[0]
    assert cell.cell_type == "markdown"
    lines = cell.source.splitlines()
    assert lines[0] == REPO.colab_badge(rel(path)), "run `make links`"
    assert lines[1] == ""
    assert lines[2].startswith("# ") and len(lines[2]) > 4
    learn = [i for i, line in enumerate(lines) if "you will learn" in line.lower()]
    assert learn, 'cell 0 needs a "You will learn" list'
    bullets = [line for line in lines[learn[0] + 1 :] if line.startswith("- ")]
    assert len(bullets) >= 2


@parametrize_all
def test_cell1_is_the_colab_install_cell(path):
    cell = read(path).cells[1]
    assert cell.cell_type == "code"
    nb = read(path)
    assert cell.source == make_links.install_cell_for(nb, REPO), "run `make links`"


@parametrize_all
def test_cell2_imports_course_lib_and_numpy_explicitly(path):
    nb = read(path)
    cell = nb.cells[2]
    assert cell.cell_type == "code"
    assert re.search(r"^from course_lib import ", cell.source, re.MULTILINE)
    assert re.search(r"^import numpy as np$", cell.source, re.MULTILINE)
    for c in nb.cells:
        if c.cell_type == "code":
            assert not re.search(r"import \*", c.source), c.source


@parametrize_all
def test_kernel_is_python3(path):
    assert read(path).metadata["kernelspec"]["name"] == "python3"


# ------------------------------------------------------------------------- the structure
@parametrize_all
def test_numbered_sections_then_summary_and_where_next(path):
    heads = headings(read(path))
    numbers = [int(m.group(1)) for h in heads if (m := re.match(r"## (\d+)\. \S", h))]
    assert len(numbers) >= 3, heads
    assert numbers[0] in (0, 1) and numbers == list(range(numbers[0], numbers[0] + len(numbers)))
    names = [h.lower() for h in heads]
    assert "## summary" in names and "## where next" in names, heads
    last_numbered = max(i for i, h in enumerate(heads) if re.match(r"## \d+\. ", h))
    assert names.index("## summary") > last_numbered
    assert names.index("## where next") > names.index("## summary")


@pytest.mark.parametrize("path", SOLUTIONS, ids=rel)
def test_solution_has_the_same_sections_as_its_twin(path):
    assert headings(read(path)) == headings(read(NB_DIR / path.name))


@pytest.mark.parametrize("path", STUDENT, ids=rel)
def test_solution_repeats_every_cell_of_its_twin_but_the_exercises(path):
    """Prose and demonstration code live in both copies, word for word; only the exercise
    cells (those calling a checker) may differ, so an edit to one copy cannot be forgotten
    in the other."""
    student = read(path)
    theirs = {(c.cell_type, c.source) for c in read(NB_DIR / "solutions" / path.name).cells}
    exercises = {c.source for c in check_cells(student)}
    missing = [
        c.source.splitlines()[0] if c.source else "(empty cell)"
        for c in student.cells[1:]  # cell 0 names the copy
        if c.source not in exercises and (c.cell_type, c.source) not in theirs
    ]
    assert not missing, f"not in the solution copy: {missing[:3]}"


@parametrize_all
def test_block_quotes_end_with_a_blank_line(path):
    """In Markdown a line right after a "> " quote joins the quote (lazy continuation)."""
    for cell in read(path).cells:
        if cell.cell_type != "markdown":
            continue
        lines = cell.source.splitlines()
        for before, after in zip(lines, lines[1:], strict=False):  # neighbouring lines
            joined = before.startswith(">") and after.strip() and not after.startswith(">")
            assert not joined, f"add a blank line before {after!r}"


@parametrize_all
def test_every_notebook_has_at_least_two_exercises(path):
    assert len(check_cells(read(path))) >= 2


@parametrize_all
def test_links_to_other_notebooks_resolve(path):
    for cell in read(path).cells:
        if cell.cell_type != "markdown":
            continue
        for target in re.findall(r"\]\(([^)\s]+\.ipynb)\)", cell.source):
            if "://" not in target:
                assert (path.parent / target).resolve().is_file(), f"broken link {target}"


@parametrize_all
def test_randomness_is_seeded(path):
    for cell in read(path).cells:
        if cell.cell_type != "code":
            continue
        assert not re.search(r"np\.random\.(?!default_rng\b)\w+\(", cell.source), cell.source
        assert not re.search(r"default_rng\(\s*\)", cell.source), cell.source


def test_notebook_01_mentions_lecture_mode():
    text = "\n".join(c.source for c in read(NB_DIR / "01_words_as_vectors.ipynb").cells)
    assert "lecture_mode()" in text


CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")  # all but tab and newline


def control_characters(nb):
    """(cell index, character) of every control character in a cell's source.

    "\\frac" written in a Python string that is not raw becomes a form feed and "rac": the
    formula renders as garbage while every other test passes.
    """
    return [
        (i, repr(m.group()))
        for i, cell in enumerate(nb.cells)
        for m in CONTROL.finditer(cell.source)
    ]


@parametrize_all
def test_no_control_characters_in_the_cells(path):
    assert control_characters(read(path)) == []


def test_the_control_character_rule_can_fail():
    nb = nbformat.v4.new_notebook()
    nb.cells.append(nbformat.v4.new_markdown_cell("$$\frac{a}{b}$$"))  # \f: a form feed
    assert control_characters(nb) == [(0, "'\\x0c'")]


CALLED_IN_PROSE = re.compile(r"`(\w+)\(")


def names_told_but_not_imported(nb):
    """Names of course_lib's the prose tells the student to call, which no code cell binds."""
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    told = {
        name
        for cell in nb.cells
        if cell.cell_type == "markdown"
        for name in CALLED_IN_PROSE.findall(cell.source)
        if name in _public_course_names()
    }
    return sorted(name for name in told if not re.search(rf"\b{name}\b", code))


def _public_course_names():
    import course_lib

    return set(course_lib.__all__)


@parametrize_all
def test_what_the_prose_tells_the_student_to_call_is_imported(path):
    assert names_told_but_not_imported(read(path)) == []


def test_the_told_but_not_imported_rule_can_fail():
    nb = nbformat.v4.new_notebook()
    nb.cells.append(nbformat.v4.new_markdown_cell("On a projector, run `lecture_mode()`."))
    nb.cells.append(nbformat.v4.new_code_cell("from course_lib import softmax"))
    assert names_told_but_not_imported(nb) == ["lecture_mode"]


# ------------------------------------------------------------------------- one lab each
def markdown_words(nb):
    """Words of prose: markdown cells split on white space, the Colab badge line left out."""
    return sum(
        len(line.split())
        for cell in nb.cells
        if cell.cell_type == "markdown"
        for line in cell.source.splitlines()
        if not line.startswith("[![Open In Colab]")
    )


@pytest.mark.parametrize("path", STUDENT, ids=rel)
def test_one_lab_long_in_words_and_code_cells(path):
    nb = read(path)
    code_cells = sum(c.cell_type == "code" for c in nb.cells)
    assert markdown_words(nb) <= MAX_WORDS, f"{markdown_words(nb)} markdown words"
    assert code_cells <= MAX_CODE_CELLS, f"{code_cells} code cells"


@parametrize_all
def test_minutes_for_the_course_map_are_in_the_metadata(path):
    """``metadata.course.minutes = [low, high]``: scripts/make_links.py puts it in the map."""
    minutes = read(path).metadata.get("course", {}).get("minutes")
    assert isinstance(minutes, list) and len(minutes) == 2, minutes
    low, high = minutes
    assert all(isinstance(m, int) for m in minutes), minutes
    assert MINUTES[0] <= low <= high <= MINUTES[1], minutes
    twin = NB_DIR / path.name
    assert read(twin).metadata["course"]["minutes"] == minutes


def test_the_minutes_rule_can_fail():
    nb = nbformat.v4.new_notebook()
    nb.metadata["course"] = {"minutes": [100, 120]}
    low, high = nb.metadata["course"]["minutes"]
    assert not (MINUTES[0] <= low <= high <= MINUTES[1])
    assert markdown_words(nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("a b")]))


FIGURE_SIZES = re.compile(r"figsize|dpi\s*=|subplots\(|plt\.figure\(|set_size_inches|savefig")


@parametrize_all
def test_figures_are_sized_by_the_course_not_by_the_notebook(path):
    """Plot functions size themselves from the font size, so lecture_mode() scales them."""
    for cell in read(path).cells:
        if cell.cell_type == "code":
            found = FIGURE_SIZES.search(cell.source)
            assert not found, f"{found.group(0)!r} in: {cell.source.splitlines()[0]}"


# ------------------------------------------------------------------------- the exercises
EXERCISES = {  # the exercises notebooks 01-03 ask (04-06 are checked by the generic tests)
    "01_words_as_vectors": (
        'check_prediction("dont_panic_rows"',
        'check_prediction("mislabelled_eat"',
        'check_prediction("drink_is_its_own_top_dot"',
        "check_cosine_similarity(",
        "check_cosine_matrix(",
        'check_prediction("coke_most_similar"',
    ),
    "02_dot_product_attention": (
        "check_softmax(",
        "check_dot_product_attention(",
        'check_prediction("scaling_changes_argmax"',
        "check_masked_attention(",
    ),
    "03_scaled_dot_product_attention": (
        'check_prediction("variance_growth"',
        "check_variance_experiment(",
        "check_softmax_backward(",
        'check_prediction("divide_by_dk"',
        'check_prediction("self_weight_after_scaling"',
    ),
}


@pytest.mark.parametrize("stem", sorted(EXERCISES))
def test_exercises_open_in_student_and_solved_in_solution(stem):
    for path, verdict in [
        (NB_DIR / f"{stem}.ipynb", NOT_ATTEMPTED),
        (NB_DIR / "solutions" / f"{stem}.ipynb", CORRECT),
    ]:
        for checker in EXERCISES[stem]:
            cells = [c for c in check_cells(read(path)) if checker in c.source]
            assert len(cells) == 1, f"{rel(path)}: expected one {checker} exercise"
            assert verdict in outputs_text(cells[0]), outputs_text(cells[0])


@pytest.mark.parametrize("path", STUDENT, ids=rel)
def test_worked_answers_are_not_on_the_student_page(path):
    """No working line of a solution's function appears anywhere in the student notebook."""
    student_code = "\n".join(c.source for c in read(path).cells if c.cell_type == "code")
    student_lines = {line.split("#")[0].strip() for line in student_code.splitlines()}
    for cell in check_cells(read(NB_DIR / "solutions" / path.name)):
        if "def " not in cell.source:
            continue  # a prediction: its answer is a value, not code
        body = [line.split("#")[0].strip() for line in cell.source.splitlines()]
        skip = ("def ", "assert ", '"""', "r, ")  # the stub's signature and docstring
        working = [line for line in body if line and not line.startswith(skip)]
        assert working, cell.source
        leaked = [line for line in working if line in student_lines]
        assert not leaked, f"{rel(path)}: solution lines on the student page: {leaked}"


@parametrize_all
def test_notebooks_do_not_import_torch(path):
    code = "\n".join(c.source for c in read(path).cells if c.cell_type == "code")
    assert not re.search(r"^\s*(import|from)\s+torch\b", code, re.MULTILINE), rel(path)


# ------------------------------------------------------------------------- saved outputs
@parametrize_all
def test_saved_with_outputs(path):
    code = [c for c in read(path).cells if c.cell_type == "code" and c.source.strip()]
    unexecuted = [c.source.splitlines()[0] for c in code if c.get("execution_count") is None]
    assert not unexecuted, f"run `make notebooks`; not executed: {unexecuted[:3]}"


@parametrize_all
def test_no_error_outputs(path):
    for cell in read(path).cells:
        for output in cell.get("outputs", []):
            assert output.get("output_type") != "error", output.get("ename")
            if output.get("output_type") == "stream":
                assert "Traceback (most recent call last)" not in output.get("text", "")


@parametrize_all
def test_no_saved_widget_state(path):
    nb = read(path)
    assert "widgets" not in nb.metadata
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            for mime in WIDGET_MIMES:
                assert mime not in output.get("data", {}), "run `make notebooks`"


@parametrize_all
def test_file_is_smaller_than_2_mb(path):
    assert path.stat().st_size < MAX_BYTES


# ------------------------------------------------------------------------- the exercises
@pytest.mark.parametrize("path", SOLUTIONS, ids=rel)
def test_solutions_pass_their_checkers(path):
    for cell in check_cells(read(path)):
        printed = outputs_text(cell)
        assert CORRECT in printed, f"{cell.source!r} printed {printed!r}"
        assert NOT_YET not in printed and NOT_ATTEMPTED not in printed, printed


@pytest.mark.parametrize("path", STUDENT, ids=rel)
def test_student_checker_cells_print_a_verdict(path):
    for cell in check_cells(read(path)):
        verdicts = [
            line
            for line in outputs_text(cell).splitlines()
            if line.startswith((CORRECT, NOT_YET, NOT_ATTEMPTED))
        ]
        assert verdicts, f"no checker line for {cell.source!r}"


@pytest.mark.parametrize("path", STUDENT, ids=rel)
def test_student_notebooks_leave_exercises_open(path):
    """At least one exercise is still to do: the student copy is not the solutions."""
    texts = [outputs_text(c) for c in check_cells(read(path))]
    assert any(NOT_ATTEMPTED in t or NOT_YET in t for t in texts)


# ------------------------------------------------------------------------- the executor
def _load_script(name):
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_executor_strips_widget_state_but_keeps_the_snapshot():
    execute_notebooks = _load_script("execute_notebooks")
    nb = nbformat.v4.new_notebook()
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}}}
    cell = nbformat.v4.new_code_cell("explorer")
    view = {"version_major": 2, "version_minor": 0, "model_id": "abc"}
    cell.outputs = [
        nbformat.v4.new_output(
            "display_data",
            data={WIDGET_MIMES[0]: view, "image/png": "iVBOR", "text/plain": "Explorer(...)"},
        )
    ]
    nb.cells.append(cell)
    assert execute_notebooks.strip_widgets(nb) == 2
    assert "widgets" not in nb.metadata
    assert set(cell.outputs[0]["data"]) == {"image/png", "text/plain"}
    assert cell.outputs[0]["data"]["text/plain"] == "Explorer(...)"


def test_executor_fails_on_a_cell_error_and_leaves_the_file_alone(tmp_path, capsys):
    execute_notebooks = _load_script("execute_notebooks")
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    nb.cells = [nbformat.v4.new_code_cell("print('hi')"), nbformat.v4.new_code_cell("1 / 0")]
    path = tmp_path / "broken.ipynb"
    nbformat.write(nb, path)
    before = path.read_bytes()
    assert execute_notebooks.main([str(path), "--timeout", "60"]) == 1
    assert path.read_bytes() == before
    assert "FAIL" in capsys.readouterr().out


def test_executor_checks_figures_at_normal_size(tmp_path, monkeypatch, capsys):
    """A figure squeezed until its labels collide fails the run; lecture mode is switched off."""
    execute_notebooks = _load_script("execute_notebooks")
    monkeypatch.setenv("COURSE_LECTURE_MODE", "1")  # must not leak into the saved figures
    monkeypatch.delenv("COURSE_CHECK_FIGURES", raising=False)
    code = (
        "import matplotlib\n"
        "from course_lib.figures import show_figure\n"
        "from course_lib.plotting import plot_attention\n"
        "ax = plot_attention([[0.5, 0.5], [0.25, 0.75]], ['drink', 'coke'])\n"
        "assert matplotlib.rcParams['font.size'] == 10  # normal size\n"
        "SQUEEZE\n"
        "show_figure(ax, 'Two words, each looking at both.')\n"
    )
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    for name, squeeze in [("fine", "pass"), ("squeezed", "ax.figure.set_size_inches(2, 1)")]:
        nb.cells = [nbformat.v4.new_code_cell(code.replace("SQUEEZE", squeeze))]
        nbformat.write(nb, tmp_path / f"{name}.ipynb")
    assert execute_notebooks.main([str(tmp_path / "fine.ipynb"), "--timeout", "60"]) == 0
    assert execute_notebooks.main([str(tmp_path / "squeezed.ipynb"), "--timeout", "60"]) == 1
    assert "the figure is hard to read" in capsys.readouterr().out
    assert os.environ["COURSE_LECTURE_MODE"] == "1" and "COURSE_CHECK_FIGURES" not in os.environ
