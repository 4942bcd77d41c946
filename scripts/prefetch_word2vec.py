"""Pre-fetch nltk's word2vec_sample and build course_lib's fast cache of it, in one step.

Binder's ``postBuild`` runs this at image build time so that a session has both embedding
sources ready with no wait; an instructor can run it on a machine with network before a
lecture in a room without one (then copy the nltk_data folder, see docs/INSTRUCTORS.md).

1. ``nltk.download("word2vec_sample")`` into ``--nltk-data`` (skipped if nltk already finds
   it there or anywhere else on its path);
2. ``course_lib.load_embeddings("word2vec_sample", download=True)``, which parses the text
   once and writes the fast cache (under ``--cache`` if given, else where course_lib puts it);
3. prints the vocabulary size and the peak memory of this process, and fails if the peak is
   above ``--max-memory-mb`` (Binder gives a session 2 GB).

Usage::

    python scripts/prefetch_word2vec.py --nltk-data "$CONDA_PREFIX/share/nltk_data" \\
        [--cache DIR] [--max-memory-mb 1500]
"""

from __future__ import annotations

import argparse
import gc
import os
import resource
import sys
from pathlib import Path

MODEL = "word2vec_sample"
MODEL_FILE = "models/word2vec_sample/pruned.word2vec.txt"


def peak_memory_mb() -> float:
    """Peak resident memory of this process so far, in MB (Linux reports KiB)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1024 if sys.platform != "darwin" else peak / 2**20


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--nltk-data",
        type=Path,
        default=Path(sys.prefix) / "share" / "nltk_data",
        help="folder to download into; nltk searches <sys.prefix>/share/nltk_data by itself "
        "(default), any other folder must be in NLTK_DATA when the course runs",
    )
    parser.add_argument("--cache", type=Path, help="the fast cache's folder (COURSE_LIB_CACHE)")
    parser.add_argument("--max-memory-mb", type=float, default=1500.0)
    args = parser.parse_args(argv)

    nltk_data = args.nltk_data.resolve()
    nltk_data.mkdir(parents=True, exist_ok=True)
    # Before nltk is imported (it reads NLTK_DATA once), and for course_lib's own lookups.
    os.environ["NLTK_DATA"] = os.pathsep.join(
        [str(nltk_data)] + [p for p in os.environ.get("NLTK_DATA", "").split(os.pathsep) if p]
    )
    if args.cache:
        args.cache.mkdir(parents=True, exist_ok=True)
        os.environ["COURSE_LIB_CACHE"] = str(args.cache.resolve())

    import nltk

    if str(nltk_data) not in nltk.data.path:
        nltk.data.path.insert(0, str(nltk_data))
    try:
        found = nltk.data.find(MODEL_FILE)
        print(f"prefetch: {MODEL} already present: {found}")
    except LookupError:
        print(f"prefetch: downloading {MODEL} into {nltk_data} ...", flush=True)
        try:
            ok = nltk.download(MODEL, download_dir=str(nltk_data), raise_on_error=True)
        except (OSError, ValueError) as error:
            print(f"prefetch: download of {MODEL} failed: {error}", file=sys.stderr)
            return 1
        if not ok:
            print(f"prefetch: download of {MODEL} failed (nltk returned False)", file=sys.stderr)
            return 1

    from course_lib.embeddings import load_embeddings

    print("prefetch: parsing once and writing course_lib's fast cache ...", flush=True)
    vectors = load_embeddings(MODEL, download=True)
    shape = (len(vectors.index_to_key), vectors.vector_size)
    del vectors  # one copy at a time: nothing else of it is held after this point
    gc.collect()

    peak = peak_memory_mb()
    cache = os.environ.get("COURSE_LIB_CACHE", "course_lib's default cache folder")
    print(f"prefetch: {MODEL} ready: {shape[0]} words x {shape[1]} dims; cache in {cache}")
    print(f"prefetch: peak memory {peak:.0f} MB (limit {args.max_memory_mb:.0f} MB)")
    if peak > args.max_memory_mb:
        print("prefetch: peak memory above the limit (Binder gives 2 GB)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
