"""What crosses from the child back to the kernel: plain data, never a pickle.

:func:`describe` turns a returned value into JSON-ready data, with each numpy array written
by ``np.save(..., allow_pickle=False)`` into a list of blobs; :func:`rebuild` turns that
back into arrays, numbers, strings, tuples, lists, None, or :class:`Unusual` (a named type
that was not converted). :func:`pack` and :func:`unpack` frame the data for the pipe.
"""

from __future__ import annotations

import io
import json
import struct
from dataclasses import dataclass

import numpy as np

_MAX_ITEMS = 100_000  # list or tuple entries described one by one; longer ones are named
_MAX_DEPTH = 8
#: Bytes of arrays sent back at most (a right answer is a few kB): a larger one is named,
#: not sent, so that a huge result neither fills the kernel's memory nor eats the time limit.
MAX_ARRAY_BYTES = 64 * 2**20


@dataclass
class Unusual:
    """A returned object that is not an array, number, string, tuple, list or None."""

    type_name: str
    text: str = ""


def _array_blob(array: np.ndarray, blobs: list[bytes]) -> int:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    blobs.append(buffer.getvalue())
    return len(blobs) - 1


def _type_name(value) -> str:
    return type(value).__name__


def describe(value, blobs: list[bytes], depth: int = 0) -> dict:
    """Describe ``value`` as JSON-ready data, arrays as indices into ``blobs``."""
    if value is None:
        return {"t": "none"}
    if isinstance(value, bool | np.bool_):
        return {"t": "bool", "v": bool(value)}
    if isinstance(value, np.ndarray | np.generic) or hasattr(type(value), "__array__"):
        array = np.asarray(value)
        if array.dtype.hasobject:
            return {"t": "unusual", "type": f"array of Python objects ({_type_name(value)})"}
        if array.nbytes + sum(map(len, blobs)) > MAX_ARRAY_BYTES:
            size = f"shape {array.shape}, {array.nbytes / 2**20:.0f} MB: too large to check"
            return {"t": "unusual", "type": "numpy array", "text": size}
        kind = "scalar" if isinstance(value, np.generic) else "array"
        return {"t": kind, "blob": _array_blob(array, blobs), "type": _type_name(value)}
    if type(value) is int:
        return {"t": "int", "v": str(value)} if abs(value) < 10**300 else {"t": "float", "v": 1e300}
    if type(value) is float:
        return {"t": "float", "v": value}
    if type(value) is complex:
        return {"t": "complex", "v": [value.real, value.imag]}
    if type(value) is str:
        return {"t": "str", "v": value[:300], "n": len(value)}
    if type(value) in (tuple, list) and depth < _MAX_DEPTH and len(value) <= _MAX_ITEMS:
        items = [describe(item, blobs, depth + 1) for item in value]
        return {"t": type(value).__name__, "v": items}
    text = ""
    if isinstance(value, tuple | list):
        text = f"{len(value)} items"
    return {"t": "unusual", "type": _type_name(value), "text": text}


def rebuild(data: dict, blobs: list[bytes]):
    """Turn what :func:`describe` wrote back into plain values (parent side)."""
    kind = data["t"]
    if kind == "none":
        return None
    if kind == "bool":
        return bool(data["v"])
    if kind in ("array", "scalar"):
        array = np.load(io.BytesIO(blobs[data["blob"]]), allow_pickle=False)
        return array[()] if kind == "scalar" else array
    if kind == "int":
        return int(data["v"])
    if kind == "float":
        return float(data["v"])
    if kind == "complex":
        return complex(*data["v"])
    if kind == "str":
        return data["v"]
    if kind in ("tuple", "list"):
        items = [rebuild(item, blobs) for item in data["v"]]
        return tuple(items) if kind == "tuple" else items
    return Unusual(data.get("type", "object"), data.get("text", ""))


def safe_text(value: object, limit: int = 300) -> str:
    """Return ``str(value)`` cut to ``limit`` characters, or a note if that fails."""
    try:
        return str(value)[:limit]
    except BaseException as exc:  # a broken __str__ must not stop the report
        return f"<could not be shown: {type(exc).__name__}>"


def pack(report: dict, blobs: list[bytes]) -> bytes:
    """Frame a report and its blobs as bytes: header length, JSON header, blobs."""
    header = json.dumps({"report": report, "sizes": [len(b) for b in blobs]}).encode()
    return struct.pack("<Q", len(header)) + header + b"".join(blobs)


def unpack(payload: bytes) -> tuple[dict, list[bytes]]:
    """Return the report and blobs framed by :func:`pack`."""
    (size,) = struct.unpack("<Q", payload[:8])
    header = json.loads(payload[8 : 8 + size])
    blobs, at = [], 8 + size
    for n in header["sizes"]:
        blobs.append(payload[at : at + n])
        at += n
    return header["report"], blobs
