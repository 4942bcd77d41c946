"""A private JupyterLab server and Debian's Chromium, for the browser tests and benchmark.

- :func:`running_lab`: JupyterLab from this Python environment on a free localhost port,
  with a random token, a temporary root folder holding copies of the given notebooks, and
  temporary settings/workspace folders. Told not to fetch news or check for updates. Always
  stopped (REST shutdown, then SIGTERM, then SIGKILL to its process group).
- :func:`find_chromium`: ``$CHROMIUM`` or ``/usr/bin/chromium``; never downloaded here.
- Page helpers shared by ``test_explorer_browser.py`` and ``benchmarks/bench_browser.py``.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

HERE = Path(__file__).parent
NOTEBOOK = HERE / "explorer.ipynb"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def find_chromium():
    candidates = [os.environ.get("CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser"]
    candidates += [shutil.which("chromium"), shutil.which("chromium-browser")]
    for candidate in candidates:
        if candidate and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None


def _free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LabServer:
    def __init__(self, root, port, token, process, log_path):
        self.root, self.port, self.token = root, port, token
        self.process, self.log_path = process, log_path
        self.base_url = f"http://127.0.0.1:{port}"

    def url(self, path):
        return f"{self.base_url}/{path.lstrip('/')}?token={self.token}"

    def request(self, path, method="GET", timeout=5):
        request = urllib.request.Request(
            self.url(path), method=method, headers={"Authorization": f"token {self.token}"}
        )
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = response.read()
        return json.loads(body) if body else None

    def log(self):
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def _wait_until_ready(server, timeout=90):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"JupyterLab exited early:\n{server.log()[-3000:]}")
        try:
            server.request("api/status", timeout=2)
            return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.3)
    raise RuntimeError(f"JupyterLab did not answer in {timeout}s:\n{server.log()[-3000:]}")


def _stop(server):
    """Shut the server (and its kernels) down politely, then firmly."""
    process = server.process
    if process.poll() is None:
        try:
            server.request("api/shutdown", method="POST", timeout=5)
            process.wait(timeout=15)
        except (urllib.error.URLError, ConnectionError, TimeoutError, subprocess.TimeoutExpired):
            pass
    for sig in (signal.SIGTERM, signal.SIGKILL):
        if process.poll() is not None:
            break
        try:
            os.killpg(process.pid, sig)  # the server was started in its own process group
        except ProcessLookupError:
            break
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            continue


@contextlib.contextmanager
def running_lab(notebooks=(NOTEBOOK,), base=None):
    """Start JupyterLab serving copies of ``notebooks``; yield a :class:`LabServer`."""
    with contextlib.ExitStack() as stack:
        if base is None:
            base = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="lab-")))
        root = base / "root"
        root.mkdir()
        for notebook in notebooks:
            shutil.copy(notebook, root / Path(notebook).name)
        notification = base / "settings" / "@jupyterlab" / "apputils-extension"
        notification.mkdir(parents=True)
        (notification / "notification.jupyterlab-settings").write_text(
            json.dumps({"fetchNews": "false", "checkForUpdates": False})
        )
        env = dict(os.environ)
        env.update(
            JUPYTERLAB_SETTINGS_DIR=str(base / "settings"),
            JUPYTERLAB_WORKSPACES_DIR=str(base / "workspaces"),
            JUPYTER_RUNTIME_DIR=str(base / "runtime"),
            JUPYTER_CONFIG_DIR=str(base / "config"),
            MPLBACKEND="module://matplotlib_inline.backend_inline",
            PYTHONUNBUFFERED="1",
        )
        port, token = _free_port(), os.urandom(16).hex()
        command = [
            sys.executable,
            "-m",
            "jupyterlab",
            "--no-browser",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={port}",
            "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={token}",
            f"--ServerApp.root_dir={root}",
            "--ServerApp.open_browser=False",
            "--LabApp.news_url=None",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
            "--LabApp.extension_manager=readonly",
            "--LabApp.expose_app_in_browser=True",
            "--ServerApp.terminals_enabled=False",
        ]
        with serving(command, root, env, port, token, base / "jupyterlab.log") as server:
            yield server


@contextlib.contextmanager
def serving(command, root, env, port, token, log_path):
    """Run a Jupyter server ``command`` in ``root``; yield a :class:`LabServer` once it answers.

    The server gets a session of its own (so stopping it stops its kernels too); its output
    goes to ``log_path``. It is stopped when the block ends, whatever happened.
    """
    if hasattr(os, "geteuid") and os.geteuid() == 0:  # containers and CI often run as root
        command = [*command, "--allow-root"]
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            command,
            cwd=root,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    server = LabServer(root, port, token, process, log_path)
    try:
        _wait_until_ready(server)
        yield server
    finally:
        _stop(server)


# -- page helpers --------------------------------------------------------------------------------

ATTENTION = ".course-attention-explorer"
DK = ".course-dk-explorer"
PICTURE = f"{ATTENTION} .course-explorer-picture"
DIVISOR = f"{ATTENTION} .widget-hslider:has(.widget-label:text-is('scores ÷'))"

KERNEL_IDLE = """() => {
    const widget = window.jupyterapp && window.jupyterapp.shell.currentWidget;
    const kernel = widget && widget.sessionContext && widget.sessionContext.session
        && widget.sessionContext.session.kernel;
    return !!kernel && kernel.status === "idle" && kernel.connectionStatus === "connected";
}"""

# Watches one explorer's picture: every new picture (title + cell colours) is recorded with
# the time it reached the page and the time just after the next frame was painted.
# Inputs (key presses, pointer moves, changes) are recorded with their event time stamps.
WATCH = """(root) => {
    const view = document.querySelector(root + " .course-explorer-view");
    const log = window.__pictures = window.__pictures || {};
    const frames = log[root] = [];
    const fingerprint = () => {
        const titles = [...view.querySelectorAll(".course-title")].map(e => e.textContent);
        const cells = [...view.querySelectorAll(".course-cells > div")]
            .map(e => e.style.background);
        return titles.join(" | ") + " :: " + cells.join(",");
    };
    let last = fingerprint();
    const record = () => {
        const now = fingerprint();
        if (now === last) return;
        last = now;
        const entry = {t: performance.now(), fp: now, painted: null,
            title: (view.querySelector(".course-title") || {}).textContent || ""};
        frames.push(entry);
        // after the next frame is painted: a task queued from the frame's rAF callback
        requestAnimationFrame(() => {
            const channel = new MessageChannel();
            channel.port1.onmessage = () => { entry.painted = performance.now(); };
            channel.port2.postMessage(0);
        });
    };
    new MutationObserver(record).observe(view, {subtree: true, childList: true,
        characterData: true, attributes: true});
    if (!window.__inputs) {
        window.__inputs = [];
        for (const kind of ["keydown", "pointermove", "change", "click"]) {
            document.addEventListener(kind, (event) => window.__inputs.push(
                {kind: kind, t: event.timeStamp}), true);
        }
    }
    return last;
}"""


def wait_idle(page, timeout=60_000):
    page.wait_for_function(KERNEL_IDLE, timeout=timeout)


# The first explorer picture, detected in the page: the first explorer view holding a heatmap
# cell, stamped when it reaches the page and just after the next frame is painted. Installed
# before Run All; timings are performance.now(), i.e. ms since the page's navigation started.
FIRST_PICTURE = """() => {
    if (window.__firstPicture) return;
    const first = window.__firstPicture = {seen: null, painted: null};
    const check = () => {
        if (first.seen !== null
            || !document.querySelector(".course-explorer-view .course-heatmap .course-cells > *"))
            return;
        first.seen = performance.now();
        observer.disconnect();
        requestAnimationFrame(() => {
            const channel = new MessageChannel();
            channel.port1.onmessage = () => { first.painted = performance.now(); };
            channel.port2.postMessage(0);
        });
    };
    const observer = new MutationObserver(check);
    observer.observe(document.documentElement, {childList: true, subtree: true});
    check();
}"""

KERNEL_READY_AT = f"() => ({KERNEL_IDLE})() && performance.now()"

RUN_ALL = """() => {
    window.__allRan = null;
    window.jupyterapp.commands.execute("notebook:run-all-cells")
        .then(() => { window.__allRan = performance.now(); });
}"""

EXPLORER_PICTURES = (PICTURE, f"{DK} .course-explorer-picture")


def open_and_run(page, server, notebook="explorer.ipynb", pictures=EXPLORER_PICTURES):
    """Open ``notebook`` in JupyterLab, run all cells, wait for the explorers' pictures.

    Waits for a heatmap cell in each of ``pictures`` (CSS selectors; default: the attention
    and the d_k explorer of explorer.ipynb), for Run All to finish and for the kernel to be
    idle. Returns the page's own timings, in ms since the navigation started:
    ``kernel_ready`` (the notebook's kernel idle and connected), ``first_picture`` (the first
    explorer picture painted, detected in the page) and ``all_ran`` (Run All finished).
    """
    page.goto(server.url(f"lab/tree/{notebook}"))
    page.wait_for_selector(".jp-Notebook .jp-Cell", state="attached", timeout=60_000)
    page.evaluate(FIRST_PICTURE)
    kernel_ready = page.wait_for_function(KERNEL_READY_AT, timeout=60_000).json_value()
    page.evaluate(RUN_ALL)
    for selector in pictures:
        page.wait_for_selector(f"{selector} .course-cells > div", timeout=90_000)
    first = page.wait_for_function(
        "() => window.__firstPicture.painted || (window.__allRan && -1)", timeout=90_000
    ).json_value()
    if first == -1:  # Run All ended (JupyterLab stops at an error) and no explorer drew
        errors = page.locator(".jp-OutputArea-output[data-mime-type$='error']").all_inner_texts()
        raise RuntimeError(f"{notebook}: Run All ended without an explorer picture; {errors[:1]}")
    all_ran = page.wait_for_function("() => window.__allRan", timeout=180_000).json_value()
    wait_idle(page)
    return {"kernel_ready": kernel_ready, "first_picture": first, "all_ran": all_ran}


def shutdown_kernels(server):
    """Stop every kernel of ``server`` (so that the next page opens a cold one)."""
    for session in server.request("api/sessions"):
        server.request(f"api/sessions/{session['id']}", method="DELETE")


def watch(page, root):
    return page.evaluate(WATCH, root)


def frames(page, root):
    return page.evaluate("(root) => window.__pictures[root]", root)


def settle(page, root, quiet_ms=1200, timeout=30_000):
    """Wait until the kernel is idle and ``root``'s picture has not changed for quiet_ms."""
    page.wait_for_function(
        """([root, quiet]) => {
            const frames = window.__pictures[root];
            const last = frames.length ? frames[frames.length - 1].t : 0;
            return performance.now() - last >= quiet;
        }""",
        arg=[root, quiet_ms],
        polling=100,
        timeout=timeout,
    )
    wait_idle(page)


def title(page, root):
    return page.locator(f"{root} .course-title").first.inner_text().strip()


def cell_colours(page, root, which=0):
    """Background colours of the cells of heatmap number ``which`` in ``root``."""
    return page.evaluate(
        """([root, which]) => [...document.querySelectorAll(root + " .course-heatmap")[which]
            .querySelectorAll(".course-cells > div")].map(e => e.style.background)""",
        [root, which],
    )


def readout(page):
    return page.locator(f"{DIVISOR} .widget-readout").first.inner_text().strip()
