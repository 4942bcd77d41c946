"""How long a student waits for the JupyterLite site, and how many bytes it sends.

Builds the site (scripts/build_lite.py --reuse), serves it with the site's own server
(scripts/serve_lite.py: precompressed files, cache headers) on a free loopback port, and for
each run, in Debian's Chromium with a fresh profile:

1. **cold, notebook 02**: open it, wait for the kernel, Run All. Times (from the navigation
   start): the kernel starting (the browser asks for pyodide.js), the kernel idle, the
   explorer's first picture (seen by a MutationObserver the moment it enters the page, not
   the end of Run All), and Run All finished. Bytes: every response body the server sent.
2. **second visit, notebook 02**: the browser is closed and started again on the same profile
   (its disk cache, and the kernel's code cache in IndexedDB, which the first visit is given
   the seconds it needs to save), and the same is timed; the server counts what it sent again
   (a 304 has no body).
3. **cold, notebook 01** (another fresh profile): the bytes of a first visit that runs it all.
4. **cold, notebook 06** (another fresh profile): Run All, which downloads the trained model
   (only this notebook does); its time and bytes.

Prints one table (medians over the runs, and each run, with what the kernel's code cache
did: modules loaded, run from it, compiled) and writes it to _lite/bench-lite.json, with the
machine's load average before and after. Wall-clock numbers on a shared machine include
waiting for a core.

``--baseline DIR``: another built site (today's path, say: the site of an earlier commit,
built with ``make lite`` in a ``git worktree``), served beside this one. Each run then also
times its cold and second visits to notebook 02, in the same run and in turn (which site goes
first alternates), and the table adds its medians and the paired ratios (this site's time over
the baseline's, run by run: the median of those), which a machine whose speed drifts between
runs does not move as much as it moves the times.

Run: ``python benchmarks/bench_lite.py [--runs 3] [--site DIR] [--baseline DIR]`` (about a
minute a run, two with a baseline).
"""

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "e2e"))

import litesite  # noqa: E402

NOTEBOOK_02 = "02_dot_product_attention.ipynb"
NOTEBOOK_01 = "01_words_as_vectors.ipynb"
NOTEBOOK_06 = "06_inside_a_trained_transformer.ipynb"
CACHE_FIELDS = ("loaded", "hits", "compiled", "error", "boot_pyc")


def visit(playwright, base, traffic, profile, notebook, want_picture):
    """One visit: a Chromium on ``profile`` opens ``notebook`` and runs it all."""
    context = litesite.launch(playwright, profile)
    try:
        page = context.new_page()
        outside = []
        local = (base, "blob:" + base)  # blob: the kept standard library, made in the page
        page.on("request", lambda r: None if r.url.startswith(local) else outside.append(r.url))
        mark = traffic.mark()
        started = time.monotonic()
        try:
            result = litesite.open_notebook(page, base, notebook, want_picture=want_picture)
        except AssertionError as error:  # a cell failed: report it, go on with the others
            return {"failed": str(error)[:300], "mb_sent": traffic.since(mark)["mb"]}
        # The kernel's code cache: wait until what this visit compiled is saved (two seconds
        # or so after the imports settle), as it would be long before a student comes back.
        cache = litesite.cache_status(page, saved=True)
        sent = traffic.since(mark)
        # The kernel asks for the site's lock as it starts (a 304 on later visits); with the
        # kernel started with the page, that is before JupyterLab has opened the notebook.
        kernel_start = _first(traffic, mark, "/" + litesite.SITE_LOCK)
        return {
            "kernel_start_s": round(kernel_start - started, 2) if kernel_start else None,
            "kernel_ready_s": round(result.kernel_ready_s, 2),
            "first_picture_s": round(result.first_picture_s, 2) if want_picture else None,
            "run_all_s": round(result.run_all_s, 2),
            "requests": sent["requests"],
            "by_status": sent["by_status"],
            "mb_sent": round(sent["body_bytes"] / 1e6, 2),
            "cache": cache and {k: cache.get(k) for k in CACHE_FIELDS},
            "stderr": litesite.stderr_lines(result.cells)[:3],
            "outside": outside[:5],
        }
    finally:
        context.close()


def _first(traffic, mark, suffix):
    with traffic.lock:
        times = [r[4] for r in traffic.responses[mark:] if r[0].split("?")[0].endswith(suffix)]
    return min(times) if times else None


def _rounded(values):
    return [round(value, 2) for value in values]


def median(runs, key):
    values = [run[key] for run in runs if run.get(key) is not None]
    return round(statistics.median(values), 2) if values else None


def paired_ratio(runs, baseline_runs, key):
    """The median over the runs of this site's ``key`` divided by the baseline's (same run)."""
    pairs = zip(runs, baseline_runs, strict=True)
    ratios = [a[key] / b[key] for a, b in pairs if a.get(key) and b.get(key)]
    return round(statistics.median(ratios), 3) if ratios else None


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--site", type=Path, help="a built site (default: build or reuse)")
    parser.add_argument("--baseline", type=Path, help="another built site to compare with")
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    load_before = _rounded(os.getloadavg())

    with tempfile.TemporaryDirectory() as tmp:
        site = args.site
        if site is None:
            site, line = litesite.build_site(Path(tmp) / "site")
            print(line)
        traffic = litesite.Traffic()
        server, base = litesite.start_server(site, traffic)
        results = {"cold_02": [], "second_02": [], "cold_01": [], "cold_06": []}
        baseline = {"cold_02": [], "second_02": []}
        other = litesite.start_server(args.baseline, traffic) if args.baseline else None
        try:
            with sync_playwright() as playwright:
                for run in range(args.runs):
                    pairs = [(results, base, "site"), (baseline, other and other[1], "base")]
                    if other is None:
                        pairs = pairs[:1]
                    elif run % 2:
                        pairs.reverse()
                    for into, where, name in pairs:
                        profile = Path(tmp) / f"profile-{name}-{run}"
                        into["cold_02"].append(
                            visit(playwright, where, traffic, profile, NOTEBOOK_02, True)
                        )
                        into["second_02"].append(
                            visit(playwright, where, traffic, profile, NOTEBOOK_02, True)
                        )
                    fresh = Path(tmp) / f"profile-01-{run}"
                    results["cold_01"].append(
                        visit(playwright, base, traffic, fresh, NOTEBOOK_01, False)
                    )
                    fresh = Path(tmp) / f"profile-06-{run}"
                    results["cold_06"].append(
                        visit(playwright, base, traffic, fresh, NOTEBOOK_06, False)
                    )
                    print(
                        f"run {run + 1}/{args.runs}: "
                        + json.dumps({k: v[-1] for k, v in results.items()})
                    )
        finally:
            litesite.stop_server(server)
            if other is not None:
                litesite.stop_server(other[0])
    load_after = os.getloadavg()
    keys = ["kernel_start_s", "kernel_ready_s", "first_picture_s", "run_all_s", "mb_sent"]
    print(f"\nJupyterLite site on loopback, Chromium, medians of {args.runs} runs")
    print(f"load average (1, 5, 15 min) before {load_before}, after {_rounded(load_after)}")
    print(f"{'visit':<12}" + "".join(f"{k:>17}" for k in keys))
    for name, runs in results.items():
        print(f"{name:<12}" + "".join(f"{str(median(runs, k)):>17}" for k in keys))
        for run in runs:
            if "failed" in run:
                print(f"  {name} failed: {run['failed']}")
            else:
                print(f"  {name}: code cache {run['cache']}")
    if other is not None:
        ratios = {}
        print(f"baseline {args.baseline}:")
        for name, runs in baseline.items():
            print(f"{name:<12}" + "".join(f"{str(median(runs, k)):>17}" for k in keys))
            ratios[name] = {key: paired_ratio(results[name], runs, key) for key in keys[1:4]}
            print(f"  this site / baseline, median of the runs' ratios: {ratios[name]}")
        results["baseline"] = {"site": str(args.baseline), **baseline, "ratios": ratios}
    out = ROOT / "_lite" / "bench-lite.json"
    out.parent.mkdir(exist_ok=True)
    results["load_average"] = {"before": load_before, "after": _rounded(load_after)}
    out.write_text(json.dumps(results, indent=1) + "\n")
    print(f"(each run: {out.relative_to(ROOT)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
