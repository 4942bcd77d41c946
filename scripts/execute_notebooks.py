"""Execute the course notebooks in place and save them with their outputs.

Usage::

    python scripts/execute_notebooks.py notebooks/*.ipynb notebooks/solutions/*.ipynb
    python scripts/execute_notebooks.py --timeout 120 notebooks/02_dot_product_attention.ipynb

Each notebook runs top to bottom in a fresh kernel (``python3``, the kernel of the current
environment) with its own folder as the working directory. Then:

- any cell error fails the run and the file is left untouched;
- widget state is not saved (``store_widget_state=False``, ``metadata.widgets`` removed) and
  the widget-view part of a widget's output is dropped, since without state JupyterLab could
  only show "model not found"; the output's other parts (the explorers' PNG snapshot and
  plain text) stay, so GitHub, nbviewer and a freshly opened notebook show the last view;
- per-cell timing metadata is not recorded, so re-running gives small diffs;
- every figure shown with ``course_lib.figures.show_figure`` is checked for overlapping
  labels and legends over data (``COURSE_CHECK_FIGURES=1``), at normal size
  (``COURSE_LECTURE_MODE`` is removed from the kernel's environment);
- a notebook larger than ``--max-mb`` (default 2 MB) fails the run.

The exit status is 0 only when every notebook ran and was saved.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import sys
import time
from pathlib import Path

WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
WIDGET_NOTE = "[interactive widget: run this cell in Jupyter to use it]"
ANSI_COLOUR = re.compile(r"\x1b\[[0-9;]*m")
CHECK_FIGURES, LECTURE_MODE = "COURSE_CHECK_FIGURES", "COURSE_LECTURE_MODE"


def strip_widgets(nb) -> int:
    """Remove saved widget state and widget views from ``nb``; return how many were removed."""
    removed = 0
    if "widgets" in nb.metadata:
        del nb.metadata["widgets"]
        removed += 1
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if WIDGET_MIME in data:
                del data[WIDGET_MIME]  # points at a model that is not saved: a dead view
                data.setdefault("text/plain", WIDGET_NOTE)
                removed += 1
    return removed


@contextlib.contextmanager
def kernel_environment():
    """Check every figure (COURSE_CHECK_FIGURES=1) at normal size (no COURSE_LECTURE_MODE).

    The kernels inherit this process's environment; it is restored afterwards.
    """
    saved = {name: os.environ.get(name) for name in (CHECK_FIGURES, LECTURE_MODE)}
    os.environ[CHECK_FIGURES] = "1"
    os.environ.pop(LECTURE_MODE, None)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def stderr_lines(nb) -> list[str]:
    """The first line of every stderr stream output (warnings worth a look)."""
    lines = []
    for index, cell in enumerate(nb.cells):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream" and output.get("name") == "stderr":
                text = "".join(output.get("text", "")).strip().splitlines()
                if text:
                    lines.append(f"cell {index}: {text[0][:120]}")
    return lines


def execute(path: Path, *, timeout: int, kernel_name: str, max_mb: float) -> bool:
    """Run one notebook and save it in place; return True on success."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError

    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name=kernel_name,
        allow_errors=False,
        store_widget_state=False,
        record_timing=False,
        resources={"metadata": {"path": str(path.parent.resolve())}},
    )
    start = time.perf_counter()
    try:
        client.execute()
    except (CellExecutionError, CellTimeoutError) as exc:
        print(f"FAIL  {path}: a cell raised or timed out; the file was not changed")
        lines = ANSI_COLOUR.sub("", str(exc)).strip().splitlines()
        print("      " + "\n      ".join(lines[-8:]))
        return False
    seconds = time.perf_counter() - start
    strip_widgets(nb)
    nbformat.validate(nb)
    nbformat.write(nb, path)
    size_mb = path.stat().st_size / 1e6
    print(f"ok    {path}  {seconds:5.1f} s  {size_mb * 1000:7.1f} kB")
    for line in stderr_lines(nb):
        print(f"      stderr in {line}")
    if size_mb > max_mb:
        print(f"FAIL  {path} is {size_mb:.2f} MB, over the {max_mb} MB limit (lower figure dpi)")
        return False
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="+", type=Path, help=".ipynb files to execute")
    parser.add_argument("--timeout", type=int, default=300, help="seconds per cell (300)")
    parser.add_argument("--kernel", default="python3", help="kernel name (python3)")
    parser.add_argument("--max-mb", type=float, default=2.0, help="size limit per file (2)")
    args = parser.parse_args(argv)

    failed = []
    with kernel_environment():
        for path in args.notebooks:
            if not path.is_file():
                print(f"FAIL  {path}: no such file")
                failed.append(path)
                continue
            ok = execute(path, timeout=args.timeout, kernel_name=args.kernel, max_mb=args.max_mb)
            if not ok:
                failed.append(path)
    print(f"{len(args.notebooks) - len(failed)} of {len(args.notebooks)} notebooks executed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
