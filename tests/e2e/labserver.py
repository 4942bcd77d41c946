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
        if hasattr(os, "geteuid") and os.geteuid() == 0:  # containers and CI often run as root
            command.append("--allow-root")
        log_path = base / "jupyterlab.log"
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


def open_and_run(page, server, notebook="explorer.ipynb"):
    """Open ``notebook`` in JupyterLab, run all cells, wait for both explorers' pictures."""
    page.goto(server.url(f"lab/tree/{notebook}"))
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
    wait_idle(page)
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
    page.wait_for_selector(f"{PICTURE} .course-cells > div", timeout=90_000)
    page.wait_for_selector(f"{DK} .course-explorer-picture .course-cells > div", timeout=90_000)
    wait_idle(page)


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
