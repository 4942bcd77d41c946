"""Benchmark: the first picture of a fresh kernel, today's code against this checkout.

Issue 23 item 4 asks that ``import course_lib``, the bundled table and the first plot take at
most 1.2 s in a fresh process. The paths measured, each in a fresh Python process with
``MPLBACKEND=Agg`` (the backend behind Jupyter's inline display):

``plot`` (notebook 02's first heatmap)::

    import course_lib
    from course_lib import embed_sentence, plot_attention, scaled_dot_product_attention
    emb = embed_sentence("I drink coke, but eat steak")          # the bundled table
    _, weights = scaled_dot_product_attention(emb.vectors, emb.vectors, emb.vectors)
    ax = plot_attention(weights, emb.words)
    ax.figure.savefig(io.BytesIO(), format="png")               # what the inline backend sends

``explorer`` (notebook 02's first explorer, as Jupyter displays it)::

    import course_lib
    explorer = course_lib.attention_explorer("I drink coke, but eat steak")
    explorer._repr_mimebundle_()          # the live view's first picture and its static PNG

``floor``: ``import numpy, matplotlib.pyplot`` and an empty figure saved as PNG (what any
first plot costs, whatever course_lib does).

Each is timed inside the process with ``time.perf_counter`` from the first line (before
``import course_lib``, so numpy's and matplotlib's imports count) to the last; the whole
process's wall time (interpreter start included) is reported too. "today" is another checkout
(``--base``, e.g. ``git worktree add /tmp/base HEAD`` before the change), run with
``PYTHONPATH`` set to it; "now" is this checkout. The two run alternately (A B A B ...),
``--repeats`` times each after one warm-up each; the table gives medians, the ratio of the
medians and the median of the pairwise ratios, and which heavy modules each path imported.

Usage: ``python benchmarks/bench_import.py --base /tmp/base [--repeats 7]``.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SENTENCE = "I drink coke, but eat steak"
HEAVY = ("gensim", "seaborn", "scipy", "pandas", "ipywidgets", "nltk", "torch")

PATHS = {
    "plot": f"""
        import course_lib
        from course_lib import embed_sentence, plot_attention, scaled_dot_product_attention
        emb = embed_sentence({SENTENCE!r})
        _, weights = scaled_dot_product_attention(emb.vectors, emb.vectors, emb.vectors)
        ax = plot_attention(weights, emb.words)
        ax.figure.savefig(io.BytesIO(), format="png")
    """,
    "explorer": f"""
        import course_lib
        explorer = course_lib.attention_explorer({SENTENCE!r})
        bundle = explorer._repr_mimebundle_()
        assert "image/png" in bundle
    """,
    "floor": """
        import numpy
        import matplotlib.pyplot as plt
        fig, ax = plt.subplots()
        fig.savefig(io.BytesIO(), format="png")
    """,
}

CHILD = """
import time
_start = time.perf_counter()
import io, json, sys
{body}
_seconds = time.perf_counter() - _start
_lib = sys.modules.get("course_lib")
print(json.dumps({{
    "seconds": _seconds,
    "heavy": [m for m in {heavy!r} if m in sys.modules],
    "course_lib": getattr(_lib, "__file__", None),
}}))
"""


def run_once(tree, path):
    """Time one fresh process on ``path`` with ``tree``'s course_lib; return its figures."""
    code = CHILD.format(body=textwrap.dedent(PATHS[path]), heavy=HEAVY)
    env = dict(os.environ, MPLBACKEND="Agg", PYTHONPATH=str(tree))
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    wall = time.perf_counter() - start
    if result.returncode != 0:
        raise RuntimeError(f"{path} in {tree} failed:\n{result.stderr[-2000:]}")
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    expected = Path(tree, "course_lib", "__init__.py")
    if figures["course_lib"] and Path(figures["course_lib"]) != expected:
        raise RuntimeError(f"imported {figures['course_lib']}, not {expected}")
    figures["wall"] = wall
    return figures


def measure(base, path, repeats):
    """Run today's and this checkout's ``path`` alternately; return both lists of figures."""
    trees = {"today": base, "now": ROOT}
    for tree in trees.values():  # warm-up: the disk cache, matplotlib's font cache
        run_once(tree, path)
    runs = {name: [] for name in trees}
    for _ in range(repeats):
        for name, tree in trees.items():
            runs[name].append(run_once(tree, path))
    return runs


def report(path, runs):
    today = [r["seconds"] for r in runs["today"]]
    now = [r["seconds"] for r in runs["now"]]
    pairwise = [t / n for t, n in zip(today, now, strict=True)]
    rows = []
    for name in ("today", "now"):
        seconds = [r["seconds"] for r in runs[name]]
        walls = [r["wall"] for r in runs[name]]
        heavy = sorted({m for r in runs[name] for m in r["heavy"]})
        rows.append(
            f"  {path:<9} {name:<6} median {statistics.median(seconds):6.3f} s "
            f"(min {min(seconds):.3f}, max {max(seconds):.3f}); whole process "
            f"{statistics.median(walls):.3f} s; heavy modules: {', '.join(heavy) or 'none'}"
        )
    rows.append(
        f"  {path:<9} today/now: ratio of medians "
        f"{statistics.median(today) / statistics.median(now):.2f}, median of pairwise "
        f"ratios {statistics.median(pairwise):.2f}"
    )
    return "\n".join(rows)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", type=Path, required=True, help="a checkout of today's code")
    parser.add_argument("--repeats", type=int, default=7, help="fresh processes per side (>= 5)")
    parser.add_argument("--paths", nargs="+", default=list(PATHS), choices=list(PATHS))
    args = parser.parse_args()
    args.base = args.base.resolve()  # the child reports an absolute path; compare like with like
    if args.repeats < 5:
        parser.error("--repeats must be at least 5 (medians of five fresh processes or more)")
    if not (args.base / "course_lib" / "__init__.py").is_file():
        parser.error(f"{args.base} holds no course_lib/: give a checkout of the project")
    print(f"today = {args.base}, now = {ROOT}; {args.repeats} fresh processes each, alternating")
    for path in args.paths:
        print(report(path, measure(args.base, path, args.repeats)), flush=True)
    print("target (issue 23 item 4): 'plot' and 'explorer' now at most 1.2 s (median)")


if __name__ == "__main__":
    main()
