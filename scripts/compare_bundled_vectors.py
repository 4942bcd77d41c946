"""Compare a rebuilt table of bundled vectors with the shipped one, number by number.

``scripts/build_bundled_vectors.py`` runs the same recipe on every machine, but torch's
floating-point sums (matrix products, layer norms, the mean pooling) are evaluated in an
order that depends on the processor's vector instructions, so a rebuild on another processor
gives 384-d float32 vectors that differ from the original ones in their last bits. After PCA
and the conversion to float16, most entries come out identical and some land one float16
step away: the rebuilt ``.npz`` then has other bytes and another sha256, although it is the
same table. A byte-for-byte check can only pass on the machine that built the file.

So a rebuild is judged by its numbers. It matches the shipped table when

- the words are the same, in the same order;
- the vectors have the same shape and dtype (float16);
- every entry is within ``MAX_STEPS`` = 2 float16 steps of the shipped entry, a step being
  the float16 spacing at the larger of the two magnitudes, but never below ``STEP_FLOOR`` =
  1/16 (so the step is 0.00195 for values in [2, 4), 0.000488 in [0.5, 1) and 0.000061 for
  every value below 1/16). The floor is needed because the disagreement before rounding is
  absolute, not relative: torch computes in float32, and after PCA the rebuilt values differ
  from the original ones by up to ~3e-5 whatever their size (measured), which is one step for
  an entry of 0.03 but 258 steps of its own float16 spacing for an entry of 0.00003. With
  the floor, every entry of the measured rebuild is within one step; two leave a margin, and
  a real change of the recipe moves entries by far more;
- every word's vector has cosine >= ``MIN_COSINE`` = 0.9999 with its shipped vector (one
  changed vector, a swapped row or a flipped PCA component fails this at once);
- the explained-variance figure in the JSON metadata is within ``EXPLAINED_ATOL`` = 1e-5 of
  the shipped one (it is recorded to 6 decimals), and the descriptive metadata (size of the
  table, model, its checksums, the recipe) is the same.

The sha256 in ``bundled_vectors.json`` keeps its own job: it says that the file in the
package is the file its metadata describes (a cheap test, no rebuild).

This module needs numpy only (no torch), so the comparison itself is unit-tested without the
build dependencies.

Usage::

    python scripts/compare_bundled_vectors.py REBUILT_DIR [SHIPPED_DIR]
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

MAX_STEPS = 2
STEP_FLOOR = 2.0**-4  # smallest magnitude at which a float16 step is taken
MIN_COSINE = 0.9999
EXPLAINED_ATOL = 1e-5
NPZ_NAME = "bundled_vectors.npz"
JSON_NAME = "bundled_vectors.json"
SHIPPED_DIR = Path(__file__).resolve().parents[1] / "course_lib" / "data"
# Metadata that describes what was built, not numbers computed by it: must be equal.
SAME_METADATA = ("file", "n_words", "dim", "dtype", "model", "model_package", "model_sha256")


@dataclass
class Comparison:
    """What compare_tables found: the problems (empty when the tables match) and figures."""

    problems: list[str] = field(default_factory=list)
    max_abs_diff: float = float("nan")  # largest |rebuilt - shipped| over all entries
    max_steps: float = float("nan")  # the same, in float16 steps at the entry's magnitude
    n_differing: int = 0  # entries that are not bit-identical
    min_cosine: float = float("nan")  # smallest cosine between a rebuilt and a shipped vector

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        verdict = "match" if self.ok else "DO NOT match"
        lines = [
            f"tables {verdict}: {self.n_differing} entries differ, largest difference "
            f"{self.max_abs_diff:.6g} ({self.max_steps:g} float16 steps, limit {MAX_STEPS}), "
            f"smallest cosine {self.min_cosine:.8f} (limit {MIN_COSINE})"
        ]
        return "\n".join(lines + [f"  - {p}" for p in self.problems])


def float16_steps(rebuilt: np.ndarray, shipped: np.ndarray) -> np.ndarray:
    """|rebuilt - shipped| in float16 steps at the larger magnitude (at least STEP_FLOOR).

    Parameters
    ----------
    rebuilt, shipped : ndarray of the same shape, float16

    Returns
    -------
    ndarray of that shape, float64

    Examples
    --------
    >>> a = np.array([1.0, 3.0, 0.0625, 0.0], dtype=np.float16)
    >>> b = np.nextafter(a, np.float16(np.inf))
    >>> float16_steps(a, b).tolist()  # the last: 6e-8 is a tiny part of the step at 1/16
    [1.0, 1.0, 1.0, 0.0009765625]
    """
    larger = np.maximum(np.abs(rebuilt), np.abs(shipped))
    larger = np.maximum(larger.astype(np.float64), STEP_FLOOR).astype(np.float16)
    step = np.spacing(larger).astype(np.float64)  # float16 spacing just above |value|
    diff = np.abs(rebuilt.astype(np.float64) - shipped.astype(np.float64))
    return diff / step


def _describe_words(rebuilt: np.ndarray, shipped: np.ndarray) -> str | None:
    """None when the word lists are equal, else a message naming the first differences."""
    rebuilt, shipped = [str(w) for w in rebuilt], [str(w) for w in shipped]
    if rebuilt == shipped:
        return None
    if len(rebuilt) != len(shipped):
        gained = sorted(set(rebuilt) - set(shipped))[:5]
        lost = sorted(set(shipped) - set(rebuilt))[:5]
        return (
            f"words: {len(rebuilt)} rebuilt vs {len(shipped)} shipped "
            f"(only rebuilt: {gained}, only shipped: {lost})"
        )
    positions = [i for i, (a, b) in enumerate(zip(rebuilt, shipped, strict=True)) if a != b]
    shown = ", ".join(f"#{i} {rebuilt[i]!r} vs {shipped[i]!r}" for i in positions[:3])
    kind = "the same words in another order" if set(rebuilt) == set(shipped) else "other words"
    return f"words differ at {len(positions)} positions ({kind}): {shown}"


def compare_tables(rebuilt_words, rebuilt_vectors, shipped_words, shipped_vectors) -> Comparison:
    """Compare two tables (words and float16 vectors) with the tolerances of this module.

    Parameters
    ----------
    rebuilt_words, shipped_words : sequence of str, length n_words
    rebuilt_vectors, shipped_vectors : ndarray of shape (n_words, dim), float16

    Returns
    -------
    Comparison
        ``.ok`` is True when everything matches; ``.problems`` lists each failure in words.

    Examples
    --------
    >>> words = np.array(["cat", "dog"])
    >>> vectors = np.array([[1.0, 0.5], [0.25, -2.0]], dtype=np.float16)
    >>> compare_tables(words, vectors, words, vectors).ok
    True
    >>> print(compare_tables(words[::-1], vectors, words, vectors).problems[0][:48])
    words differ at 2 positions (the same words in a
    """
    result = Comparison()
    words_problem = _describe_words(np.asarray(rebuilt_words), np.asarray(shipped_words))
    if words_problem:
        result.problems.append(words_problem)
    rebuilt, shipped = np.asarray(rebuilt_vectors), np.asarray(shipped_vectors)
    if rebuilt.dtype != shipped.dtype:
        result.problems.append(f"dtype: rebuilt {rebuilt.dtype}, shipped {shipped.dtype}")
    if rebuilt.shape != shipped.shape:
        result.problems.append(f"shape: rebuilt {rebuilt.shape}, shipped {shipped.shape}")
        return result  # entries cannot be paired up
    if not np.all(np.isfinite(rebuilt)):
        result.problems.append(f"{int(np.sum(~np.isfinite(rebuilt)))} non-finite entries")
        return result

    names = [str(w) for w in shipped_words]
    steps = float16_steps(rebuilt.astype(np.float16), shipped.astype(np.float16))
    diff = np.abs(rebuilt.astype(np.float64) - shipped.astype(np.float64))
    result.max_abs_diff = float(diff.max()) if diff.size else 0.0
    result.max_steps = float(steps.max()) if steps.size else 0.0
    result.n_differing = int(np.count_nonzero(diff))
    too_far = np.argwhere(steps > MAX_STEPS)
    if len(too_far):
        row, col = too_far[np.argmax(steps[tuple(too_far.T)])]
        result.problems.append(
            f"{len(too_far)} entries differ by more than {MAX_STEPS} float16 steps; the worst: "
            f"{names[row]!r} (row {row}) dimension {col}: rebuilt {float(rebuilt[row, col])!r}, "
            f"shipped {float(shipped[row, col])!r} ({steps[row, col]:.0f} steps)"
        )

    a, b = rebuilt.astype(np.float64), shipped.astype(np.float64)
    norms = np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1)  # (n_words,)
    dots = np.einsum("ij,ij->i", a, b)  # (n_words,)
    cosines = np.where(norms > 0, dots / np.where(norms > 0, norms, 1.0), 0.0)
    cosines[np.all(a == b, axis=1)] = 1.0  # identical rows (zero vectors included)
    result.min_cosine = float(cosines.min()) if cosines.size else 1.0
    low = np.flatnonzero(cosines < MIN_COSINE)
    if len(low):
        shown = ", ".join(f"{names[i]!r} (row {i}) {cosines[i]:.6f}" for i in low[:3])
        result.problems.append(
            f"{len(low)} vectors have cosine < {MIN_COSINE} with the shipped ones: {shown}"
        )
    return result


def compare_metadata(rebuilt: dict, shipped: dict) -> list[str]:
    """Problems between two bundled_vectors.json dicts (empty list when they agree)."""
    problems = []
    for key in SAME_METADATA:
        if rebuilt.get(key) != shipped.get(key):
            problems.append(
                f"metadata {key}: rebuilt {rebuilt.get(key)!r}, shipped {shipped.get(key)!r}"
            )
    key = "explained_variance_ratio_64"
    got, want = rebuilt.get(key), shipped.get(key)
    if not isinstance(got, (int, float)) or not isinstance(want, (int, float)):
        problems.append(f"metadata {key}: rebuilt {got!r}, shipped {want!r} (not numbers)")
    elif abs(got - want) > EXPLAINED_ATOL:
        problems.append(
            f"metadata {key}: rebuilt {got}, shipped {want} "
            f"(differ by {abs(got - want):.2g} > {EXPLAINED_ATOL})"
        )
    return problems


def load_table(folder: Path) -> tuple[np.ndarray, np.ndarray, dict]:
    """(words, vectors, metadata) from a folder holding bundled_vectors.npz and .json."""
    folder = Path(folder)
    with np.load(folder / NPZ_NAME, allow_pickle=False) as data:
        words, vectors = data["words"], data["vectors"]
    meta = json.loads((folder / JSON_NAME).read_text(encoding="utf-8"))
    return words, vectors, meta


def compare_folders(rebuilt_dir: Path, shipped_dir: Path = SHIPPED_DIR) -> Comparison:
    """Compare the table and metadata in rebuilt_dir with those in shipped_dir."""
    r_words, r_vectors, r_meta = load_table(rebuilt_dir)
    s_words, s_vectors, s_meta = load_table(shipped_dir)
    result = compare_tables(r_words, r_vectors, s_words, s_vectors)
    result.problems.extend(compare_metadata(r_meta, s_meta))
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rebuilt", type=Path, help="folder with the rebuilt .npz and .json")
    parser.add_argument("shipped", type=Path, nargs="?", default=SHIPPED_DIR)
    args = parser.parse_args(argv)
    result = compare_folders(args.rebuilt, args.shipped)
    print(result.summary())
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
