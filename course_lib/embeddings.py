"""Word vectors for the course: load a table of embeddings, turn a sentence into vectors.

Two sources, both returned as a gensim ``KeyedVectors`` (``kv["coke"]``, ``kv.similarity``,
``kv.most_similar``):

- ``"bundled"`` (default): 21,745 English words x 64 dimensions, shipped inside the package
  (``course_lib/data/bundled_vectors.npz``, about 3 MB). Works offline. Made from the
  all-MiniLM-L6-v2 sentence encoder by ``scripts/build_bundled_vectors.py``; see the NOTICE
  file beside it.
- ``"word2vec_sample"``: the 300-d sample of Google News word2vec (43,981 words) that nltk
  distributes. ``load_embeddings("word2vec_sample", download=True)`` fetches it once. The
  text file is parsed only the first time; then a fast cache (plain numpy arrays plus a word
  list, never pickle) loads it in a fraction of a second.

``embed_sentence`` splits a sentence into words, looks each one up and reports the words it
had to drop, so a plot never labels a row with a word that has no vector.

Heavy libraries (gensim, nltk, platformdirs) are imported inside the functions that use them;
importing this module downloads nothing.
"""

import hashlib
import json
import os
import socket
import tempfile
import threading
import unicodedata
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = [
    "EmbeddingsNotFoundError",
    "SentenceEmbedding",
    "available_sources",
    "load_embeddings",
    "tokenize",
    "embed_sentence",
]

SOURCES = ("bundled", "word2vec_sample")
BUNDLED_PATH = Path(__file__).resolve().parent / "data" / "bundled_vectors.npz"
NLTK_RESOURCE = "models/word2vec_sample/pruned.word2vec.txt"
NLTK_PACKAGE = "word2vec_sample"
CACHE_FORMAT = 1  # bump when the cache layout changes: old caches are then rebuilt
DOWNLOAD_TIMEOUT_S = 30.0  # per network operation; a dead network fails, it does not hang

_LOADED = {}  # source -> KeyedVectors, one per process
_LOCK = threading.RLock()


class EmbeddingsNotFoundError(FileNotFoundError):
    """The requested word vectors are not on this machine (or could not be downloaded)."""


# --------------------------------------------------------------------------- loading


def available_sources():
    """Names of the embedding sources that can be loaded now, without a download.

    Returns
    -------
    list of str
        ``"bundled"`` first (always there), then ``"word2vec_sample"`` if nltk can find its
        text file or a fast cache of it exists. Never downloads anything.

    Examples
    --------
    >>> available_sources()[0]
    'bundled'
    """
    sources = ["bundled"]
    if _find_word2vec_sample() is not None or _cache_paths("word2vec_sample")["meta"].is_file():
        sources.append("word2vec_sample")
    return sources


def load_embeddings(source="bundled", *, download=False):
    """Load a table of word vectors as a gensim ``KeyedVectors``.

    The result is memoised: a second call with the same ``source`` in the same process
    returns the same object at once.

    Parameters
    ----------
    source : {"bundled", "word2vec_sample"}, default "bundled"
        ``"bundled"``: 64-d vectors for 21,745 lowercase English words, shipped with the
        package, offline. ``"word2vec_sample"``: 300-d Google News word2vec sample
        (43,981 words, case-sensitive), found through nltk (``NLTK_DATA`` is honoured).
    download : bool, default False
        Only for ``"word2vec_sample"``: if it is missing, fetch it with
        ``nltk.download`` (about 100 MB, a visible progress message). Without it a missing
        file raises ``EmbeddingsNotFoundError``.

    Returns
    -------
    gensim.models.KeyedVectors
        ``kv.vectors`` is an ndarray of shape (n_words, d), float32; ``kv[word]`` has
        shape (d,).

    Raises
    ------
    ValueError
        Unknown ``source``.
    EmbeddingsNotFoundError
        ``"word2vec_sample"`` is missing and ``download`` is False, or the download failed.

    Notes
    -----
    The first load of ``"word2vec_sample"`` parses the text file (slow, once) and writes a
    cache under ``$COURSE_LIB_CACHE`` or the user cache directory: ``<name>.vectors.npy``,
    ``<name>.words.txt`` and ``<name>.meta.json`` (shape, checksums, size and modification
    time of the text file). Each file is written to a temporary name and renamed, so two
    kernels at once cannot leave a half-written cache. On read, everything is checked; a
    damaged or stale cache is rebuilt, never trusted. While the text file the cache was
    made from is unchanged, that file is used (nltk is not even imported); if it is gone,
    an intact cache is still used. The cached vectors are memory-mapped read-only, so
    several kernels share one copy in memory.

    Examples
    --------
    >>> kv = load_embeddings()
    >>> kv.vectors.shape
    (21745, 64)
    >>> kv["steak"].shape
    (64,)
    >>> load_embeddings("bundled") is kv
    True
    >>> kv = load_embeddings("word2vec_sample", download=True)  # doctest: +SKIP
    """
    if source not in SOURCES:
        raise ValueError(f"Unknown source {source!r}; choose one of {list(SOURCES)}")
    with _LOCK:
        if source not in _LOADED:
            if source == "bundled":
                _LOADED[source] = _load_bundled()
            else:
                _LOADED[source] = _load_word2vec_sample(download=download)
        return _LOADED[source]


def _make_keyed_vectors(words, vectors):
    """A gensim KeyedVectors around an existing (n_words, d) array, without copying it."""
    from gensim.models import KeyedVectors

    kv = KeyedVectors(vector_size=vectors.shape[1], count=0, dtype=vectors.dtype)
    kv.index_to_key = list(words)
    kv.key_to_index = {word: i for i, word in enumerate(kv.index_to_key)}
    kv.vectors = vectors  # (n_words, d)
    kv.norms = None  # computed by gensim on first similarity query
    return kv


def _load_bundled():
    if not BUNDLED_PATH.is_file():
        raise EmbeddingsNotFoundError(
            f"The bundled vectors are missing from the package ({BUNDLED_PATH}); "
            "reinstall course-lib or run scripts/build_bundled_vectors.py."
        )
    with np.load(BUNDLED_PATH, allow_pickle=False) as data:
        words = data["words"].tolist()  # list of str
        vectors = data["vectors"].astype(np.float32)  # (n_words, 64), stored as float16
    if vectors.ndim != 2 or vectors.shape[0] != len(words):
        raise ValueError(f"Corrupt bundled table: {len(words)} words, vectors {vectors.shape}")
    return _make_keyed_vectors(words, vectors)


# ------------------------------------------------------------------ word2vec_sample


def _find_word2vec_sample():
    """Path of pruned.word2vec.txt if nltk can find it (honours NLTK_DATA), else None."""
    import nltk

    try:
        pointer = nltk.data.find(NLTK_RESOURCE)
    except LookupError:
        return None
    if isinstance(pointer, nltk.data.FileSystemPathPointer):
        return Path(pointer.path)
    # Found inside models/word2vec_sample.zip that was never unzipped: unzip it beside.
    import zipfile

    zip_path = Path(pointer.zipfile.filename)
    print(f"Unzipping {zip_path} (once) ...", flush=True)
    with zipfile.ZipFile(zip_path) as archive:
        archive.extractall(zip_path.parent)
    path = zip_path.parent / "word2vec_sample" / "pruned.word2vec.txt"
    return path if path.is_file() else None


def _not_found_message():
    return (
        "The word2vec_sample vectors (300-d, about 100 MB) are not on this machine.\n"
        "Download them once with\n"
        '    load_embeddings("word2vec_sample", download=True)\n'
        "or   python -m nltk.downloader word2vec_sample\n"
        "(set NLTK_DATA to choose the folder). No network? The default "
        'load_embeddings("bundled") works offline.'
    )


def _download_word2vec_sample():
    """Fetch word2vec_sample with nltk; fail fast and clearly, never hang."""
    import nltk

    print(
        "Downloading word2vec_sample with nltk (about 100 MB, once); progress below ...",
        flush=True,
    )
    previous_timeout = socket.getdefaulttimeout()
    socket.setdefaulttimeout(DOWNLOAD_TIMEOUT_S)
    try:
        ok = nltk.download(NLTK_PACKAGE, quiet=False, raise_on_error=True)
    except (OSError, ValueError) as err:  # URLError and timeouts are OSErrors
        raise EmbeddingsNotFoundError(
            f"Download of word2vec_sample failed: {err}\n"
            'Check the network, or use the offline vectors: load_embeddings("bundled").'
        ) from err
    finally:
        socket.setdefaulttimeout(previous_timeout)
    if not ok:
        raise EmbeddingsNotFoundError(
            "Download of word2vec_sample failed (nltk.download returned False).\n"
            'Check the network, or use the offline vectors: load_embeddings("bundled").'
        )


def _load_word2vec_sample(download):
    source = "word2vec_sample"
    # The file the cache was made from, if it is still there (this skips importing nltk);
    # otherwise ask nltk where the file is.
    text_path = _recorded_text_path(source)
    if text_path is None or not text_path.is_file():
        text_path = _find_word2vec_sample()
    if text_path is None:
        cached = _read_cache(source, text_path=None)
        if cached is not None:
            return cached
        if not download:
            raise EmbeddingsNotFoundError(_not_found_message())
        _download_word2vec_sample()
        text_path = _find_word2vec_sample()
        if text_path is None:
            raise EmbeddingsNotFoundError(
                "nltk reported success but word2vec_sample is still not found.\n"
                + _not_found_message()
            )
    cached = _read_cache(source, text_path=text_path)
    if cached is not None:
        return cached
    return _parse_and_cache(source, text_path)


def _parse_and_cache(source, text_path):
    from gensim.models import KeyedVectors

    print(f"Reading {text_path} (slow, only this once; later loads use a cache) ...", flush=True)
    kv = KeyedVectors.load_word2vec_format(str(text_path), binary=False)
    try:
        _write_cache(source, text_path, kv.index_to_key, kv.vectors)
    except OSError as err:  # e.g. read-only home: still usable, just not cached
        warnings.warn(f"Could not write the embeddings cache: {err}", RuntimeWarning, stacklevel=3)
    return kv


# ------------------------------------------------------------------------- the cache


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


def _cache_paths(source):
    folder = cache_dir()
    return {
        "vectors": folder / f"{source}.vectors.npy",
        "words": folder / f"{source}.words.txt",
        "meta": folder / f"{source}.meta.json",
    }


def _recorded_text_path(source):
    """The text file named in the cache's meta file, or None."""
    try:
        meta = json.loads(_cache_paths(source)["meta"].read_text(encoding="utf-8"))
        return Path(meta["text_path"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _sha256(buffer):
    return hashlib.sha256(buffer).hexdigest()


def _atomic_write(path, data):
    """Write to a temporary file in the same folder, then rename it over ``path``.

    ``data`` is bytes, or a function that writes to the open binary file.
    """
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            if callable(data):
                data(f)
            else:
                f.write(data)
            f.flush()
            os.fsync(f.fileno())
        # mkstemp makes the file private (0600); give it the usual mode for new files, so a
        # cache built once on a shared machine serves every user who may read the folder.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _write_cache(source, text_path, words, vectors):
    paths = _cache_paths(source)
    paths["meta"].parent.mkdir(parents=True, exist_ok=True)
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)  # (n_words, d)
    words_bytes = "\n".join(words).encode("utf-8")
    if any("\n" in word for word in words):
        raise OSError("a word contains a newline; not cacheable as a word list")
    stat = text_path.stat()
    meta = {
        "format": CACHE_FORMAT,
        "source": source,
        "text_path": str(text_path),
        "text_size": stat.st_size,
        "text_mtime_ns": stat.st_mtime_ns,
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


def _read_cache(source, text_path):
    """KeyedVectors from a valid cache, or None (missing, stale or damaged: then rebuilt).

    ``text_path`` None means the text file is gone; an intact cache is then still used.
    """
    paths = _cache_paths(source)
    if not paths["meta"].is_file():
        return None
    try:
        meta = json.loads(paths["meta"].read_text(encoding="utf-8"))
        if meta.get("format") != CACHE_FORMAT or meta.get("source") != source:
            raise ValueError("cache format or source differs")
        if text_path is not None:
            stat = text_path.stat()
            if (stat.st_size, stat.st_mtime_ns) != (meta["text_size"], meta["text_mtime_ns"]):
                return None  # the text file changed: stale, rebuild quietly
        words_bytes = paths["words"].read_bytes()
        if _sha256(words_bytes) != meta["words_sha256"]:
            raise ValueError("word list checksum differs")
        words = words_bytes.decode("utf-8").split("\n")
        vectors = np.load(paths["vectors"], mmap_mode="r", allow_pickle=False)  # (n, d)
        expected_shape = (meta["n_words"], meta["dim"])
        if vectors.shape != expected_shape or len(words) != meta["n_words"]:
            raise ValueError(f"shape {vectors.shape} / {len(words)} words, not {expected_shape}")
        if vectors.dtype != np.float32:
            raise ValueError(f"dtype {vectors.dtype}")
        if _sha256(memoryview(np.ascontiguousarray(vectors)).cast("B")) != meta["vectors_sha256"]:
            raise ValueError("vectors checksum differs")
    except (OSError, ValueError, KeyError, TypeError, UnicodeDecodeError) as err:
        if text_path is None:
            return None
        print(f"The embeddings cache in {paths['meta'].parent} is damaged ({err}); rebuilding.")
        return None
    return _make_keyed_vectors(words, vectors)


# ------------------------------------------------------------------------- sentences


@dataclass(frozen=True, eq=False)
class SentenceEmbedding:
    """A sentence as word vectors, with the words that had to be dropped.

    Attributes
    ----------
    words : list of str
        The words kept, in sentence order, spelled as in the vocabulary.
    vectors : ndarray of shape (len(words), d), float64
        One row per kept word.
    missing : list of str
        Tokens with no vector, in sentence order.
    tokens : list of str
        All tokens of the sentence, in order.
    """

    words: list
    vectors: np.ndarray
    missing: list
    tokens: list

    def __repr__(self):
        return (
            f"SentenceEmbedding(words={self.words!r}, vectors=<{self.vectors.shape[0]}x"
            f"{self.vectors.shape[1]}>, missing={self.missing!r})"
        )


def _is_separator(char):
    # Every Unicode punctuation character except "_" (word2vec joins phrases with it).
    return char != "_" and unicodedata.category(char).startswith("P")


_SEPARATORS = {}


def tokenize(sentence):
    """Split a sentence into words; punctuation separates words and is dropped.

    Like BERT's basic tokenizer, every punctuation character (any language) splits words,
    so ``"coke,"`` gives ``"coke"`` and ``"didn't"`` gives ``"didn", "t"``. The underscore is
    kept (word2vec phrases such as ``New_York``). Case is kept.

    Parameters
    ----------
    sentence : str

    Returns
    -------
    list of str

    Examples
    --------
    >>> tokenize("I drink coke, but eat steak!")
    ['I', 'drink', 'coke', 'but', 'eat', 'steak']
    >>> tokenize("...?!")
    []
    """
    if not isinstance(sentence, str):
        raise TypeError(f"sentence must be a str, not {type(sentence).__name__}")
    table = []
    for char in sentence:
        sep = _SEPARATORS.get(char)
        if sep is None:
            sep = _SEPARATORS[char] = _is_separator(char)
        table.append(" " if sep else char)
    return "".join(table).split()


def _lookup(kv, token):
    """The vocabulary spelling of ``token``: as typed, then lowercase, then capitalised."""
    for candidate in (token, token.lower(), token.capitalize()):
        if candidate in kv.key_to_index:
            return candidate
    return None


def _describe(words, limit=20):
    shown = ", ".join(repr(w) for w in words[:limit])
    return shown + (f" ... and {len(words) - limit} more" if len(words) > limit else "")


def embed_sentence(sentence, embeddings=None):
    """Turn a sentence into one vector per known word, and say which words were dropped.

    Each token is looked up as typed, then lowercase, then capitalised (word2vec_sample is
    case-sensitive, the bundled table is lowercase).

    Parameters
    ----------
    sentence : str
    embeddings : gensim KeyedVectors or str, optional
        The vectors to use, or a source name for ``load_embeddings``. Default: the bundled
        vectors.

    Returns
    -------
    SentenceEmbedding
        ``.words`` (list of str, length n), ``.vectors`` (ndarray of shape (n, d), float64),
        ``.missing`` and ``.tokens``.

    Raises
    ------
    ValueError
        The sentence is empty, only punctuation, or has no word in the vocabulary (the
        message names the unknown words).

    Examples
    --------
    >>> emb = embed_sentence("I drink coke, but eat steak")
    >>> emb.words
    ['i', 'drink', 'coke', 'but', 'eat', 'steak']
    >>> emb.vectors.shape
    (6, 64)
    >>> embed_sentence("steak and zzyzxq").missing
    ['zzyzxq']
    """
    if embeddings is None or isinstance(embeddings, str):
        embeddings = load_embeddings(embeddings or "bundled")
    tokens = tokenize(sentence)
    if not tokens:
        what = "empty" if not sentence.strip() else "only punctuation"
        raise ValueError(f"The sentence is {what}: there are no words to embed.")
    words, missing = [], []
    for token in tokens:
        found = _lookup(embeddings, token)
        if found is None:
            missing.append(token)
        else:
            words.append(found)
    if not words:
        raise ValueError(f"None of the words is in the vocabulary: {_describe(missing)}.")
    index = np.fromiter((embeddings.key_to_index[w] for w in words), dtype=np.intp)
    vectors = np.asarray(embeddings.vectors[index], dtype=np.float64)  # (n_words, d)
    return SentenceEmbedding(words=words, vectors=vectors, missing=missing, tokens=tokens)
