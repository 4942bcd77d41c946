"""The attention explorer in a real browser: JupyterLab + Chromium, driven like a student.

Opens tests/e2e/explorer.ipynb in a private JupyterLab and runs all cells. Then moves the
"divide scores by" slider (types 3.50 into its readout, then presses ArrowRight twice on
the handle) and types a new sentence + Enter. The assertions are on the final state, after
the kernel is idle again: the readout shows the new value, the heatmap PNG is different,
the new words are shown, the figure was replaced in place (still one picture per explorer),
and no cell printed an error. A second test checks the static picture that GitHub and
nbviewer show for a notebook saved without widget state.

Run: ``pytest -m e2e tests/e2e`` (about 20-40 s).
"""

from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

NEW_DIVISOR = "3.50"
FINAL_DIVISOR = "3.60"  # after two ArrowRight presses on the handle (step 0.05)
NEW_SENTENCE = "the cat sat on the mat"

# DOM hooks: ipywidgets' own classes plus the classes course_lib.widgets adds.
IMAGE = "img.course-explorer-image"
WORDS = ".course-explorer-words"
STATUS = ".course-explorer-status"
SLIDER = ".widget-hslider:has(.widget-label:text-is('divide scores by'))"
SENTENCE_BOX = ".widget-text:has(.widget-label:text-is('Sentence:')) input"

KERNEL_IDLE = """() => {
    const widget = window.jupyterapp && window.jupyterapp.shell.currentWidget;
    const kernel = widget && widget.sessionContext && widget.sessionContext.session
        && widget.sessionContext.session.kernel;
    return !!kernel && kernel.status === "idle" && kernel.connectionStatus === "connected";
}"""

IMAGE_DIGEST = """async (img) => {
    const bytes = await (await fetch(img.src)).arrayBuffer();
    const digest = await crypto.subtle.digest("SHA-256", bytes);
    return Array.from(new Uint8Array(digest)).map(b => b.toString(16).padStart(2, "0")).join("");
}"""


def wait_idle(page, timeout=60_000):
    page.wait_for_function(KERNEL_IDLE, timeout=timeout)


def image_state(page):
    """(src, sha256 of the bytes) of the attention explorer's picture."""
    image = page.locator(IMAGE).first
    return image.get_attribute("src"), image.evaluate(IMAGE_DIGEST)


def wait_for_new_image(page, old_src, timeout=30_000):
    page.wait_for_function(
        """([selector, old]) => {
            const img = document.querySelector(selector);
            return !!img && !!img.getAttribute("src") && img.getAttribute("src") !== old
                && img.complete && img.naturalWidth > 0;
        }""",
        arg=[IMAGE, old_src],
        timeout=timeout,
    )


def wait_until_settled(page, quiet_ms=1500, timeout=30_000):
    """Wait until the kernel is idle and the picture has not changed for ``quiet_ms``.

    Each key press on the slider's handle is its own change and its own redraw, and the
    kernel can be idle between two of them: only a quiet spell says the last one arrived.
    """
    page.wait_for_function(
        """([selector, quiet]) => {
            const src = (document.querySelector(selector) || {}).src;
            const now = Date.now();
            if (window.__lastSrc !== src) {
                window.__lastSrc = src;
                window.__since = now;
            }
            return now - window.__since >= quiet;
        }""",
        arg=[IMAGE, quiet_ms],
        polling=100,
        timeout=timeout,
    )
    wait_idle(page)


def test_student_moves_slider_and_types_a_sentence(page, lab_server, tmp_path):
    page.goto(lab_server.url("lab/tree/explorer.ipynb"))
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
    wait_idle(page)  # kernel started and connected

    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
    page.wait_for_selector(IMAGE, state="visible", timeout=60_000)
    wait_for_new_image(page, None)
    page.locator(WORDS).first.wait_for()
    wait_idle(page)

    slider = page.locator(SLIDER).first
    readout = slider.locator(".widget-readout")
    assert readout.inner_text().strip() == "8.00"  # sqrt(64), the Transformer's choice
    assert "steak" in page.locator(WORDS).first.inner_text()
    first_src, first_digest = image_state(page)

    # 1. the slider: type the new value into its readout and press Enter
    readout.click()
    page.keyboard.press("Control+A")
    page.keyboard.type(NEW_DIVISOR)
    page.keyboard.press("Enter")
    wait_for_new_image(page, first_src)
    wait_idle(page)
    typed_src = image_state(page)[0]
    # ... then nudge the handle with the keyboard: two steps of 0.05 to the right
    handle = slider.locator(".noUi-handle, .ui-slider-handle").first
    handle.focus()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    page.wait_for_function(
        "([el, text]) => el.textContent.trim() === text",
        arg=[readout.element_handle(), FINAL_DIVISOR],
    )
    wait_for_new_image(page, typed_src)
    wait_until_settled(page)  # two presses: two redraws; wait for the last one
    second_src, second_digest = image_state(page)

    # 2. the sentence: type a new one and press Enter (the box updates on Enter only)
    box = page.locator(SENTENCE_BOX).first
    box.fill(NEW_SENTENCE)
    page.wait_for_timeout(300)  # no redraw while typing (continuous_update=False) ...
    assert image_state(page)[0] == second_src
    box.press("Enter")  # ... one on Enter
    page.wait_for_function(
        "([selector, word]) => (document.querySelector(selector) || {}).textContent"
        "?.includes(word)",
        arg=[WORDS, "mat"],
    )
    wait_for_new_image(page, second_src)
    wait_idle(page)

    # the final state
    assert slider.locator(".widget-readout").inner_text().strip() == FINAL_DIVISOR
    words_line = page.locator(WORDS).first.inner_text()
    for word in ["cat", "sat", "mat"]:
        assert word in words_line
    assert "steak" not in words_line
    numbers = page.locator(".course-explorer-numbers").first.inner_text()
    assert "cat" in numbers and "steak" not in numbers
    final_src, final_digest = image_state(page)
    assert len({first_digest, second_digest, final_digest}) == 3  # three different pictures
    assert final_src not in (first_src, second_src)
    assert page.locator(IMAGE).count() == 2  # one per explorer: redrawn in place, no stacking
    assert page.locator(STATUS).first.inner_text().strip() == ""
    assert page.locator(SENTENCE_BOX).first.input_value() == NEW_SENTENCE
    assert page.locator("[data-mime-type='application/vnd.jupyter.stderr']").count() == 0
    assert page.locator(".jp-OutputArea-output:has-text('Traceback')").count() == 0
    # the dk explorer of the second cell rendered too
    assert page.locator(".widget-hslider:has(.widget-label:text-is('d_k'))").count() == 1
    page.screenshot(path=str(tmp_path / "final.png"), full_page=True)  # for a human to look at


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
