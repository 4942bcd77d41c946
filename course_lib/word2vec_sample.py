"""word2vec_sample: find it, download it, parse its text file strictly, cache it.

nltk distributes the 300-d sample of Google News word2vec as ``models/word2vec_sample.zip``
holding ``word2vec_sample/pruned.word2vec.txt``. This module looks for it in nltk's data
folders (``NLTK_DATA`` first), without importing nltk unless it is already imported (then its
``nltk.data.path`` is honoured, with the user's changes), and without ever letting a damaged
zip break anything else. The download is its own (``urllib``, imported only then; an
explicit timeout on every network operation, a progress line), so a silent network fails in
under a minute.

The text file is parsed by a strict reader that names the file and line of any fault; the
result is cached by :mod:`course_lib.word2vec_cache`. Only stdlib and numpy are imported.
"""

import os
import stat
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

from course_lib import word2vec_cache

SOURCE = "word2vec_sample"
TEXT_RELPATH = Path("models", "word2vec_sample", "pruned.word2vec.txt")
ZIP_RELPATH = Path("models", "word2vec_sample.zip")
ZIP_MEMBER = "word2vec_sample/pruned.word2vec.txt"
DOWNLOAD_URL = (
    "https://raw.githubusercontent.com/nltk/nltk_data/gh-pages/packages/models/word2vec_sample.zip"
)
URL_ENV = "COURSE_LIB_WORD2VEC_URL"  # another address (a mirror, or a test's local server)
#: Seconds allowed for each network operation (connect, each read). Connecting and the first
#: byte together take at most twice this, so a network that never answers fails within 40 s.
DOWNLOAD_TIMEOUT_S = 20.0
MAX_TEXT_BYTES = 2 << 30  # refuse to unpack a "text file" bigger than 2 GB


class EmbeddingsNotFoundError(FileNotFoundError):
    """The requested word vectors are not on this machine (or could not be downloaded)."""


class DamagedDownloadError(EmbeddingsNotFoundError):
    """A downloaded word2vec_sample.zip is there but is not a readable zip of the text."""


# ------------------------------------------------------------------------------ finding


def search_path():
    """nltk's data folders: ``nltk.data.path`` if nltk is imported, else the same default."""
    nltk = sys.modules.get("nltk")
    data = getattr(nltk, "data", None)
    if data is not None and isinstance(getattr(data, "path", None), list):
        return [Path(p) for p in data.path if isinstance(p, str | os.PathLike)]
    paths = [os.path.expanduser(p) for p in os.environ.get("NLTK_DATA", "").split(os.pathsep)]
    paths = [p for p in paths if p]
    if os.path.expanduser("~/") != "~/":
        paths.append(os.path.expanduser("~/nltk_data"))
    if sys.platform == "win32":
        appdata = os.environ.get("APPDATA")
        paths += [
            os.path.join(sys.prefix, "nltk_data"),
            os.path.join(sys.prefix, "lib", "nltk_data"),
        ]
        paths += [os.path.join(appdata, "nltk_data")] if appdata else []
    else:
        paths += [
            os.path.join(sys.prefix, "nltk_data"),
            os.path.join(sys.prefix, "share", "nltk_data"),
            os.path.join(sys.prefix, "lib", "nltk_data"),
            "/usr/share/nltk_data",
            "/usr/local/share/nltk_data",
            "/usr/lib/nltk_data",
            "/usr/local/lib/nltk_data",
        ]
    return [Path(p) for p in paths]


def _is_regular(path):
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        return False


def zip_problem(zip_path):
    """None if ``zip_path`` is a readable zip holding the text file, else what is wrong."""
    import zipfile

    try:
        with zipfile.ZipFile(zip_path) as archive:
            info = archive.getinfo(ZIP_MEMBER)
    except KeyError:
        return f"it does not contain {ZIP_MEMBER}"
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as err:
        return f"it is not a readable zip file ({err})"
    if info.file_size > MAX_TEXT_BYTES:
        return f"its text file claims {info.file_size} bytes"
    return None


def find():
    """Where word2vec_sample is, as ``(text_path, zip_path)``; either may be None.

    ``text_path`` is the first regular ``pruned.word2vec.txt`` on the search path;
    ``zip_path`` is the first ``word2vec_sample.zip`` before it (one that was never
    unzipped). Opens nothing, never raises.
    """
    zip_path = None
    for folder in search_path():
        text = folder / TEXT_RELPATH
        if _is_regular(text):
            return text, zip_path
        if zip_path is None and _is_regular(folder / ZIP_RELPATH):
            zip_path = folder / ZIP_RELPATH
    return None, zip_path


def is_available():
    """True if a load would work without a download; cheap and never raises."""
    text, zip_path = find()
    if text is not None:
        return True
    if zip_path is not None and zip_problem(zip_path) is None:
        return True
    return word2vec_cache.cache_looks_intact(SOURCE)


def _unzip(zip_path):
    """Extract only the text file from the zip beside it (atomically); return its path."""
    problem = zip_problem(zip_path)
    if problem is not None:
        raise DamagedDownloadError(_damaged_message(zip_path, problem))
    import zipfile
    import zlib

    target = zip_path.parent / "word2vec_sample" / "pruned.word2vec.txt"
    print(f"Unzipping {zip_path} (once) ...", flush=True)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".pruned.", suffix=".tmp")
    except OSError as err:
        raise EmbeddingsNotFoundError(
            f"Cannot unzip {zip_path} into {target.parent} ({err.strerror}). Unzip it into "
            "a folder you can write to and add that folder to NLTK_DATA."
        ) from err
    try:
        with zipfile.ZipFile(zip_path) as archive, archive.open(ZIP_MEMBER) as src:
            with os.fdopen(fd, "wb") as out:
                while chunk := src.read(1 << 20):
                    out.write(chunk)
        os.replace(tmp, target)
    except (zipfile.BadZipFile, zlib.error, EOFError) as err:  # the zip's data is damaged
        Path(tmp).unlink(missing_ok=True)
        raise DamagedDownloadError(_damaged_message(zip_path, str(err))) from err
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def _damaged_message(zip_path, problem):
    return (
        f"The downloaded word2vec_sample file {zip_path} is damaged: {problem}.\n"
        f"Delete it (rm {str(zip_path)!r}) and download again with\n"
        '    load_embeddings("word2vec_sample", download=True)\n'
        'The offline default load_embeddings("bundled") is not affected.'
    )


def not_found_message():
    return (
        "The word2vec_sample vectors (300-d, about 100 MB) are not on this machine.\n"
        "Download them once with\n"
        '    load_embeddings("word2vec_sample", download=True)\n'
        "(into the first writable folder of NLTK_DATA, else ~/nltk_data). No network? "
        'The default load_embeddings("bundled") works offline.'
    )


# ---------------------------------------------------------------------------- download


def download_folder():
    """nltk's choice: the first existing writable data folder, else ~/nltk_data."""
    for folder in search_path():
        if folder.is_dir() and os.access(folder, os.W_OK):
            return folder
    return Path(os.path.expanduser("~/nltk_data"))


def download(url=None, timeout=None):
    """Fetch word2vec_sample.zip and unzip its text file; return the text file's path.

    Every network operation has ``timeout`` seconds (default ``DOWNLOAD_TIMEOUT_S``); any
    failure raises EmbeddingsNotFoundError at once, and no partial file is left behind.
    """
    url = url or os.environ.get(URL_ENV) or DOWNLOAD_URL
    timeout = DOWNLOAD_TIMEOUT_S if timeout is None else timeout
    zip_path = download_folder() / ZIP_RELPATH
    print(f"Downloading word2vec_sample (once; the size is shown below) from {url}", flush=True)
    try:
        zip_path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=zip_path.parent, prefix=".word2vec_sample.", suffix=".tmp")
    except OSError as err:
        raise EmbeddingsNotFoundError(
            f"Cannot write to {zip_path.parent} ({err}); set NLTK_DATA to a writable folder."
        ) from err
    try:
        with os.fdopen(fd, "wb") as out:
            _fetch(url, out, timeout)
        os.replace(tmp, zip_path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    problem = zip_problem(zip_path)
    if problem is not None:
        zip_path.unlink(missing_ok=True)
        raise EmbeddingsNotFoundError(
            f"Download of word2vec_sample failed: what {url} sent is damaged ({problem}).\n"
            'Try again later, or use the offline vectors: load_embeddings("bundled").'
        )
    return _unzip(zip_path)


def _fetch(url, out, timeout):
    """Copy the body at ``url`` to ``out`` with a progress line; EmbeddingsNotFoundError."""
    import http.client
    import urllib.error
    import urllib.request

    start = time.monotonic()
    try:
        opener = urllib.request.build_opener()  # reads the proxy variables of this moment
        with opener.open(url, timeout=timeout) as response:
            total = int(response.headers.get("Content-Length") or 0)
            done, next_report = 0, 0
            while chunk := response.read(1 << 16):
                out.write(chunk)
                done += len(chunk)
                if done >= next_report or done == total:  # every tenth, or every 8 MB
                    of = f" of {total / 1e6:.1f} MB ({100 * done // total}%)" if total else " MB"
                    print(f"  {done / 1e6:.1f}{of}", flush=True)
                    next_report = done + (total // 10 if total else 8 << 20)
            if total and done != total:
                raise OSError(f"the connection closed after {done} of {total} bytes")
    except (OSError, ValueError, http.client.HTTPException) as err:  # URLError, timeouts
        seconds = time.monotonic() - start
        reason = err
        if isinstance(err, urllib.error.URLError) and not isinstance(err, urllib.error.HTTPError):
            reason = err.reason  # "timed out", "Connection refused", ...
        raise EmbeddingsNotFoundError(
            f"Download of word2vec_sample failed after {seconds:.0f} s: {reason} ({url}).\n"
            'Check the network, or use the offline vectors: load_embeddings("bundled").'
        ) from err


# ----------------------------------------------------------------------------- parsing


def _line_error(path, line_no, what):
    return ValueError(f"{path}, line {line_no}: {what}. This word2vec text file is damaged.")


def parse_text(path):
    """Read a word2vec text file strictly: ``(words, vectors)``, vectors (n, d) float32.

    The header is ``"<count> <dim>"``; each line is a word and ``dim`` finite numbers,
    separated by single spaces. A UTF-8 byte-order mark before the header is skipped. If a
    word appears twice, the first vector is kept and a RuntimeWarning names both lines.
    Any other fault raises ValueError naming the file and the line: bytes that are not
    UTF-8, a bad header, a short or long line, a value that is not a number or not finite,
    fewer or more lines than the header says.
    """
    path = Path(path)
    try:
        f = word2vec_cache.open_regular(path.resolve())  # a symlinked text file is fine
    except word2vec_cache.CacheInvalid as err:
        raise ValueError(f"{path} cannot be read as a word2vec text file: {err}") from None
    with f:
        size = os.fstat(f.fileno()).st_size
        header = f.readline()
        if not header:
            raise ValueError(f"{path} is empty: a word2vec text file starts with '<count> <dim>'.")
        header = _decode(path, 1, header.removeprefix(b"\xef\xbb\xbf"))
        fields = header.split()
        if len(fields) != 2 or not all(x.isascii() and x.isdigit() for x in fields):
            raise _line_error(path, 1, f"the header {header.strip()[:60]!r} is not '<count> <dim>'")
        count, dim = int(fields[0]), int(fields[1])
        if count < 1 or dim < 1:
            raise _line_error(path, 1, f"the header says {count} words of {dim} values")
        if count * 2 * dim > size:  # each value needs a digit and a space at least
            raise _line_error(
                path,
                1,
                f"the header says {count} words of {dim} values; {size} bytes cannot hold them",
            )
        words = []
        index = {}
        vectors = np.empty((count, dim), dtype=np.float32)  # (count, dim)
        line_no = 1
        for raw in f:
            line_no += 1
            if len(words) == count:
                if raw.strip():
                    raise _line_error(
                        path, line_no, f"more lines than the {count} words the header says"
                    )
                continue
            parts = _decode(path, line_no, raw).rstrip().split(" ")
            if len(parts) != dim + 1:
                what = "is empty" if parts == [""] else f"has {len(parts) - 1} values, not {dim}"
                if not raw.endswith(b"\n"):
                    what += " (the last line is cut short)"
                raise _line_error(path, line_no, f"the line {what}")
            try:
                row = np.array(parts[1:], dtype=np.float32)  # (dim,)
            except ValueError as err:
                raise _line_error(path, line_no, f"a value is not a number ({err})") from None
            if not np.isfinite(row).all():
                raise _line_error(
                    path, line_no, f"the vector of {parts[0]!r} has a nan or inf value"
                )
            word = parts[0]
            if word in index:
                warnings.warn(
                    f"{path}: {word!r} appears on line {index[word]} and again on line "
                    f"{line_no}; the first is kept.",
                    RuntimeWarning,
                    stacklevel=2,
                )
                count -= 1
                continue
            index[word] = line_no
            vectors[len(words)] = row
            words.append(word)
        if len(words) < count:
            raise _line_error(
                path,
                line_no + 1,
                f"the file ends after {len(words)} of the {count} words the header says",
            )
    return words, vectors[:count]


def _decode(path, line_no, raw):
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise _line_error(
            path, line_no, f"byte 0x{raw[err.start]:02x} at column {err.start + 1} is not UTF-8"
        ) from None


# ----------------------------------------------------------------------------- loading


def load(download_if_missing):
    """``(words, vectors)`` of word2vec_sample: from the cache if it is the found file's."""
    text, zip_path = find()
    if text is None and zip_path is not None:
        problem = zip_problem(zip_path)
        if problem is None:
            text = _unzip(zip_path)
        elif not download_if_missing:
            raise DamagedDownloadError(_damaged_message(zip_path, problem))
    identity = word2vec_cache.text_identity(text) if text is not None else None
    try:
        cached = word2vec_cache.read_cache(SOURCE, identity)
    except (word2vec_cache.CacheInvalid, OSError, UnicodeDecodeError) as err:
        cached = None
        if text is not None:
            folder = word2vec_cache.cache_dir()
            print(f"The embeddings cache in {folder} is damaged ({err}); rebuilding it.")
    if cached is not None:
        return cached
    if text is None:
        if not download_if_missing:
            raise EmbeddingsNotFoundError(not_found_message())
        text = download()
        identity = word2vec_cache.text_identity(text)
    print(f"Reading {text} (slow, only this once; later loads use a cache) ...", flush=True)
    words, vectors = parse_text(text)
    try:
        word2vec_cache.write_cache(SOURCE, identity, words, vectors)
    except OSError as err:  # e.g. read-only home: still usable, just not cached
        warnings.warn(f"Could not write the embeddings cache: {err}", RuntimeWarning, stacklevel=3)
    return words, vectors
