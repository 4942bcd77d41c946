"""No key pressed on an explorer edits the notebook; the keys move the control instead.

In JupyterLab 4 a key pressed on a button, checkbox, slider or dropdown inside a cell's
output reaches the notebook's command-mode shortcuts: ``b`` inserts a cell, ``r`` turns the
explorer's own cell into a raw cell (deleting the explorer), ↑/↓ select another cell
(jupyter-widgets/ipywidgets#3912). The explorers' script (course_lib/explorer_a11y.py) marks
their controls so that JupyterLab leaves those keys alone.

For every control of both explorers (tests/e2e/explorer.ipynb) this test presses ↑, ↓, ``b``
and ``r`` and checks that the notebook is unchanged (the same cells, types and sources, both
explorers still there) and that the control did what such a control does with those keys:
a dropdown moves to the next/previous option and jumps to an option starting with the
letter, a slider steps up and down (its readout and the picture follow), a text box gets
the letters; buttons and the checkbox ignore them (Space and Enter press them).

Front ends: JupyterLab 4 (this venv), and classic Notebook 6.5 with ipywidgets 7.7.1, Google
Colab's stack (``.venv-colab``, built by scripts/check_colab_stack.sh; see notebookserver.py).
The classic runs are marked ``classic``: ``make classic-test`` runs them after
``make colab-test`` has built that venv (``make unit-fast`` leaves them out). The JupyterLite
site is checked by tests/e2e/test_lite_browser.py.
"""

import os

import pytest
from labserver import running_lab, wait_idle

pytestmark = pytest.mark.e2e

KEYS = ("ArrowUp", "ArrowDown", "b", "r")
ROOT = ".course-explorer"
FOCUSABLE = (
    f"{ROOT} select, {ROOT} button, {ROOT} input, {ROOT} [role=slider], "
    f"{ROOT} [contenteditable=true]"
)

# What each control shows as its value, read from the page.
VALUE = """(el) => {
    if (el.tagName === "SELECT") return el.value;
    if (el.tagName === "INPUT") return el.type === "checkbox" ? String(el.checked) : el.value;
    if (el.getAttribute("role") === "slider") {
        const box = el.closest(".widget-slider");
        return box.querySelector(".widget-readout").textContent.trim();
    }
    if (el.isContentEditable) return el.textContent.trim();
    return el.getAttribute("aria-pressed") || el.className;
}"""

LAB_NOTEBOOK = """() => {
    const model = window.jupyterapp.shell.currentWidget.content.model;
    const cells = [];
    for (let i = 0; i < model.cells.length; i++) {
        const cell = model.cells.get(i);
        cells.push([cell.type, cell.sharedModel.getSource()]);
    }
    return {cells: cells, explorers: document.querySelectorAll(".course-explorer").length};
}"""

CLASSIC_NOTEBOOK = """() => ({
    cells: Jupyter.notebook.get_cells().map(c => [c.cell_type, c.get_text()]),
    explorers: document.querySelectorAll(".course-explorer").length,
})"""


class Front:
    """How to open, run and read the notebook in one front end."""

    def __init__(self, name, server, open_and_run, notebook_js, idle):
        self.name, self.server = name, server
        self.open_and_run, self.notebook_js, self.idle = open_and_run, notebook_js, idle

    def notebook(self, page):
        return page.evaluate(self.notebook_js)


def _lab_open(page, server):
    from labserver import open_and_run

    open_and_run(page, server)


def _classic_open(page, server):
    from notebookserver import open_and_run

    open_and_run(
        page,
        server,
        wait_for=[
            f"{ROOT}.course-attention-explorer .course-cells > div",
            f"{ROOT}.course-dk-explorer .course-cells > div",
        ],
    )


@pytest.fixture(
    scope="module",
    params=["jupyterlab", pytest.param("notebook6", marks=pytest.mark.classic)],
)
def front(request, tmp_path_factory):
    if request.param == "jupyterlab":
        pytest.importorskip("jupyterlab", reason="JupyterLab is not installed")
        with running_lab(base=tmp_path_factory.mktemp("lab")) as server:
            yield Front("jupyterlab", server, _lab_open, LAB_NOTEBOOK, wait_idle)
        return
    from notebookserver import COLAB_VENV, colab_python, running_notebook
    from notebookserver import wait_idle as classic_idle

    python = colab_python()
    if python is None:
        reason = (
            f"no classic Notebook 6.5 + ipywidgets 7.7.1 in {COLAB_VENV}: "
            "scripts/check_colab_stack.sh (make colab-test) builds it"
        )
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    with running_notebook(base=tmp_path_factory.mktemp("nb"), python=python) as server:
        yield Front("notebook6", server, _classic_open, CLASSIC_NOTEBOOK, classic_idle)


@pytest.fixture(scope="module")
def opened(browser, front):
    """One page with the fixture notebook run, shared by this module's tests."""
    context = browser.new_context(viewport={"width": 1500, "height": 1100})
    page = context.new_page()
    page.set_default_timeout(60_000)
    front.open_and_run(page, front.server)
    page.wait_for_function("(sel) => document.querySelectorAll(sel).length == 2", arg=ROOT)
    yield page
    context.close()


def _controls(page):
    """(index, tag, role, label) of every focusable control in both explorers."""
    return page.evaluate(
        """(sel) => [...document.querySelectorAll(sel)].map((el, i) => {
            const box = el.closest(".widget-inline-hbox, .widget-toggle-buttons") || el;
            const label = box.querySelector(".widget-label");
            return [i, el.tagName, el.getAttribute("role") || el.type || "",
                    ((label && label.textContent) || el.textContent || "").trim()];
        })""",
        FOCUSABLE,
    )


def _press(page, front, locator, key):
    locator.focus()
    page.keyboard.press(key)
    page.wait_for_timeout(120)
    front.idle(page)
    return locator.evaluate(VALUE)


def _options(locator):
    return locator.evaluate("(el) => [...el.options].map(o => o.value)")


def test_every_key_stays_in_its_control(opened, front):
    page = opened
    before = front.notebook(page)
    assert before["explorers"] == 2, before
    controls = _controls(page)
    kinds = {tag for _, tag, _, _ in controls}
    assert {"SELECT", "BUTTON", "INPUT"} <= kinds, controls  # the check covers every kind
    assert sum(role == "slider" for _, _, role, _ in controls) == 2, controls
    report = []
    for index, tag, role, label in controls:
        locator = page.locator(FOCUSABLE).nth(index)
        start = locator.evaluate(VALUE)
        seen = {key: _press(page, front, locator, key) for key in KEYS}
        report.append(f"{tag} {role} {label!r}: {start!r} -> {seen}")
        after = front.notebook(page)
        assert after == before, f"{front.name}: keys on {tag} {label!r} edited the notebook"

        if tag == "SELECT":
            options = _options(locator)
            # ↑ then ↓: back where it started, unless it started on the first option
            if options.index(start) > 0:
                assert seen["ArrowUp"] == options[options.index(start) - 1], report[-1]
            assert seen["ArrowDown"] != seen["ArrowUp"], report[-1]
            for letter in ("b", "r"):  # typing a letter jumps to an option starting with it
                if any(o.lower().startswith(letter) for o in options):
                    assert seen[letter].lower().startswith(letter), report[-1]
        elif role == "slider":
            up, down = float(seen["ArrowUp"]), float(seen["ArrowDown"])
            assert up > float(start) and down == pytest.approx(float(start)), report[-1]
            assert seen["b"] == seen["r"] == seen["ArrowDown"], report[-1]
            # named by its label, and saying the number shown (both front ends)
            said = locator.evaluate(
                """(el) => [el.getAttribute("aria-valuetext"),
                    document.getElementById(el.getAttribute("aria-labelledby")).textContent]"""
            )
            assert said == [seen["r"], label], (said, report[-1])
        elif tag == "INPUT" and role == "text":
            assert seen["r"].endswith("br"), report[-1]  # letters land in the box
            locator.fill(start)  # leave it as it was (not submitted: no Enter)
        elif tag == "INPUT" and role == "checkbox":
            assert set(seen.values()) == {start}, report[-1]
        elif tag == "BUTTON":
            assert set(seen.values()) == {start}, report[-1]  # arrows and letters: nothing
    print(f"\n{front.name}: {len(controls)} controls, keys {KEYS}:\n" + "\n".join(report))


def test_dropdown_keys_reach_the_kernel(opened, front):
    """The value a key chose is the explorer's state: the picture is redrawn for it."""
    page = opened
    query = page.locator(".course-attention-explorer .widget-dropdown select").first
    options, start = _options(query), query.evaluate("(el) => el.value")
    key = "ArrowDown" if options.index(start) < len(options) - 1 else "ArrowUp"
    chosen = _press(page, front, query, key)
    assert chosen != start
    page.wait_for_function(  # the bars' title names the query word
        "(word) => [...document.querySelectorAll('.course-attention-explorer .course-title')]"
        '.some(t => t.textContent.includes("\'" + word + "\'"))',
        arg=chosen,
    )
    assert front.notebook(page)["explorers"] == 2


def test_space_and_enter_still_press_buttons(opened, front):
    page = opened
    stretch = page.locator(".course-attention-explorer button:has-text('stretch')").first
    stretch.focus()
    page.keyboard.press("Space")
    front.idle(page)
    page.wait_for_function(
        "() => document.querySelector('.course-attention-explorer .course-colourbar')"
        ".textContent.includes('stretched')"
    )
    fixed = page.locator(".course-attention-explorer button:has-text('fixed')").first
    fixed.focus()
    page.keyboard.press("Enter")
    front.idle(page)
    page.wait_for_function(
        "() => document.querySelector('.course-attention-explorer .course-colourbar')"
        ".textContent.includes('fixed')"
    )


def test_without_the_mark_jupyterlab_takes_the_keys(opened, front):
    """The check above can fail: unmarked, a button's ``b`` inserts a cell in JupyterLab.

    Classic Notebook switches its own shortcuts off while a widget has the focus, so there
    the keys stay in the control even without the mark. Runs last: it edits the notebook.
    """
    page = opened
    before = front.notebook(page)
    button = page.locator(".course-dk-explorer button:has-text('new random vectors')").first
    button.evaluate(
        """(el) => {
            el.closest(".course-explorer").classList.remove("course-explorer");
            el.removeAttribute("data-lm-suppress-shortcuts");
        }"""
    )
    button.focus()
    page.keyboard.press("b")
    page.wait_for_timeout(300)
    after = front.notebook(page)
    if front.name == "jupyterlab":
        assert len(after["cells"]) == len(before["cells"]) + 1, after  # a cell was inserted
    else:
        assert after["cells"] == before["cells"]
