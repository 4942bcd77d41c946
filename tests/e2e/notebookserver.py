"""A private classic Jupyter Notebook 6.5 server with Colab's widget stack, for browser tests.

Google Colab runs ipywidgets 7.7.1 (jQuery UI sliders, the classic widget manager) on
IPython 7.34; ``scripts/check_colab_stack.sh`` builds ``.venv-colab`` with exactly those pins
and notebook 6.5.7. :func:`running_notebook` starts that venv's classic Notebook server on a
free localhost port with a random token, a temporary root folder holding copies of the given
notebooks and temporary config/runtime folders. Its kernel imports ``course_lib`` from this
checkout (``PYTHONPATH``), so the browser test sees the code under test, not the copy the
Colab check installed. The server is always stopped (REST shutdown, then SIGTERM, SIGKILL).

Page helpers for the classic front end (``Jupyter.notebook``) sit at the end.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from labserver import NOTEBOOK, _free_port, serving

REPO = Path(__file__).resolve().parents[2]
COLAB_VENV = Path(os.environ.get("COLAB_VENV", REPO / ".venv-colab"))


def colab_python():
    """The Python of ``.venv-colab`` when it holds notebook 6.5 and ipywidgets 7, else None."""
    python = COLAB_VENV / "bin" / "python"
    if not python.exists():
        return None
    check = subprocess.run(
        [
            str(python),
            "-c",
            "import notebook, ipywidgets; "
            "assert notebook.__version__.startswith('6.5'), notebook.__version__; "
            "assert ipywidgets.__version__.startswith('7.'), ipywidgets.__version__",
        ],
        capture_output=True,
        timeout=60,
    )
    return python if check.returncode == 0 else None


@contextlib.contextmanager
def running_notebook(notebooks=(NOTEBOOK,), base=None, python=None):
    """Start classic Notebook 6.5 serving copies of ``notebooks``; yield a server object.

    The object has the same ``url``, ``request``, ``log`` and ``root`` as
    :class:`labserver.LabServer`.
    """
    python = python or colab_python()
    if python is None:
        raise RuntimeError(f"no classic Notebook 6.5 + ipywidgets 7 in {COLAB_VENV}")
    with contextlib.ExitStack() as stack:
        if base is None:
            base = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="nb-")))
        root = base / "root"
        root.mkdir()
        for notebook in notebooks:
            shutil.copy(notebook, root / Path(notebook).name)
        env = dict(os.environ)
        env.update(
            JUPYTER_CONFIG_DIR=str(base / "config"),
            JUPYTER_RUNTIME_DIR=str(base / "runtime"),
            IPYTHONDIR=str(base / "ipython"),
            PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")])),
            MPLBACKEND="module://matplotlib_inline.backend_inline",
            PYTHONUNBUFFERED="1",
        )
        env.pop("VIRTUAL_ENV", None)
        port, token = _free_port(), os.urandom(16).hex()
        command = [
            str(python),
            "-m",
            "notebook",
            "--no-browser",
            "--ip=127.0.0.1",
            f"--port={port}",
            "--port-retries=0",
            f"--NotebookApp.token={token}",
            f"--notebook-dir={root}",
            "--NotebookApp.open_browser=False",
            "--NotebookApp.terminals_enabled=False",
        ]
        with serving(command, root, env, port, token, base / "notebook.log") as server:
            yield server


# -- page helpers ---------------------------------------------------------------------------

KERNEL_IDLE = """() => {
    const nb = window.Jupyter && window.Jupyter.notebook;
    const icon = document.querySelector("#kernel_indicator_icon");
    return !!(nb && nb.kernel && nb.kernel.is_connected() && icon
        && icon.classList.contains("kernel_idle_icon"));
}"""

CELL_STATE = """() => {
    const nb = window.Jupyter.notebook;
    return {types: nb.get_cells().map(c => c.cell_type),
            sources: nb.get_cells().map(c => c.get_text()),
            selected: nb.get_selected_index(), mode: nb.mode};
}"""


def wait_idle(page, timeout=60_000):
    page.wait_for_function(KERNEL_IDLE, timeout=timeout, polling=200)


def open_and_run(page, server, notebook="explorer.ipynb", wait_for=()):
    """Open ``notebook`` in classic Notebook, run all cells, wait for each of ``wait_for``."""
    page.goto(server.url(f"notebooks/{notebook}"))
    page.wait_for_function(
        "() => window.Jupyter && Jupyter.notebook && Jupyter.notebook._fully_loaded",
        timeout=60_000,
    )
    wait_idle(page)
    page.evaluate("() => Jupyter.notebook.execute_all_cells()")
    for selector in wait_for:
        page.wait_for_selector(selector, timeout=90_000)
    wait_idle(page)


def cell_state(page):
    """Cell types, sources, the selected cell and the mode (command/edit) of the notebook."""
    return page.evaluate(CELL_STATE)
