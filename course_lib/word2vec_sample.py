"""word2vec_sample: find it, unzip it, load it; never let a damaged zip break anything else.

nltk distributes the 300-d sample of Google News word2vec as ``models/word2vec_sample.zip``
holding ``word2vec_sample/pruned.word2vec.txt``. This module looks for it in nltk's data
folders (``NLTK_DATA`` first), without importing nltk unless it is already imported (then its
``nltk.data.path`` is honoured, with the user's changes). Any damage to a zip, wherever it is
in the file, is reported as :class:`DamagedDownloadError` naming the file, and
``download=True`` replaces it; listing what is available never raises.

The download (:mod:`course_lib.word2vec_download`) always ends: a deadline, a minimum rate, a
size cap from the expected file. The text is parsed by :mod:`course_lib.word2vec_text` and
cached by :mod:`course_lib.word2vec_cache`. Only stdlib and numpy are imported.
"""

import os
import stat
import sys
import warnings
from pathlib import Path

from course_lib import word2vec_cache
from course_lib.word2vec_text import parse_text

SOURCE = "word2vec_sample"
TEXT_RELPATH = Path("models", "word2vec_sample", "pruned.word2vec.txt")
ZIP_RELPATH = Path("models", "word2vec_sample.zip")
ZIP_MEMBER = "word2vec_sample/pruned.word2vec.txt"
DOWNLOAD_URL = (
    "https://raw.githubusercontent.com/nltk/nltk_data/gh-pages/packages/models/word2vec_sample.zip"
)
URL_ENV = "COURSE_LIB_WORD2VEC_URL"  # another address (a mirror, or a test's local server)
#: The sizes nltk's index lists for word2vec_sample (``size`` and ``unzipped_size``).
EXPECTED_ZIP_BYTES = 49_396_025
EXPECTED_TEXT_BYTES = 138_432_415
#: A download may not exceed this (an endless body is cut off here) ...
MAX_ZIP_BYTES = 2 * EXPECTED_ZIP_BYTES
#: ... nor its text file this, once unzipped (a zip bomb is refused before it is unpacked).
MAX_TEXT_BYTES = 2 * EXPECTED_TEXT_BYTES


class EmbeddingsNotFoundError(FileNotFoundError):
    """The requested word vectors are not on this machine (or could not be downloaded)."""


class DamagedDownloadError(EmbeddingsNotFoundError):
    """A downloaded word2vec_sample.zip is there but is not a readable zip of the text.

    Attributes
    ----------
    path : pathlib.Path
        The damaged file.
    problem : str
        What is wrong with it.
    """

    def __init__(self, path, problem):
        super().__init__(
            f"The downloaded word2vec_sample file {path} is damaged: {problem}.\n"
            "Replace it with a fresh download:\n"
            '    load_embeddings("word2vec_sample", download=True)\n'
            'The offline default load_embeddings("bundled") is not affected.'
        )
        self.path, self.problem = path, problem

    def __reduce__(self):
        """Rebuild from the path and the problem (exceptions cross processes pickled)."""
        return type(self), (self.path, self.problem)


# ------------------------------------------------------------------------------ finding


def search_path():
    """Return nltk's data folders: ``nltk.data.path`` if nltk is imported, else its default."""
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
    """Return None if ``zip_path`` looks like a readable zip of the text, else what is wrong.

    Reads only the zip's directory and the text's local header (fast); damage in the
    compressed data shows when it is unzipped (:func:`_unzip`). Never raises: zipfile meets
    damage with many exception types (BadZipFile, NotImplementedError for an unknown
    compression method or version, RuntimeError for a flag saying "encrypted", OSError or
    ValueError for an offset out of the file, ...).
    """
    import zipfile

    try:
        with zipfile.ZipFile(zip_path) as archive:
            info = archive.getinfo(ZIP_MEMBER)
            with archive.open(info):  # reads and checks the local header, not the data
                pass
    except KeyError:
        return f"it does not contain {ZIP_MEMBER}"
    except Exception as err:  # noqa: BLE001 (any damage; listed in the docstring)
        return f"it is not a readable zip file ({type(err).__name__}: {err})"
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        return f"its compression method {info.compress_type} is not one nltk uses"
    if info.flag_bits & 0x1:
        return "its text file is marked as encrypted"
    if info.file_size > MAX_TEXT_BYTES:
        return f"its text file claims {info.file_size} bytes, more than {MAX_TEXT_BYTES}"
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
    """Return True if a load would work without a download; cheap and never raises."""
    text, zip_path = find()
    if text is not None:
        return True
    if zip_path is not None and zip_problem(zip_path) is None:
        return True
    return word2vec_cache.cache_looks_intact(SOURCE)


def _unzip(zip_path):
    """Extract only the text file from the zip beside it (atomically); return its path.

    Raises DamagedDownloadError for any damage the zip's data shows while it is read
    (a bad CRC, a broken deflate stream, a text longer than it claims, ...).
    """
    problem = zip_problem(zip_path)
    if problem is not None:
        raise DamagedDownloadError(zip_path, problem)
    import zipfile

    target = zip_path.parent / "word2vec_sample" / "pruned.word2vec.txt"
    print(f"Unzipping {zip_path} (once) ...", flush=True)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with word2vec_cache.private_temporary(target.parent, ".pruned.") as out:
            try:
                _copy_member(zipfile.ZipFile(zip_path), out.file)
            except _ZipDamage as err:
                raise DamagedDownloadError(zip_path, str(err)) from err
            out.commit(target)
    except EmbeddingsNotFoundError:
        raise
    except OSError as err:  # writing: a full disk, a read-only folder, a folder in the way
        raise EmbeddingsNotFoundError(
            f"Cannot unzip {zip_path} into {target.parent} ({err}). Unzip it into a "
            "folder you can write to and add that folder to NLTK_DATA."
        ) from err
    return target


class _ZipDamage(Exception):
    """What reading the zip's data raised, whatever its type (writing errors are apart)."""


def _read_zip(step):
    """Return ``step()``, turning anything it raises into _ZipDamage."""
    try:
        return step()
    except Exception as err:  # noqa: BLE001 (any damage: see zip_problem)
        raise _ZipDamage(f"{type(err).__name__}: {err}") from err


def _copy_member(archive, out):
    """Copy the text member of ``archive`` to ``out``, at most MAX_TEXT_BYTES of it."""
    written = 0
    with archive, _read_zip(lambda: archive.open(ZIP_MEMBER)) as src:
        while chunk := _read_zip(lambda: src.read(1 << 20)):
            written += len(chunk)
            if written > MAX_TEXT_BYTES:
                raise _ZipDamage(f"its text file is longer than {MAX_TEXT_BYTES} bytes")
            out.write(chunk)


def not_found_message():
    """Return what to tell a student whose machine has no word2vec_sample."""
    return (
        "The word2vec_sample vectors (300-d, about 100 MB) are not on this machine.\n"
        "Download them once with\n"
        '    load_embeddings("word2vec_sample", download=True)\n'
        "(into the first writable folder of NLTK_DATA, else ~/nltk_data). No network? "
        'The default load_embeddings("bundled") works offline.'
    )


# ---------------------------------------------------------------------------- download


def download_folder():
    """Return the folder nltk would download into: the first writable one, else ~/nltk_data."""
    for folder in search_path():
        if folder.is_dir() and os.access(folder, os.W_OK):
            return folder
    return Path(os.path.expanduser("~/nltk_data"))


def download_and_unzip(url=None):
    """Fetch word2vec_sample.zip, replacing any zip there, and unzip its text file.

    The limits of :mod:`course_lib.word2vec_download` apply (a deadline, a minimum rate, at
    most ``MAX_ZIP_BYTES``). Any failure raises EmbeddingsNotFoundError, and no partial
    file is left behind.

    Parameters
    ----------
    url : str, optional
        Default: ``$COURSE_LIB_WORD2VEC_URL``, else nltk's address ``DOWNLOAD_URL``.

    Returns
    -------
    pathlib.Path
        The unzipped text file.

    Raises
    ------
    EmbeddingsNotFoundError
        The download failed, broke a limit, or brought a damaged zip (then deleted).
    """
    from course_lib import word2vec_download

    url = url or os.environ.get(URL_ENV) or DOWNLOAD_URL
    zip_path = download_folder() / ZIP_RELPATH
    print(
        f"Downloading word2vec_sample ({EXPECTED_ZIP_BYTES / 1e6:.1f} MB, once) from {url}",
        flush=True,
    )
    try:
        zip_path.parent.mkdir(parents=True, exist_ok=True)
        word2vec_download.fetch(url, zip_path, max_bytes=MAX_ZIP_BYTES)
    except word2vec_download.DownloadError as err:
        raise EmbeddingsNotFoundError(
            f"Download of word2vec_sample failed: {err} ({url}).\n"
            'Check the network, or use the offline vectors: load_embeddings("bundled").'
        ) from err
    except OSError as err:
        raise EmbeddingsNotFoundError(
            f"Cannot write {zip_path} ({err}); set NLTK_DATA to a writable folder."
        ) from err
    try:
        return _unzip(zip_path)
    except DamagedDownloadError as err:
        zip_path.unlink(missing_ok=True)
        raise EmbeddingsNotFoundError(
            f"Download of word2vec_sample failed: what {url} sent is damaged "
            f"({err.problem}).\n"
            'Try again later, or use the offline vectors: load_embeddings("bundled").'
        ) from err


# ----------------------------------------------------------------------------- loading


def load(download=False):
    """Return ``(words, vectors)`` of word2vec_sample: from the cache if it is the found file's.

    Parameters
    ----------
    download : bool, default False
        Fetch the zip if it is missing or damaged (:func:`download_and_unzip`).

    Returns
    -------
    words : list of str
    vectors : ndarray of shape (n_words, 300), float32, writable
        From the cache: a copy-on-write memory map of it.

    Raises
    ------
    EmbeddingsNotFoundError, DamagedDownloadError, ValueError
        As :func:`course_lib.embeddings.load_embeddings` says.
    """
    text, zip_path = find()
    if text is None and zip_path is not None:
        try:
            text = _unzip(zip_path)
        except DamagedDownloadError:
            if not download:
                raise
            print(f"{zip_path} is damaged; downloading it again.", flush=True)
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
        if not download:
            raise EmbeddingsNotFoundError(not_found_message())
        text = download_and_unzip()
        identity = word2vec_cache.text_identity(text)
    print(f"Reading {text} (slow, only this once; later loads use a cache) ...", flush=True)
    words, vectors = parse_text(text)
    try:
        word2vec_cache.write_cache(SOURCE, identity, words, vectors)
    except OSError as err:  # e.g. read-only home: still usable, just not cached
        warnings.warn(f"Could not write the embeddings cache: {err}", RuntimeWarning, stacklevel=3)
    return words, vectors
