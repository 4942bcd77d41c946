"""The fast cache of a parsed word2vec text file: plain numpy arrays and a word list.

Three files per source in :func:`cache_dir`: ``<source>.vectors.npy`` (float32, (n_words, d)),
``<source>.words.txt`` (UTF-8, one word a line) and ``<source>.meta.json`` (shape, checksums
and the identity of the text file the cache was made from). No pickle, nothing executed.

The cache is never trusted:

- only regular files are opened (``O_NOFOLLOW | O_NONBLOCK``, then ``fstat``), so a symlink,
  a FIFO or a folder at a cache name is treated as damage and cannot make a load hang;
- the meta file must be a JSON object with exactly the keys and types written here;
- the ``.npy`` header is parsed from the opened file (magic, dtype, order, shape) and the
  file's size must be exactly header + data; the data's sha256 must match;
- the cache belongs to one text file: it is used for the text file found now only if it
  records the same path, size and modification time. The path read from the meta file is
  compared, never opened.

Anything else returns None and the caller rebuilds from the text file. Every file is written
to a temporary name and renamed, the meta file last, so two kernels cannot see a half cache.
"""

import hashlib
import json
import os
import shutil
import stat
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np

CACHE_FORMAT = 2  # bump when the layout changes: older caches are then rebuilt

_META_TYPES = {
    "format": int,
    "source": str,
    "text_path": str,
    "text_size": int,
    "text_mtime_ns": int,
    "n_words": int,
    "dim": int,
    "dtype": str,
    "vectors_sha256": str,
    "words_sha256": str,
}


class CacheInvalid(ValueError):
    """A cache file is missing, of the wrong kind, or not what was written."""


def cache_dir():
    """Folder of the fast caches: ``$COURSE_LIB_CACHE`` if set, else the user cache dir.

    Returns
    -------
    pathlib.Path

    Examples
    --------
    >>> isinstance(cache_dir(), Path)
    True
    """
    env = os.environ.get("COURSE_LIB_CACHE")
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("course-lib", appauthor=False))


def cache_paths(source):
    """Return the paths of the three cache files of ``source``, by kind."""
    folder = cache_dir()
    return {
        "vectors": folder / f"{source}.vectors.npy",
        "words": folder / f"{source}.words.txt",
        "meta": folder / f"{source}.meta.json",
    }


def text_identity(path):
    """Return what a cache records about its text file: resolved path, size, mtime (ns)."""
    st = os.stat(path)
    return {
        "text_path": str(Path(path).resolve()),
        "text_size": st.st_size,
        "text_mtime_ns": st.st_mtime_ns,
    }


def open_regular(path):
    """Open ``path`` for reading in binary only if it is a regular file (never blocks).

    Raises CacheInvalid for a symlink, FIFO, socket, device or folder; OSError passes on.
    """
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(path, flags | getattr(os, "O_BINARY", 0))
    except OSError as err:
        # ELOOP: a symlink refused by O_NOFOLLOW; anything else (missing, no permission).
        raise CacheInvalid(f"{Path(path).name}: cannot open ({err.strerror})") from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise CacheInvalid(f"{Path(path).name} is not a regular file")
    if hasattr(os, "set_blocking"):
        os.set_blocking(fd, True)
    return os.fdopen(fd, "rb")


def _sha256(buffer):
    return hashlib.sha256(buffer).hexdigest()


def _read_meta(path, source):
    with open_regular(path) as f:
        raw = f.read(1 << 16)  # a valid meta file is a few hundred bytes
    try:
        meta = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as err:
        raise CacheInvalid(f"meta file is not JSON ({err})") from None
    if not isinstance(meta, dict) or set(meta) != set(_META_TYPES):
        raise CacheInvalid("meta file does not hold the expected fields")
    for key, kind in _META_TYPES.items():
        if type(meta[key]) is not kind:  # exact type: True is not an int here
            raise CacheInvalid(f"meta field {key!r} is {type(meta[key]).__name__}")
    if meta["format"] != CACHE_FORMAT or meta["source"] != source or meta["dtype"] != "float32":
        raise CacheInvalid("cache format, source or dtype differs")
    if meta["n_words"] < 1 or meta["dim"] < 1:
        raise CacheInvalid("meta file records an empty table")
    return meta


def _map_vectors(path, n_words, dim):
    """Memory-map the .npy file after checking its header and exact size.

    The map is copy-on-write (``mode="c"``): the vectors may be changed in memory, as those
    of a freshly parsed table can, while the file on disk stays as it is.
    """
    f = open_regular(path)
    try:
        try:
            version = np.lib.format.read_magic(f)
            if version == (1, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_1_0(f)
            elif version == (2, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_2_0(f)
            else:
                raise CacheInvalid(f".npy version {version}")
        except (ValueError, EOFError, SyntaxError) as err:
            raise CacheInvalid(f"vectors file is not a valid .npy file ({err})") from None
        if dtype != np.dtype("<f4") or fortran or shape != (n_words, dim):
            raise CacheInvalid(f"vectors file holds {dtype} {shape}, not float32 {(n_words, dim)}")
        offset = f.tell()
        size = os.fstat(f.fileno()).st_size
        if size != offset + n_words * dim * 4:
            raise CacheInvalid(f"vectors file has {size} bytes, not {offset + n_words * dim * 4}")
        return np.memmap(f, dtype=np.float32, mode="c", offset=offset, shape=(n_words, dim))
    finally:
        f.close()  # the memory map keeps its own reference to the file's pages


def read_cache(source, identity):
    """``(words, vectors)`` from a valid cache, else None.

    Parameters
    ----------
    source : str
    identity : dict or None
        :func:`text_identity` of the text file found now. The cache is used only if it
        records exactly this identity. None means no text file was found: an intact cache
        is then used on its own.

    Raises
    ------
    CacheInvalid
        The cache exists but is damaged (the message says how); stale caches return None.
    """
    paths = cache_paths(source)
    try:
        os.lstat(paths["meta"])
    except OSError:
        return None  # no cache
    meta = _read_meta(paths["meta"], source)
    if identity is not None and any(meta[k] != v for k, v in identity.items()):
        return None  # made from another file or an older version of it: stale
    with open_regular(paths["words"]) as f:
        words_bytes = f.read()
    if _sha256(words_bytes) != meta["words_sha256"]:
        raise CacheInvalid("word list checksum differs")
    words = words_bytes.decode("utf-8").split("\n")
    if len(words) != meta["n_words"]:
        raise CacheInvalid(f"{len(words)} words, not {meta['n_words']}")
    vectors = _map_vectors(paths["vectors"], meta["n_words"], meta["dim"])  # (n, d)
    if _sha256(memoryview(vectors).cast("B")) != meta["vectors_sha256"]:
        raise CacheInvalid("vectors checksum differs")
    return words, vectors


def cache_looks_intact(source):
    """Cheap check (no checksums) that a cache is there and self-consistent; never raises."""
    paths = cache_paths(source)
    try:
        meta = _read_meta(paths["meta"], source)
        for name in ("words", "vectors"):
            st = os.lstat(paths[name])
            if not stat.S_ISREG(st.st_mode):
                return False
        return os.lstat(paths["vectors"]).st_size > meta["n_words"] * meta["dim"] * 4
    except (OSError, ValueError):
        return False


def _lock(fd):
    """Lock the open file ``fd`` for this process (POSIX); a killed process loses its lock."""
    try:
        import fcntl
    except ImportError:  # Windows: a file open elsewhere cannot be deleted, which is enough
        return
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)


class _Temporary:
    """A new temporary file, locked while this process writes it; see private_temporary."""

    def __init__(self, folder, prefix):
        fd, name = tempfile.mkstemp(dir=folder, prefix=prefix, suffix=".tmp")
        _lock(fd)
        self.path = Path(name)
        self.file = os.fdopen(fd, "wb")
        self.committed = False

    def commit(self, target, mode=None):
        """Write the file out and rename it to ``target`` (a folder there is removed first)."""
        self.file.flush()
        os.fsync(self.file.fileno())
        if mode is not None:
            os.chmod(self.path, mode)
        try:
            if stat.S_ISDIR(os.lstat(target).st_mode):  # damage at a file's name: clear it
                shutil.rmtree(target)
        except FileNotFoundError:
            pass
        if sys.platform == "win32":  # Windows renames only closed files
            self.file.close()
        os.replace(self.path, target)  # POSIX: still locked while it takes its name
        self.committed = True
        self.file.close()


@contextmanager
def private_temporary(folder, prefix):
    """Yield a locked temporary file ``<prefix>*.tmp`` in ``folder``; remove it on failure.

    What killed runs left there first goes (:func:`remove_leftovers`).

    Parameters
    ----------
    folder : pathlib.Path
        Where the file is made (the same folder as its target, so the rename is atomic).
    prefix : str
        The start of its name; :func:`remove_leftovers` finds what a killed run left.

    Yields
    ------
    _Temporary
        ``.file`` (open for binary writing), ``.path``, and ``.commit(target, mode=None)``
        which renames it into place.
    """
    remove_leftovers(folder, prefix)
    temporary = _Temporary(folder, prefix)
    try:
        yield temporary
    finally:
        temporary.file.close()
        if not temporary.committed:
            temporary.path.unlink(missing_ok=True)


def remove_leftovers(folder, prefix, min_age_s=1.0):
    """Delete the temporary files ``<prefix>*.tmp`` a killed run left in ``folder``.

    A file still being written is kept: its writer holds a lock on it (POSIX), or it cannot
    be deleted while open (Windows). Files younger than ``min_age_s`` are kept too (a writer
    takes its lock just after creating the file). Never raises.

    Parameters
    ----------
    folder : pathlib.Path
    prefix : str
    min_age_s : float, default 1.0

    Returns
    -------
    list of pathlib.Path
        The files removed.
    """
    try:
        names = [n for n in os.listdir(folder) if n.startswith(prefix) and n.endswith(".tmp")]
    except OSError:
        return []
    removed = []
    for name in names:
        path = Path(folder, name)
        try:
            if _is_abandoned(path, min_age_s):
                path.unlink()
                removed.append(path)
        except OSError:  # in use (Windows), gone meanwhile, or not ours to delete
            continue
    return removed


def _is_abandoned(path, min_age_s):
    """Return True if ``path`` is an old regular file that no process holds locked."""
    st = os.lstat(path)
    if stat.S_ISLNK(st.st_mode):
        return True  # nothing of ours is a link: a link here is only in the way
    if not stat.S_ISREG(st.st_mode) or time.time() - st.st_mtime < min_age_s:
        return False
    try:
        import fcntl
    except ImportError:
        return True  # Windows: unlink fails on a file still open, which keeps it
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # BlockingIOError: a live writer
        return True
    except BlockingIOError:
        return False
    finally:
        os.close(fd)


def _atomic_write(path, data):
    """Write ``data`` (bytes, or a function of the open binary file) to ``path`` atomically.

    The data goes to a locked temporary file in the same folder, which is then renamed over
    ``path``, replacing whatever is there (a damaged file, a symlink, a FIFO, a folder).
    """
    with private_temporary(path.parent, f".{path.name}.") as temporary:
        if callable(data):
            data(temporary.file)
        else:
            temporary.file.write(data)
        # mkstemp makes the file private (0600); give it the usual mode for new files, so a
        # cache built once on a shared machine serves every user who may read the folder.
        umask = os.umask(0)
        os.umask(umask)
        temporary.commit(path, mode=0o666 & ~umask)


def write_cache(source, identity, words, vectors):
    """Write the three cache files; OSError if the folder is not writable."""
    paths = cache_paths(source)
    paths["meta"].parent.mkdir(parents=True, exist_ok=True)
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)  # (n_words, d)
    if any("\n" in word for word in words):
        raise OSError("a word contains a newline; not cacheable as a word list")
    words_bytes = "\n".join(words).encode("utf-8")
    meta = {
        "format": CACHE_FORMAT,
        "source": source,
        **identity,
        "n_words": len(words),
        "dim": int(vectors.shape[1]),
        "dtype": "float32",
        "vectors_sha256": _sha256(memoryview(vectors).cast("B")),
        "words_sha256": _sha256(words_bytes),
    }
    # The meta file goes last: until it is there (and matches), the cache is not used.
    _atomic_write(paths["vectors"], lambda f: np.save(f, vectors, allow_pickle=False))
    _atomic_write(paths["words"], words_bytes)
    _atomic_write(paths["meta"], json.dumps(meta, indent=1).encode("utf-8"))
