"""Re-run the notebooks' measured claims over seeds 0-9 (``make claims``).

A number in a notebook's prose that comes from a random run must hold for every seed it
claims. A notebook says which cells depend on the seed with one code cell tagged
``parameters`` (the papermill convention) that sets ``SEEDS``::

    SEEDS = range(1)  # `make claims` runs the notebook with SEEDS = range(10)

and its measuring cells loop over ``SEEDS`` and assert the range the prose states, e.g.
``assert all(160 <= r <= 430 for r in ratios)``. Run normally, the notebook checks its
default seeds (quick); this script runs it again in a fresh kernel with
``SEEDS = range(0, 10)`` put in place of that cell, so every assert is checked on every seed.
Nothing is written: the saved notebook keeps its default run.

Usage::

    python scripts/check_claims.py                  # every notebook in notebooks/
    python scripts/check_claims.py --seeds 0-4 notebooks/03_scaled_dot_product_attention.ipynb

A notebook with no ``parameters`` cell has no seed-dependent claim and is reported as such.
The exit status is 0 only when every notebook that has one ran without an error.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TAG = "parameters"
SEEDS_LINE = re.compile(r"^SEEDS\s*=", re.MULTILINE)
ANSI_COLOUR = re.compile(r"\x1b\[[0-9;]*m")


def parse_seeds(text: str) -> range:
    """``"0-9"`` -> ``range(0, 10)``; ``"3"`` -> ``range(3, 4)``."""
    match = re.fullmatch(r"\s*(\d+)\s*(?:-\s*(\d+))?\s*", text)
    if not match:
        raise argparse.ArgumentTypeError(f"seeds must look like 0-9 or 3, got {text!r}")
    first = int(match.group(1))
    last = int(match.group(2)) if match.group(2) is not None else first
    if last < first:
        raise argparse.ArgumentTypeError(f"the range {text!r} is empty")
    return range(first, last + 1)


def seeds_cell(nb) -> int | None:
    """Index of the cell tagged ``parameters`` that sets SEEDS, or None; at most one."""
    found = [
        i
        for i, cell in enumerate(nb.cells)
        if cell.cell_type == "code" and TAG in cell.get("metadata", {}).get("tags", [])
    ]
    if len(found) > 1:
        raise ValueError(f"{len(found)} cells are tagged {TAG!r}; a notebook has one")
    if found and not SEEDS_LINE.search(nb.cells[found[0]].source):
        raise ValueError(f"the cell tagged {TAG!r} does not set SEEDS")
    return found[0] if found else None


def with_seeds(nb, seeds: range):
    """A copy of ``nb`` whose parameters cell sets SEEDS to ``seeds`` (None if it has none)."""
    import copy

    index = seeds_cell(nb)
    if index is None:
        return None
    nb = copy.deepcopy(nb)
    nb.cells[
        index
    ].source = f"SEEDS = range({seeds.start}, {seeds.stop})  # put here by scripts/check_claims.py"
    return nb


def run(path: Path, seeds: range, *, timeout: int, kernel_name: str) -> str:
    """Execute one notebook with ``seeds``; return "ok", "no seeds" or "FAIL ..."."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError

    nb = with_seeds(nbformat.read(path, as_version=4), seeds)
    if nb is None:
        return "no seeds"
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name=kernel_name,
        allow_errors=False,
        resources={"metadata": {"path": str(path.parent.resolve())}},
    )
    try:
        client.execute()
    except (CellExecutionError, CellTimeoutError) as exc:
        lines = ANSI_COLOUR.sub("", str(exc)).strip().splitlines()
        return "FAIL\n      " + "\n      ".join(lines[-8:])
    return "ok"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: notebooks/*.ipynb")
    parser.add_argument("--seeds", type=parse_seeds, default=range(10), help="default 0-9")
    parser.add_argument("--timeout", type=int, default=1200, help="seconds per cell (1200)")
    parser.add_argument("--kernel", default="python3", help="kernel name (python3)")
    args = parser.parse_args(argv)
    paths = args.notebooks or sorted((ROOT / "notebooks").glob("*.ipynb"))

    seeds = f"{args.seeds.start}-{args.seeds.stop - 1}"
    failed = 0
    for path in paths:
        start = time.perf_counter()
        try:
            verdict = run(path, args.seeds, timeout=args.timeout, kernel_name=args.kernel)
        except ValueError as err:
            verdict = f"FAIL\n      {err}"
        seconds = time.perf_counter() - start
        if verdict == "no seeds":
            print(f"--    {path.name}: no '{TAG}' cell with SEEDS: no seed-dependent claim")
            continue
        failed += verdict != "ok"
        head, _, rest = verdict.partition("\n")
        print(f"{head:5s} {path.name}: seeds {seeds}, {seconds:.0f} s{rest and chr(10) + rest}")
    print(
        f"claims over seeds {seeds}: {'all hold' if not failed else f'{failed} notebook(s) fail'}"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
