"""A strict, streaming reader of word2vec's text format, in numpy alone.

The format: a header line ``"<count> <dim>"``, then ``count`` lines, each a word and
``dim`` numbers separated by single spaces. The reader names the file and the line of any
fault, and its memory stays bounded whatever the file holds: no line is read past
:func:`max_line_bytes` of its header's ``dim`` (a few kilobytes), so a file of one 100 MB
line costs kilobytes to refuse, not gigabytes.
"""

import os
import warnings
from pathlib import Path

import numpy as np

from course_lib import word2vec_cache

__all__ = ["max_line_bytes", "parse_text"]

HEADER_MAX_BYTES = 64  # "<count> <dim>" plus a byte-order mark is far shorter
MAX_WORD_BYTES = 1024  # word2vec's phrases (New_York_City) are far shorter
VALUE_MAX_BYTES = 40  # "-1.2345678901234567e-308" and its space, with room to spare


def max_line_bytes(dim):
    """Return the longest line, in bytes, a vector of ``dim`` values may take.

    Parameters
    ----------
    dim : int
        The number of values per line (the header's second number).

    Returns
    -------
    int
        A word of :data:`MAX_WORD_BYTES`, then ``dim`` values of :data:`VALUE_MAX_BYTES`.

    Examples
    --------
    >>> max_line_bytes(300)
    13024
    """
    return MAX_WORD_BYTES + VALUE_MAX_BYTES * dim


def _line_error(path, line_no, what):
    return ValueError(f"{path}, line {line_no}: {what}. This word2vec text file is damaged.")


def _decode(path, line_no, raw):
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise _line_error(
            path, line_no, f"byte 0x{raw[err.start]:02x} at column {err.start + 1} is not UTF-8"
        ) from None


def _read_header(path, f, size):
    """Return ``(count, dim)`` from the first line of the open file ``f``."""
    raw = f.readline(HEADER_MAX_BYTES + 1)
    if not raw:
        raise ValueError(f"{path} is empty: a word2vec text file starts with '<count> <dim>'.")
    if len(raw) > HEADER_MAX_BYTES:
        raise _line_error(path, 1, f"the header is longer than {HEADER_MAX_BYTES} bytes")
    header = _decode(path, 1, raw.removeprefix(b"\xef\xbb\xbf"))
    fields = header.split()
    if len(fields) != 2 or not all(x.isascii() and x.isdigit() for x in fields):
        raise _line_error(path, 1, f"the header {header.strip()[:60]!r} is not '<count> <dim>'")
    count, dim = int(fields[0]), int(fields[1])
    if count < 1 or dim < 1:
        raise _line_error(path, 1, f"the header says {count} words of {dim} values")
    if count * 2 * dim > size:  # each value needs a digit and a space at least
        raise _line_error(
            path, 1, f"the header says {count} words of {dim} values; {size} bytes cannot hold them"
        )
    return count, dim


def _parse_line(path, line_no, raw, dim):
    """Return ``(word, row)`` of one vector line; ValueError naming what is wrong."""
    parts = _decode(path, line_no, raw).rstrip().split(" ")
    if b"\t" in raw:
        raise _line_error(
            path, line_no, "the line has tabs; word2vec text separates values with single spaces"
        )
    if len(parts) != dim + 1:
        if parts == [""]:
            what = "is empty"
        else:
            what = f"has {len(parts) - 1} values, not {dim}"
        if not raw.endswith(b"\n"):
            what += " (the last line is cut short)"
        raise _line_error(path, line_no, f"the line {what}")
    try:
        row = np.array(parts[1:], dtype=np.float32)  # (dim,)
    except ValueError as err:
        raise _line_error(path, line_no, f"a value is not a number ({err})") from None
    if not np.isfinite(row).all():
        raise _line_error(path, line_no, f"the vector of {parts[0]!r} has a nan or inf value")
    return parts[0], row


def parse_text(path):
    r"""Read a word2vec text file strictly: ``(words, vectors)``, vectors (n, d) float32.

    A UTF-8 byte-order mark before the header is skipped. If a word appears twice, the
    first vector is kept and a RuntimeWarning names both lines (as gensim does); the header
    counts every line, repeated or not. Any other fault raises ValueError naming the file
    and the line: bytes that are not UTF-8, a bad header, a line too long for its ``dim``
    (checked while reading, before the line is held in memory), a short or long line, tabs
    between values, a value that is not a number or not finite, fewer or more lines than the
    header says.

    Parameters
    ----------
    path : str or os.PathLike
        A regular file (a symbolic link to one is followed).

    Returns
    -------
    words : list of str
    vectors : ndarray of shape (len(words), dim), float32

    Raises
    ------
    ValueError
        Any fault of the file (the message names the file and the line).

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = Path(folder, "tiny.txt")
    ...     _ = path.write_text("2 3\ncat 1 0 0\ndog 0.5 0.5 0\n", encoding="utf-8")
    ...     words, vectors = parse_text(path)
    >>> words, vectors.shape
    (['cat', 'dog'], (2, 3))
    """
    path = Path(path)
    try:
        f = word2vec_cache.open_regular(path.resolve())  # a symlinked text file is fine
    except word2vec_cache.CacheInvalid as err:
        raise ValueError(f"{path} cannot be read as a word2vec text file: {err}") from None
    with f:
        count, dim = _read_header(path, f, os.fstat(f.fileno()).st_size)
        limit = max_line_bytes(dim)
        words, first_line = [], {}
        vectors = np.empty((count, dim), dtype=np.float32)  # (count, dim), rows filled below
        n_lines, line_no = 0, 1
        while raw := f.readline(limit + 1):  # never more than limit + 1 bytes in memory
            line_no += 1
            if len(raw) > limit and not raw.endswith(b"\n"):
                raise _line_error(
                    path, line_no, f"the line is longer than {limit} bytes (for {dim} values)"
                )
            if n_lines == count:
                if raw.strip():
                    raise _line_error(
                        path, line_no, f"more lines than the {count} words the header says"
                    )
                continue
            n_lines += 1
            word, row = _parse_line(path, line_no, raw, dim)
            if word in first_line:
                warnings.warn(
                    f"{path}: {word!r} appears on line {first_line[word]} and again on line "
                    f"{line_no}; the first is kept.",
                    RuntimeWarning,
                    stacklevel=2,
                )
                continue
            first_line[word] = line_no
            vectors[len(words)] = row
            words.append(word)
        if n_lines < count:
            raise _line_error(
                path,
                line_no + 1,
                f"the file ends after {n_lines} of the {count} words the header says",
            )
    return words, vectors[: len(words)]
