"""The JupyterLite site in Debian's Chromium: shared by its browser test and its benchmarks.

- :func:`build_site`: ``scripts/build_lite.py --reuse`` (kept while its inputs are unchanged),
  then a private copy of the site, so that a rebuild started by another run cannot swap the
  files under this one.
- :class:`Traffic`: what the site's own server (``scripts/serve_lite.py``) sent, counted at
  the server: requests, statuses and body bytes. The kernel runs in a web worker, whose
  requests a page-level listener would miss; the server sees them all.
- :func:`open_notebook`: open a notebook in a fresh page and time, from the navigation start,
  the kernel becoming idle, the first explorer picture (seen by a MutationObserver the moment
  it enters the page, whether or not Run All has finished) and the end of Run All.
- :func:`kernel_run`, :func:`cache_status`: run code in the open notebook's kernel; what the
  kernel's code cache did.

Every request to anywhere but the site's port is aborted and counted, and Chromium's resolver
maps every other host name to nothing, so even a request the handler cannot see cannot leave.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from labserver import CHROMIUM_ARGS as LAB_CHROMIUM_ARGS
from labserver import find_chromium

ROOT = Path(__file__).resolve().parents[2]
SITE = ROOT / "_lite" / "site"
SITE_LOCK = "pyodide-site-lock.json"
# The JupyterLab test's flags, and: any host name other than the loopback address resolves
# to nothing.
CHROMIUM_ARGS = [*LAB_CHROMIUM_ARGS, "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"]

# DOM hooks of course_lib's explorers.
EXPLORER = ".course-attention-explorer"
PICTURE = f"{EXPLORER} .course-explorer-picture"
DRAWN = ".course-figure, img, table, svg"


def _load_serve_lite():
    path = ROOT / "scripts" / "serve_lite.py"
    spec = importlib.util.spec_from_file_location("serve_lite", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


serve_lite = _load_serve_lite()


def build_site(copy_to, notebooks=None, timeout=1800):
    """Build (or reuse) the site and copy it to ``copy_to`` (hard links where possible).

    Returns (copy, last line of the build's output). Raises RuntimeError when the build fails.
    """
    command = [sys.executable, str(ROOT / "scripts" / "build_lite.py"), "--reuse"]
    if notebooks:
        command += ["--notebooks", str(notebooks)]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    if result.returncode != 0:
        raise RuntimeError(f"building the site failed:\n{(result.stdout + result.stderr)[-4000:]}")
    copy = Path(copy_to)
    shutil.copytree(SITE, copy, copy_function=_link_or_copy)
    return copy, result.stdout.strip().splitlines()[-1]


def _link_or_copy(source, target):
    try:
        os.link(source, target)
    except OSError:  # another file system
        shutil.copy2(source, target)


@dataclass
class Traffic:
    """Responses of the site's server, counted as they are sent (thread-safe)."""

    # (path, status, body bytes, gzipped, time.monotonic() when sent)
    responses: list = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, path, status, size, gzipped):
        with self.lock:
            self.responses.append((path, status, size, gzipped, time.monotonic()))

    def mark(self):
        with self.lock:
            return len(self.responses)

    def since(self, mark=0):
        """A summary of the responses after ``mark``: counts by status, body bytes."""
        with self.lock:
            chunk = self.responses[mark:]
        by_status = {}
        for _, status, *_ in chunk:
            by_status[status] = by_status.get(status, 0) + 1
        return {
            "requests": len(chunk),
            "by_status": by_status,
            "body_bytes": sum(size for _, _, size, *_ in chunk),
            "mb": round(sum(size for _, _, size, *_ in chunk) / 1e6, 2),
            "gzipped": sum(1 for _, _, _, gzipped, _ in chunk if gzipped),
            "largest": sorted(((s, p) for p, _, s, *_ in chunk), reverse=True)[:8],
        }


def start_server(site, traffic=None):
    """The site's own server (serve_lite.py) on a free loopback port: (server, base URL)."""
    return serve_lite.serve_in_thread(site, on_response=traffic.record if traffic else None)


def stop_server(server):
    server.shutdown()
    server.server_close()


def launch(playwright, profile=None, executable=None):
    """Chromium with a fresh profile folder (or ``profile``, to come back with its cache)."""
    executable = executable or find_chromium()
    if executable is None:
        raise FileNotFoundError("no Chromium ($CHROMIUM or /usr/bin/chromium)")
    return playwright.chromium.launch_persistent_context(
        str(profile),
        executable_path=executable,
        args=CHROMIUM_ARGS,
        viewport={"width": 1500, "height": 1100},
    )


def block_outside(context, base_url):
    """Abort every request that is not for ``base_url``; return the list that collects them."""
    outside = []
    origin = urlsplit(base_url)

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

    context.route("**/*", route)
    return outside


# Installed before any of the page's scripts: records, in ms from the navigation start, the
# moment an explorer's picture first enters the page after ``window.__lite.armed`` is set
# (just before Run All, so that nothing left from an earlier visit counts).
FIRST_PICTURE_OBSERVER = """(() => {
    window.__lite = {firstPicture: null, armed: false};
    const look = () => {
        if (!window.__lite.armed || window.__lite.firstPicture !== null) return;
        for (const picture of document.querySelectorAll(PICTURE)) {
            if (picture.querySelector(DRAWN)) {
                window.__lite.firstPicture = performance.now();
                observer.disconnect();
                return;
            }
        }
    };
    const observer = new MutationObserver(look);
    const start = () => observer.observe(document, {childList: true, subtree: true});
    if (document.documentElement) start();
    else document.addEventListener("readystatechange", start, {once: true});
})();""".replace("PICTURE", json.dumps(PICTURE)).replace("DRAWN", json.dumps(DRAWN))

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
    return {kernel: kernel ? kernel.status : null, cells, now: performance.now()};
}"""

KERNEL_IDLE = (
    "() => { const s = ("
    + NOTEBOOK_STATE
    + ")(); return !!s && s.kernel === 'idle' && s.cells.length > 0; }"
)


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


def kernel_run(page, code):
    """Run ``code`` in the open notebook's kernel (outside its cells); return what it printed."""
    return page.evaluate(KERNEL_RUN, code)


def cache_status(page, saved=False, timeout=60):
    """The kernel's code cache, ``course_lite.status()`` (lite/course_lite): what it loaded,
    ran and compiled. With ``saved``, first wait (up to ``timeout`` s) until all it compiled
    is in the browser's storage (saved once imports pause for two seconds, then synced), and
    the standard library it keeps for the next start too (at a quiet moment, 20 s or more
    after the kernel started). None for a site built before the code cache (no course_lite:
    an earlier commit's site, timed as a benchmark's baseline)."""
    deadline = time.monotonic() + timeout
    while True:
        text = kernel_run(page, "import course_lite\nprint(course_lite.status())").strip()
        if text.startswith("ERROR") and "No module named 'course_lite'" in text:
            return None
        status = ast.literal_eval(text)
        # A site built before "synced" was counted reports only "saved", which comes before
        # the copy to IndexedDB ends: then give the copy a few seconds more.
        synced = status.get("synced", status["saved"])
        done = synced >= status["compiled"] and not status.get("boot_pending")
        if saved and done and "synced" not in status:
            time.sleep(5)
        if not saved or done or time.monotonic() > deadline:
            return status
        time.sleep(0.5)


def code_sources(path):
    """The sources of a notebook file's code cells."""
    cells = json.loads(Path(path).read_text(encoding="utf-8"))["cells"]
    return ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]


def state(page):
    return page.evaluate(NOTEBOOK_STATE)


def errors(cells):
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


def stderr_lines(cells):
    """Every stderr line the cells printed (for example a font-cache warning)."""
    lines = []
    for cell in cells:
        for output in cell["outputs"]:
            if output.get("output_type") == "stream" and output.get("name") == "stderr":
                lines += "".join(output.get("text", "")).splitlines()
    return [line for line in lines if line.strip()]


@dataclass
class Visit:
    """What one visit to a notebook measured, in seconds from the navigation start."""

    kernel_ready_s: float | None = None
    first_picture_s: float | None = None
    run_all_s: float | None = None
    cells: list = field(default_factory=list)


def open_notebook(page, base_url, notebook, *, run_all=True, want_picture=True, timeout=600):
    """Open ``notebook``, wait for its kernel, Run All; time each step (see :class:`Visit`).

    Fails (AssertionError) as soon as a cell has an error output. The first picture is
    awaited only when ``want_picture``; Run All's end only when ``run_all``.
    """
    page.add_init_script(FIRST_PICTURE_OBSERVER)
    page.goto(f"{base_url}/lab/index.html?path={notebook}")
    page.wait_for_function(KERNEL_IDLE, timeout=timeout * 1000, polling=50)
    visit = Visit(kernel_ready_s=_now(page))
    if not run_all:
        return visit
    page.evaluate(
        "() => { window.__lite.armed = true;"
        " window.jupyterapp.commands.execute('notebook:run-all-cells'); }"
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        current = state(page)
        found = errors(current["cells"])
        assert not found, "a cell failed in the browser:\n" + "\n\n".join(found)
        first = page.evaluate("() => window.__lite.firstPicture")
        if first is not None and visit.first_picture_s is None:
            visit.first_picture_s = first / 1000
        done = all(cell["count"] is not None for cell in current["cells"])
        if done and current["kernel"] == "idle" and visit.run_all_s is None:
            visit.run_all_s = current["now"] / 1000
            visit.cells = current["cells"]
        if visit.run_all_s is not None and (visit.first_picture_s or not want_picture):
            return visit
        time.sleep(0.05)
    pending = [c["source"][:80] for c in state(page)["cells"] if c["count"] is None]
    raise AssertionError(
        f"within {timeout} s: first picture {visit.first_picture_s}, Run All {visit.run_all_s};"
        f" cells not run: {pending}"
    )


def _now(page):
    return page.evaluate("() => performance.now()") / 1000
