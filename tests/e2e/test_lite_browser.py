"""The JupyterLite site in a real browser with no outside network, used as a student would.

Builds the site (``scripts/build_lite.py --reuse``: kept when its inputs are unchanged),
serves it on a free 127.0.0.1 port with Python's http.server (with application/wasm for
.wasm), and opens notebook 02 in Debian's Chromium through Playwright. Every request to
anywhere but that port is aborted and counted by a route handler, and Chromium's resolver
maps every other host name to nothing, so even a request the handler cannot see cannot leave.
Then: run all cells; no cell may produce an error output; the attention explorer's picture
must be there, and moving its "scores ÷" slider must redraw it; in the same kernel, only the
bundled vectors are available (as a VectorTable) and word2vec_sample gives a clear message;
no outside request may have been attempted.

The cold start (page opened to the explorer's first picture: JupyterLab, Pyodide, the
``%pip install`` of the course from the site's own wheels and every cell before the
explorer) is printed and written to ``_lite/e2e-timing.json``. It is a measurement on this
machine, not a limit the test enforces (apart from the generous timeouts below).

Run: ``pytest -m e2e tests/e2e/test_lite_browser.py -s`` (about 1-3 minutes).
``LITE_NOTEBOOKS=DIR`` builds the site from DIR instead of notebooks/.
"""

import functools
import http.server
import json
import os
import shutil
import subprocess
import sys
import threading
import time
import warnings
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from labserver import CHROMIUM_ARGS as LAB_CHROMIUM_ARGS  # tests/e2e, on sys.path

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
SITE = ROOT / "_lite" / "site"
NOTEBOOK = "02_dot_product_attention.ipynb"
# The flags of the JupyterLab browser test, and: any host name other than the loopback
# address resolves to nothing.
CHROMIUM_ARGS = [*LAB_CHROMIUM_ARGS, "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"]
MIME_TYPES = {
    ".wasm": "application/wasm",
    ".mjs": "text/javascript",
    ".js": "text/javascript",
    ".json": "application/json",
    ".ipynb": "application/json",
    ".whl": "application/zip",
    ".zip": "application/zip",
}
# DOM hooks (tests API: course_lib's explorers add these classes).
EXPLORER = ".course-attention-explorer"
PICTURE = f"{EXPLORER} .course-explorer-picture"
DIVISOR = f"{EXPLORER} .widget-hslider:has(.widget-label:text-is('scores ÷'))"
# The explorer of before the API change, used (with a warning) only while the hooks are absent.
OLD_PICTURE = "img.course-explorer-image"
OLD_DIVISOR = ".widget-hslider:has(.widget-label:text-is('divide scores by'))"

NOTEBOOK_STATE = """() => {
    const panel = window.jupyterapp && window.jupyterapp.shell.currentWidget;
    if (!panel || !panel.content || !panel.sessionContext) return null;
    const session = panel.sessionContext.session;
    const kernel = session && session.kernel;
    const cells = panel.content.widgets.filter(c => c.model.type === "code").map(c => ({
        count: c.model.executionCount,
        source: c.model.sharedModel.getSource().slice(0, 300),
        outputs: c.model.outputs.toJSON(),
    }));
    return {kernel: kernel ? kernel.status : null, cells};
}"""

SCROLL_TO_CELL = """async (selector) => {
    const notebook = window.jupyterapp.shell.currentWidget.content;
    const cell = notebook.widgets.find(c => c.node.querySelector(selector));
    await notebook.scrollToCell(cell, "center");
}"""

KERNEL_RUN = """async (code) => {
    const kernel = window.jupyterapp.shell.currentWidget.sessionContext.session.kernel;
    const future = kernel.requestExecute({code, store_history: false});
    const out = [];
    future.onIOPub = (msg) => {
        const kind = msg.header.msg_type;
        if (kind === "stream") out.push(msg.content.text);
        if (kind === "error") out.push(`ERROR ${msg.content.ename}: ${msg.content.evalue}`);
    };
    await future.done;
    return out.join("");
}"""
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

PICTURE_STATE = """(root) => {
    const img = root.querySelector("img");
    return root.innerHTML.length + ":" + (img ? img.getAttribute("src") : root.innerHTML);
}"""


def _under_ci():
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def _chromium():
    for candidate in (os.environ.get("CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium")):
        if candidate and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    reason = "no Chromium (looked for $CHROMIUM and /usr/bin/chromium): apt-get install chromium"
    if _under_ci():
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)


def _link_or_copy(source, target):
    try:
        os.link(source, target)
    except OSError:  # another file system
        shutil.copy2(source, target)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The built site; built (or found up to date) by scripts/build_lite.py --reuse."""
    started = time.monotonic()
    command = [sys.executable, str(ROOT / "scripts" / "build_lite.py"), "--reuse"]
    if os.environ.get("LITE_NOTEBOOKS"):  # build from another folder than notebooks/
        command += ["--notebooks", os.environ["LITE_NOTEBOOKS"]]
    result = subprocess.run(
        command,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    if result.returncode != 0:
        pytest.fail(f"building the site failed:\n{(result.stdout + result.stderr)[-4000:]}")
    print(result.stdout.strip().splitlines()[-1], f"({time.monotonic() - started:.0f} s)")
    # A private copy (hard links where possible), so that a rebuild started meanwhile by another
    # test run cannot swap the files under this one.
    copy = tmp_path_factory.mktemp("lite") / "site"
    shutil.copytree(SITE, copy, copy_function=_link_or_copy)
    assert (copy / "index.html").is_file() and (copy / "pyodide" / "pyodide.asm.wasm").is_file()
    return copy


@pytest.fixture(scope="module")
def server(site):
    """http.server on a free loopback port, in a thread, serving the site; its base URL."""

    class Handler(http.server.SimpleHTTPRequestHandler):
        extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map, **MIME_TYPES}

        def log_message(self, *args):
            pass

    handler = functools.partial(Handler, directory=str(site))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=10)


@pytest.fixture
def browser_page(server, tmp_path, monkeypatch):
    """(page, outside) in a fresh Chromium; ``outside`` lists every request that tried to leave."""
    executable = _chromium()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        if _under_ci():
            pytest.fail("the Python package playwright is not installed", pytrace=False)
        pytest.skip("the Python package playwright is not installed")
    # Route the service worker's requests too (Playwright needs this switch for them).
    monkeypatch.setenv("PW_EXPERIMENTAL_SERVICE_WORKER_NETWORK_EVENTS", "1")
    outside = []
    origin = urlsplit(server)

    def route(route):
        url = urlsplit(route.request.url)
        if url.scheme in {"data", "blob"} or (url.scheme, url.netloc) == (
            origin.scheme,
            origin.netloc,
        ):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1500, "height": 1100})
        context.route("**/*", route)
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
            browser.close()


def _state(page):
    return page.evaluate(NOTEBOOK_STATE)


def _errors(cells):
    """Error outputs (and tracebacks printed to stderr) of the notebook's code cells."""
    found = []
    for cell in cells:
        for output in cell["outputs"]:
            kind = output.get("output_type")
            text = "".join(output.get("text", "")) if kind == "stream" else ""
            if kind == "error":
                found.append(f"{output.get('ename')}: {output.get('evalue')} in\n{cell['source']}")
            elif output.get("name") == "stderr" and "Traceback" in text:
                found.append(f"stderr traceback in\n{cell['source']}\n{text[-800:]}")
    return found


def _run_all_and_wait(page, timeout=600):
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = _state(page)
        errors = _errors(state["cells"])
        assert not errors, "a cell failed in the browser:\n" + "\n\n".join(errors)
        done = all(cell["count"] is not None for cell in state["cells"])
        if done and state["kernel"] == "idle":
            return state
        time.sleep(0.5)
    pending = [c["source"][:80] for c in _state(page)["cells"] if c["count"] is None]
    pytest.fail(f"run-all did not finish in {timeout} s; cells not run: {pending}")


def _find_explorer(page):
    """Selectors of the explorer's picture and divisor slider (the API's hooks, else the old)."""
    if page.locator(EXPLORER).count():
        return PICTURE, DIVISOR
    if page.locator(OLD_PICTURE).count():
        warnings.warn(
            "the explorer has no course-attention-explorer hook yet; old selectors used",
            stacklevel=2,
        )
        return OLD_PICTURE, OLD_DIVISOR
    pytest.fail(
        "no attention explorer in the page (no element with class course-attention-explorer)"
    )


def test_notebook_02_runs_offline_in_the_browser(browser_page, server):
    page, outside = browser_page
    started = time.monotonic()
    page.goto(f"{server}/lab/index.html?path={NOTEBOOK}")
    page.wait_for_function(
        "() => { const s = (" + NOTEBOOK_STATE + ")(); return !!s && s.kernel === 'idle'; }",
        timeout=180_000,
    )
    kernel_ready = time.monotonic() - started
    first_cell = _state(page)["cells"][0]["source"]
    assert "emscripten" in first_cell, (
        "cell 1 of the notebook has no JupyterLite branch (sys.platform == 'emscripten'), so "
        f"the course is never installed in the site; regenerate it with `make links`:\n{first_cell}"
    )

    state = _run_all_and_wait(page)
    ran_all = time.monotonic() - started
    picture, divisor = _find_explorer(page)
    page.wait_for_function(
        "(sel) => { const p = document.querySelector(sel);"
        " return !!p && !!p.querySelector('.course-figure, img, table, svg'); }",
        arg=picture,
        timeout=120_000,
    )
    cold_start = time.monotonic() - started
    # JupyterLab hides (display: none) the cells out of view: scroll the explorer's cell in.
    page.evaluate(SCROLL_TO_CELL, picture)
    page.locator(picture).first.wait_for(state="visible", timeout=30_000)
    box = page.locator(picture).first.bounding_box()
    assert box and box["width"] > 100 and box["height"] > 50, f"picture too small: {box}"

    # Move the divisor: type a new value into the slider's readout and press Enter.
    before = page.locator(picture).first.evaluate(PICTURE_STATE)
    readout = page.locator(divisor).first.locator(".widget-readout")
    old_value = readout.inner_text().strip()
    readout.click()
    page.keyboard.press("Control+A")
    page.keyboard.type("2")
    page.keyboard.press("Enter")
    page.wait_for_function(
        "([sel, old]) => { const r = document.querySelector(sel);"
        " return !!r && (" + PICTURE_STATE + ")(r) !== old; }",
        arg=[picture, before],
        timeout=60_000,
    )
    redrawn = page.locator(picture).first.evaluate(PICTURE_STATE)
    assert redrawn != before
    assert readout.inner_text().strip() != old_value
    assert not _errors(_state(page)["cells"])

    sources = page.evaluate(KERNEL_RUN, SOURCES_CHECK)
    assert sources.startswith("emscripten ['bundled'] VectorTable"), sources
    assert "raised" in sources and "local or Binder" in sources, sources

    timing = {
        "kernel_ready_s": round(kernel_ready, 1),
        "run_all_done_s": round(ran_all, 1),
        "cold_start_to_first_picture_s": round(cold_start, 1),
        "code_cells": len(state["cells"]),
        "outside_requests": len(outside),
    }
    (ROOT / "_lite" / "e2e-timing.json").write_text(json.dumps(timing, indent=1) + "\n")
    print(
        f"\nJupyterLite cold start: kernel ready {kernel_ready:.1f} s, all cells run "
        f"{ran_all:.1f} s, first picture {cold_start:.1f} s; {len(state['cells'])} code cells;"
        f" outside requests {len(outside)}"
    )
    assert outside == [], f"requests tried to leave the machine: {outside[:10]}"
