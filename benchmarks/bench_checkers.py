"""Time every checker call, old (a git ref) against new (the work tree), in one run.

Usage: .venv/bin/python benchmarks/bench_checkers.py [--old REF] [--rounds 5] [--reps 3]

The old package is exported from git (``git archive REF course_lib``) into a temporary
folder. Worker processes, old and new alternating, run each notebook's checker calls with
the solution's answer ``reps`` times each; the table gives the median seconds per call, old
and new side by side, and per notebook the sum over the calls of its "Run all" (a call the
old package did not have is left out of the old sum and marked "-"). Caches of computed
truths are cleared before each call, so each figure is what one "Run all" pays.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# (notebook, checker, what is passed); functions are the solutions written below.
CALLS = [
    ("01", "check_prediction", ("dont_panic_rows", 8)),
    ("01", "check_prediction", ("mislabelled_eat", "steak")),
    ("01", "check_prediction", ("drink_is_its_own_top_dot", False)),
    ("01", "check_cosine_similarity", "cosine_similarity"),
    ("01", "check_cosine_matrix", "cosine_matrix"),
    ("01", "check_prediction", ("coke_most_similar", "drink")),
    ("02", "check_prediction", ("scaling_changes_argmax", False)),
    ("02", "check_softmax", "softmax_rows"),
    ("02", "check_dot_product_attention", "attention"),
    ("02", "check_softmax", "softmax_rows"),
    ("02", "check_masked_attention", "masked_attention"),
    ("03", "check_prediction", ("variance_growth", "linear")),
    ("03", "check_variance_experiment", "score_variance"),
    ("03", "check_softmax_backward", "softmax_backward"),
    ("03", "check_prediction", ("divide_by_dk", "uniform")),
    ("03", "check_prediction", ("self_weight_after_scaling", 0.99)),
    ("04", "check_prediction", ("self_weight_shared_projection", "about the same")),
    ("04", "check_score_gradient", "score_gradient"),
    ("04", "check_prediction", ("unseen_drink_attends_to", "bread")),
    ("04", "check_prediction", ("score_spread_vs_norms", "more")),
    ("05", "check_padding_mask", "padding_mask"),
    ("05", "check_causal_mask", "causal_mask"),
    ("05", "check_prediction", ("inverted_causal_empty_rows", 1)),
    ("05", "check_prediction", ("float16_minus_1e9", "-inf")),
    ("05", "check_prediction", ("multihead_divisor", 8)),
    ("05", "check_multihead_attention", "multihead_attention"),
    ("05", "check_prediction", ("multihead_parameters", 4 * 512**2)),
    ("05", "check_prediction", ("score_memory_doubling", 4)),
]

WORKER = r"""
import contextlib, io, json, sys, time
import numpy as np
import course_lib.exercises as ex
from course_lib import attention

def cosine_similarity(a, b):
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))

def cosine_matrix(v):
    norms = np.linalg.norm(v, axis=-1, keepdims=True)
    return (v @ v.T) / (norms * norms.T)

def softmax_rows(s):
    e = np.exp(s - s.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)

def attention_fn(q, k, v):
    w = attention.softmax(q @ np.swapaxes(k, -1, -2))
    return w @ v, w

def masked_attention(q, k, v, keep):
    w = attention.softmax(np.where(keep, q @ k.T / np.sqrt(q.shape[-1]), -np.inf))
    return w @ v, w

def score_variance_old(d_k, n, rng):
    return float((rng.standard_normal((n, d_k)) * rng.standard_normal((n, d_k))).sum(1).var())

def score_variance_new(d_k, sq, sk, n, rng):
    q, k = rng.normal(0, sq, (n, d_k)), rng.normal(0, sk, (n, d_k))
    return float((q * k).sum(-1).var())

def softmax_backward(w, g):
    return w * (g - (w * g).sum(axis=-1, keepdims=True))

def score_gradient(x, w_q, w_k, g, d):
    q, k = x @ w_q, x @ w_k
    return x.T @ (g @ k / d), x.T @ (g.T @ q / d)

def padding_mask(lengths, n):
    return (np.arange(n) < np.asarray(lengths)[:, None])[:, None, :]

def causal_mask(n):
    return np.tril(np.ones((n, n), dtype=bool))

def multihead_attention(x, w_q, w_k, w_v, h):
    n, d = x.shape
    split = lambda m: m.reshape(n, h, d // h).transpose(1, 0, 2)
    out, _ = attention.scaled_dot_product_attention(split(x @ w_q), split(x @ w_k), split(x @ w_v))
    return out.transpose(1, 0, 2).reshape(n, d)

NEW = hasattr(ex, "check_padding_mask")
FUNCTIONS = dict(cosine_similarity=cosine_similarity, cosine_matrix=cosine_matrix,
    softmax_rows=softmax_rows, attention=attention_fn, masked_attention=masked_attention,
    score_variance=score_variance_new if NEW else score_variance_old,
    softmax_backward=softmax_backward, score_gradient=score_gradient,
    padding_mask=padding_mask, causal_mask=causal_mask, multihead_attention=multihead_attention)

def clear_caches():
    truths = sys.modules.get("course_lib.exercises._truths")
    for name in dir(truths) if truths else ():
        clear = getattr(getattr(truths, name), "cache_clear", None)
        if clear:
            clear()

calls, reps = json.loads(sys.argv[1]), int(sys.argv[2])
times = []
for notebook, checker, arg in calls:
    fn = getattr(ex, checker, None)
    args = tuple(arg) if isinstance(arg, list) else (FUNCTIONS[arg],)
    if fn is None or (checker == "check_prediction" and args[0] not in ex.QUESTIONS):
        times.append(None)
        continue
    runs = []
    for _ in range(reps):
        clear_caches()
        start = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()) as out:
            verdict = fn(*args)
        runs.append(time.perf_counter() - start)
        if verdict is not True:
            raise SystemExit(f"{checker}{args[:1]} gave {out.getvalue()!r}")
    times.append(runs)
print(json.dumps(times))
"""


def export_old(ref: str, folder: Path) -> None:
    """Write ``course_lib`` as it was at ``ref`` into ``folder``."""
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", ref, "course_lib"], check=True, capture_output=True
    ).stdout
    with tarfile.open(fileobj=__import__("io").BytesIO(archive)) as tar:
        tar.extractall(folder, filter="data")


def worker(path: Path, reps: int) -> list:
    env = {**os.environ, "PYTHONPATH": str(path), "MPLBACKEND": "Agg"}
    result = subprocess.run(
        [sys.executable, "-c", WORKER, json.dumps([list(c) for c in CALLS]), str(reps)],
        capture_output=True, text=True, env=env, cwd=path, check=False,
    )  # fmt: skip
    if result.returncode:
        raise SystemExit(f"worker in {path} failed:\n{result.stderr[-3000:]}{result.stdout}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--old", default="HEAD", help="git ref of the old checkers")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--reps", type=int, default=3)
    options = parser.parse_args()
    runs = {"old": [[] for _ in CALLS], "new": [[] for _ in CALLS]}
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        export_old(options.old, Path(tmp))
        for _ in range(options.rounds):
            for label, path in (("old", Path(tmp)), ("new", ROOT)):
                for i, times in enumerate(worker(path, options.reps)):
                    if times is not None:
                        runs[label][i] += times
    median = {k: [statistics.median(t) if t else None for t in v] for k, v in runs.items()}
    print(f"{'nb':3} {'call':58} {'old s':>8} {'new s':>8}")
    for (notebook, checker, arg), old, new in zip(CALLS, median["old"], median["new"], strict=True):
        what = f"{checker}({arg[0] if isinstance(arg, tuple) else arg})"
        shown = [f"{x:8.4f}" if x is not None else f"{'-':>8}" for x in (old, new)]
        print(f"{notebook:3} {what:58} {shown[0]} {shown[1]}")
    print(f"\n{'notebook':9} {'old sum s':>10} {'new sum s':>10} {'new, same calls':>16}")
    for notebook in sorted({c[0] for c in CALLS}):
        rows = [i for i, c in enumerate(CALLS) if c[0] == notebook]
        old = sum(median["old"][i] for i in rows if median["old"][i] is not None)
        new = sum(median["new"][i] for i in rows)
        same = sum(median["new"][i] for i in rows if median["old"][i] is not None)
        print(f"{notebook:9} {old:10.3f} {new:10.3f} {same:16.3f}")
    print(
        f"\nmedians of {options.rounds} rounds x {options.reps} reps per call, old = "
        f"{options.old}, workers alternating; {time.perf_counter() - start:.0f} s in all"
    )


if __name__ == "__main__":
    main()
