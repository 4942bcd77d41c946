"""Benchmark: loading word2vec_sample the classic way vs course_lib's cached loader.

Writes a word2vec-format text file of the real size (43,981 words x 300 dimensions, random
values, 6 decimals like the original) into a temporary folder laid out like nltk_data, then
measures, side by side in one run:

- classic: ``KeyedVectors.load_word2vec_format`` on every call (what old demos did);
- course_lib, first load: parse once and write the fast cache;
- course_lib, cached load in a fresh process (the cost of every later notebook start);
- a warm ``embed_sentence`` (vectors already loaded).

Every load runs in its own fresh Python process (gensim already imported there, so the
import cost, reported separately, is not counted); the table shows medians over the repeats,
ratios to the classic way and the peak resident memory each load added.

Usage: ``python benchmarks/bench_embeddings.py [--repeats 3]`` (``make bench``).
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import numpy as np

N_WORDS, DIM = 43_981, 300
SENTENCE = "I drink coke, but eat steak"

CHILD = """
import json, resource, sys, time
t0 = time.perf_counter()
import gensim.models
from course_lib import embeddings
import_s = time.perf_counter() - t0
KB = 1 / 1024 if sys.platform == "darwin" else 1  # ru_maxrss is bytes on macOS


def rss_now_kb():
    try:  # Linux: current resident set size
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * resource.getpagesize() / 1024
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * KB


rss0 = rss_now_kb()
mode = sys.argv[1]
t0 = time.perf_counter()
if mode == "classic":
    kv = gensim.models.KeyedVectors.load_word2vec_format(sys.argv[2], binary=False)
else:
    kv = embeddings.load_embeddings("word2vec_sample")
load_s = time.perf_counter() - t0
rss1 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * KB  # peak so far
result = {"load_s": load_s, "import_s": import_s, "rss_mb": (rss1 - rss0) / 1024,
          "shape": list(kv.vectors.shape), "memmap": type(kv.vectors).__name__ == "memmap"}
if mode == "embed":
    import timeit
    embeddings.embed_sentence(sys.argv[3], kv)
    for name, table in (("w2v", kv), ("bundled", embeddings.load_embeddings("bundled"))):
        timer = timeit.Timer(lambda t=table: embeddings.embed_sentence(sys.argv[3], t))
        number = 1000
        runs = timer.repeat(repeat=7, number=number)
        result["embed_" + name + "_ms"] = sorted(runs)[3] / number * 1e3
print("RESULT " + json.dumps(result))
"""


def write_word2vec_text(path, n_words=N_WORDS, dim=DIM, seed=0):
    """A random word2vec text file with real words first (so sentences can be looked up)."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from course_lib.embeddings import load_embeddings

    words = ["I", "Coke"] + list(load_embeddings("bundled").index_to_key)
    words += [f"w{i}" for i in range(n_words - len(words))]
    rng = np.random.default_rng(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(f"{n_words} {dim}\n")
        for start in range(0, n_words, 4096):
            block = rng.standard_normal((min(4096, n_words - start), dim)).astype(np.float32)
            for word, row in zip(words[start : start + len(block)], block, strict=True):
                f.write(word + " " + " ".join(f"{v:.6f}" for v in row) + "\n")


def run_child(mode, env, *args):
    out = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(CHILD), mode, *args],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    ).stdout
    line = next(x for x in out.splitlines() if x.startswith("RESULT "))
    return json.loads(line[len("RESULT ") :])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="repeats of the slow loads")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="bench_embeddings_") as tmp:
        tmp = Path(tmp)
        text = tmp / "nltk_data" / "models" / "word2vec_sample" / "pruned.word2vec.txt"
        t0 = time.perf_counter()
        write_word2vec_text(text)
        size_mb = text.stat().st_size / 1e6
        print(
            f"Generated {text.name}: {N_WORDS} x {DIM}, {size_mb:.0f} MB "
            f"in {time.perf_counter() - t0:.0f} s",
            flush=True,
        )

        def env_with(cache):
            return dict(
                os.environ,
                NLTK_DATA=str(tmp / "nltk_data"),
                COURSE_LIB_CACHE=str(cache),
                OMP_NUM_THREADS="1",
            )

        results = {"classic": [], "first": [], "cached": []}
        for i in range(args.repeats):
            print(f"repeat {i + 1}/{args.repeats}: classic ...", flush=True)
            results["classic"].append(run_child("classic", env_with(tmp / "unused"), str(text)))
            print(f"repeat {i + 1}/{args.repeats}: course_lib first load ...", flush=True)
            results["first"].append(run_child("first", env_with(tmp / f"cache{i}")))
        cache = tmp / "cache0"
        for _ in range(max(5, args.repeats)):
            results["cached"].append(run_child("cached", env_with(cache)))
        embed = run_child("embed", env_with(cache), "-", SENTENCE)

    if not all(r["memmap"] for r in results["cached"]):
        raise SystemExit("cached loads did not come from the memory-mapped cache")
    med = {k: statistics.median(r["load_s"] for r in v) for k, v in results.items()}
    rss = {k: max(r["rss_mb"] for r in v) for k, v in results.items()}
    rows = [
        ("classic: parse text every call", med["classic"], rss["classic"]),
        ("course_lib: first load (parse + cache)", med["first"], rss["first"]),
        ("course_lib: cached load, fresh process", med["cached"], rss["cached"]),
    ]
    print()
    print(
        f"word2vec_sample-sized file: {N_WORDS} x {DIM} ({size_mb:.0f} MB text); "
        f"medians of {args.repeats} (cached: {len(results['cached'])}) fresh processes"
    )
    print(f"{'':42} {'median':>10} {'vs classic':>11} {'peak RSS added':>15}")
    for name, seconds, mb in rows:
        print(
            f"{name:42} {seconds * 1e3:>8.1f} ms {med['classic'] / seconds:>10.1f}x {mb:>12.0f} MB"
        )
    print(f"{'warm embed_sentence, word2vec_sample':42} {embed['embed_w2v_ms']:>8.3f} ms")
    print(f"{'warm embed_sentence, bundled':42} {embed['embed_bundled_ms']:>8.3f} ms")
    import_s = statistics.median(r["import_s"] for r in results["cached"])
    print(f"(import gensim + course_lib, not counted above: {import_s * 1e3:.0f} ms)")
    speedup = med["classic"] / med["cached"]
    print()
    print(
        f"Goal cached load >= 50x faster than parsing: {speedup:.0f}x -> "
        f"{'met' if speedup >= 50 else 'NOT met'}"
    )
    print(
        f"Goal warm embed_sentence < 1 ms: {embed['embed_w2v_ms']:.3f} ms -> "
        f"{'met' if embed['embed_w2v_ms'] < 1 else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
