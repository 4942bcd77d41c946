"""The explorers in a real browser: JupyterLab + Chromium, driven like a student.

Opens tests/e2e/explorer.ipynb (an attention explorer and a d_k explorer) in a private
JupyterLab and runs all cells. Then:

- drags the "scores ÷" slider's handle with the mouse for about a second: pictures appear
  while dragging (not only on release), and the last one is the picture of the final value;
- checks that the heatmap keeps its proportions at 100% and at 150% zoom on a 1366x768
  screen (150% zoom = a 911x512 CSS-pixel viewport at device scale 1.5), that its text is at
  least the notebook's own text size and that controls, picture and numbers fit the page;
- the colour-scale and projection controls change the picture; so do the d_k explorer's
  divisor choice and its "keys = queries" box;
- the d_k explorer's two heatmaps stand side by side inside the screen at 1366x768 and at
  150% zoom (file browser open), and no control's label is cut off;
- the first explorer picture is detected in the page, before Run All has finished;
- a typed sentence (Enter) redraws the picture in place; bad input shows a message and keeps
  both the last good picture and the typed text;
- a notebook saved without widget state shows a static picture (nbconvert HTML).

Run: ``pytest -m e2e tests/e2e/test_explorer_browser.py`` (about a minute).
"""

import re
from pathlib import Path

import pytest
from labserver import (
    ATTENTION,
    DIVISOR,
    DK,
    cell_colours,
    frames,
    open_and_run,
    readout,
    settle,
    title,
    wait_idle,
    watch,
)

pytestmark = pytest.mark.e2e

CELL_W_EM, CELL_H_EM = 3.2, 2.0  # the cell size of a heatmap with numbers (explorer_view)


def no_errors(page):
    assert page.locator("[data-mime-type='application/vnd.jupyter.stderr']").count() == 0
    assert page.locator(".jp-OutputArea-output:has-text('Traceback')").count() == 0


def test_dragging_the_divisor_redraws_live_and_ends_on_the_final_value(page, lab_server):
    open_and_run(page, lab_server)
    assert readout(page) == "8.00" and title(page, ATTENTION).startswith("scores ÷ 8.00")
    watch(page, ATTENTION)
    handle = page.locator(f"{DIVISOR} .noUi-handle, {DIVISOR} .ui-slider-handle").first
    box = handle.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    start = page.evaluate("() => performance.now()")
    elapsed = 0.0
    while elapsed < 1000.0:  # one second of moves, 80 px to the left (inside the track)
        elapsed = page.evaluate("() => performance.now()") - start
        page.mouse.move(x - 80.0 * min(elapsed, 1000.0) / 1000.0, y, steps=4)
        page.wait_for_timeout(15)
    released = page.evaluate("() => performance.now()")
    page.mouse.up()
    settle(page, ATTENTION)

    during = [f for f in frames(page, ATTENTION) if start <= f["t"] <= released]
    final = readout(page)
    assert 0.25 < float(final) < 8.0  # the handle moved left, not to the end of the track
    assert len({f["fp"] for f in during}) >= 2, during  # pictures while the button was down
    assert title(page, ATTENTION).startswith(f"scores ÷ {final},")  # last picture = last value
    first_cell = page.locator(f"{ATTENTION} .course-cells > div").first.inner_text()
    assert re.fullmatch(r"\d\.\d\d", first_cell)
    no_errors(page)
    print(f"drag: {len(during)} pictures while dragging, final value {final}")


def test_typed_sentences_redraw_in_place_and_bad_input_keeps_the_view(page, lab_server):
    open_and_run(page, lab_server)
    watch(page, ATTENTION)
    box = page.locator(f"{ATTENTION} .widget-text:has-text('Sentence') input").first
    box.fill("the cat sat on the mat")
    page.wait_for_timeout(300)
    assert "cat" not in page.locator(f"{ATTENTION} .course-explorer-picture").inner_text()
    box.press("Enter")  # the box updates on Enter only
    page.wait_for_function(
        "(root) => document.querySelector(root + ' .course-explorer-picture')"
        ".textContent.includes('cat')",
        arg=ATTENTION,
    )
    settle(page, ATTENTION)
    good = cell_colours(page, ATTENTION)
    assert len(good) == 36  # six words: "the" twice
    box.fill("?! ...")
    box.press("Enter")
    status = page.locator(f"{ATTENTION} .course-explorer-status")
    status.filter(has_text="No words found").wait_for()
    settle(page, ATTENTION)
    assert cell_colours(page, ATTENTION) == good  # the last good picture stays ...
    assert box.input_value() == "?! ..."  # ... and so does what was typed
    assert page.locator(f"{ATTENTION} .course-explorer-view").count() == 1  # no stacking
    no_errors(page)


def heatmap_geometry(page):
    """Aspect of the attention heatmap's cell block, and text sizes, as laid out."""
    return page.evaluate(
        """(root) => {
            const map = document.querySelector(root + " .course-heatmap");
            const cells = map.querySelectorAll(".course-cells > div");
            const a = cells[0].getBoundingClientRect();
            const b = cells[cells.length - 1].getBoundingClientRect();
            const text = parseFloat(getComputedStyle(cells[0]).fontSize);
            const prose = document.querySelector(".jp-RenderedMarkdown p");
            const numbers = document.querySelector(root + " .course-numbers")
                .getBoundingClientRect();
            const output = map.closest(".jp-OutputArea-output").getBoundingClientRect();
            return {width: b.right - a.left, height: b.bottom - a.top,
                    rows: +map.dataset.rows, cols: +map.dataset.cols, text: text,
                    prose: prose ? parseFloat(getComputedStyle(prose).fontSize) : null,
                    numbers: [numbers.width, numbers.height], map_right: b.right,
                    output_right: output.right};
        }""",
        ATTENTION,
    )


@pytest.mark.parametrize(
    "zoom, viewport", [(1.0, (1366, 768)), (1.5, (911, 512))], ids=["100%", "150%"]
)
def test_picture_keeps_its_aspect_and_readable_text(browser, lab_server, zoom, viewport):
    context = browser.new_context(
        viewport={"width": viewport[0], "height": viewport[1]}, device_scale_factor=zoom
    )
    try:
        page = context.new_page()
        page.set_default_timeout(60_000)
        open_and_run(page, lab_server)
        page.locator(f"{ATTENTION} .course-heatmap").first.scroll_into_view_if_needed()
        geometry = heatmap_geometry(page)
        design = (geometry["cols"] * CELL_W_EM) / (geometry["rows"] * CELL_H_EM)
        assert geometry["width"] / geometry["height"] == pytest.approx(design, rel=0.02), geometry
        assert geometry["prose"] is not None and geometry["text"] >= geometry["prose"], geometry
        assert min(geometry["numbers"]) > 20, geometry  # the numbers table is shown
        assert geometry["map_right"] <= geometry["output_right"] + 1, geometry  # not cut off
        no_errors(page)
    finally:
        context.close()


def test_colour_scale_and_projection_change_the_picture(page, lab_server):
    open_and_run(page, lab_server)
    watch(page, ATTENTION)
    fixed = cell_colours(page, ATTENTION)
    page.locator(f"{ATTENTION} button:has-text('stretch 0–max')").click()
    page.wait_for_function(
        "(root) => document.querySelector(root + ' .course-colourbar').textContent"
        ".includes('stretched')",
        arg=ATTENTION,
    )
    settle(page, ATTENTION)
    stretched = cell_colours(page, ATTENTION)
    assert stretched != fixed and len(stretched) == len(fixed)

    projection = page.locator(f"{ATTENTION} .widget-dropdown:has-text('queries, keys') select")
    projection.select_option(label="random W_Q ≠ W_K")
    page.wait_for_function(
        "(root) => document.querySelector(root + ' .course-title').textContent.includes('random')",
        arg=ATTENTION,
    )
    settle(page, ATTENTION)
    assert cell_colours(page, ATTENTION) != stretched
    no_errors(page)


def test_dk_explorer_divisor_choice_and_same_qk_change_the_picture(page, lab_server):
    open_and_run(page, lab_server)
    watch(page, DK)
    before = cell_colours(page, DK, which=1)
    page.locator(f"{DK} button:has-text('÷ d_k')").click()
    page.wait_for_function(
        "(root) => document.querySelectorAll(root + ' .course-title')[1].textContent"
        ".includes('÷ d_k')",
        arg=DK,
    )
    settle(page, DK)
    by_dk = cell_colours(page, DK, which=1)
    assert by_dk != before
    page.locator(f"{DK} .widget-checkbox input").check()
    page.wait_for_function(
        "(root) => document.querySelector(root + ' .course-note').textContent.includes('K = Q')",
        arg=DK,
    )
    settle(page, DK)
    assert cell_colours(page, DK, which=1) != by_dk
    wait_idle(page)
    no_errors(page)


DK_FIT = """(root) => {
    const box = (e) => { const r = e.getBoundingClientRect();
        return {left: r.left, right: r.right, top: r.top, bottom: r.bottom}; };
    const scroller = document.querySelector(".jp-WindowedPanel-outer, .jp-Notebook");
    const clipped = [...document.querySelectorAll(root + " button, " + root + " .widget-label")]
        .filter(e => e.offsetParent !== null && e.scrollWidth > e.clientWidth)
        .map(e => e.textContent);
    return {maps: [...document.querySelectorAll(root + " .course-heatmap")].map(box),
            output: box(document.querySelector(root).closest(".jp-OutputArea-output")),
            notebook: box(scroller), clipped: clipped,
            resample: [...document.querySelectorAll(root + " button")]
                .filter(b => b.textContent.includes("random")).map(b => b.textContent),
            width: innerWidth, height: innerHeight};
}"""


@pytest.mark.parametrize(
    "zoom, viewport", [(1.0, (1366, 768)), (1.5, (911, 512))], ids=["100%", "150%"]
)
def test_dk_explorer_fits_with_both_heatmaps_side_by_side(browser, lab_server, zoom, viewport):
    context = browser.new_context(
        viewport={"width": viewport[0], "height": viewport[1]}, device_scale_factor=zoom
    )
    try:
        page = context.new_page()
        page.set_default_timeout(60_000)
        open_and_run(page, lab_server)
        assert page.locator(".jp-FileBrowser").first.is_visible()  # the file browser is open
        page.locator(f"{DK} .course-explorer-picture").first.scroll_into_view_if_needed()
        fit = page.evaluate(DK_FIT, DK)
        left, right = fit["maps"]
        assert right["left"] >= left["right"], fit  # side by side, not stacked
        assert abs(right["top"] - left["top"]) < 1, fit
        for heatmap in (left, right):
            assert heatmap["left"] >= fit["output"]["left"] - 1, fit
            assert heatmap["right"] <= min(fit["output"]["right"], fit["width"]) + 1, fit
            assert heatmap["top"] >= fit["notebook"]["top"] - 1, fit  # both in view at once
            assert heatmap["bottom"] <= min(fit["notebook"]["bottom"], fit["height"]) + 1, fit
        assert fit["resample"] == ["new random vectors"] and fit["clipped"] == [], fit
        no_errors(page)
    finally:
        context.close()


def test_the_first_picture_is_timed_in_the_page_before_run_all_ends(page, lab_server):
    timing = open_and_run(page, lab_server)
    assert 0 < timing["kernel_ready"] < timing["first_picture"], timing
    # explorer.ipynb draws the attention explorer in its first code cell; the d_k explorer's
    # cell runs after it, so Run All ends after the first picture
    assert timing["first_picture"] < timing["all_ran"], timing
    seen = page.evaluate("() => window.__firstPicture.seen")
    assert seen <= timing["first_picture"], (seen, timing)


def test_saved_notebook_shows_a_static_heatmap_without_a_kernel(browser, tmp_path):
    """Saved without widget state (as `make notebooks` does), nbconvert/nbviewer show a PNG."""
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    nbconvert = pytest.importorskip("nbconvert")
    notebook = nbformat.read(Path(__file__).with_name("explorer.ipynb"), as_version=4)
    nbclient.NotebookClient(
        notebook, timeout=120, kernel_name="python3", store_widget_state=False
    ).execute()
    assert "widgets" not in notebook.metadata
    outputs = [cell.outputs[0] for cell in notebook.cells if cell.cell_type == "code"]
    for output in outputs:
        assert {"application/vnd.jupyter.widget-view+json", "image/png"} <= set(output.data)

    body, _ = nbconvert.HTMLExporter().from_notebook_node(notebook)
    assert body.count('src="data:image/png;base64,') == len(outputs)
    assert "AttentionExplorer(" not in body  # the picture, not the text fallback
    page_file = tmp_path / "static.html"
    page_file.write_text(body, encoding="utf-8")
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(page_file.as_uri())
        sizes = page.eval_on_selector_all(
            "img[src^='data:image/png']", "imgs => imgs.map(i => [i.naturalWidth, i.naturalHeight])"
        )
        assert len(sizes) == len(outputs)
        assert all(width > 300 and height > 200 for width, height in sizes), sizes
    finally:
        context.close()
