"""Word vectors for the course: load a table of embeddings, turn a sentence into vectors.

Two sources:

- ``"bundled"`` (default): 21,745 English words x 64 dimensions, shipped inside the package
  (``course_lib/data/bundled_vectors.npz``, about 3 MB). Works offline. Made from the
  all-MiniLM-L6-v2 sentence encoder by ``scripts/build_bundled_vectors.py``; see the NOTICE
  file beside it.
- ``"word2vec_sample"``: the 300-d sample of Google News word2vec (43,981 words) that nltk
  distributes. ``load_embeddings("word2vec_sample", download=True)`` fetches it once. The
  text file is parsed only the first time; then a fast cache (plain numpy arrays plus a word
  list, never pickle) loads it in a fraction of a second. Finding and unzipping it live in
  :mod:`course_lib.word2vec_sample`, the download in :mod:`course_lib.word2vec_download`,
  the parser in :mod:`course_lib.word2vec_text`, the cache in
  :mod:`course_lib.word2vec_cache`.

Two ways to hold them, both memoised here and read from disk by
:mod:`course_lib.word_tables`. :func:`load_embeddings` gives gensim's ``KeyedVectors``
(``kv["coke"]``, ``kv.similarity``, ``kv.most_similar``), the object a student explores.
:func:`lookup_table` gives a read-only :class:`LookupTable` in numpy alone: what
:func:`embed_sentence` and the explorers use, so the first picture never waits for gensim.

In the browser (JupyterLite, ``sys.platform == "emscripten"``) there is no gensim:
:func:`load_embeddings` returns a :class:`course_lib.vector_table.VectorTable` with
gensim's interface, and ``"word2vec_sample"`` is not offered.

``embed_sentence`` splits a sentence into words, looks each one up and reports the words it
had to drop, so a plot never labels a row with a word that has no vector.

Heavy libraries (gensim, platformdirs) are imported inside the functions that use them;
importing this module downloads nothing.
"""

import threading
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np

from course_lib import word2vec_sample as _w2v
from course_lib.word2vec_cache import cache_dir
from course_lib.word2vec_sample import DamagedDownloadError, EmbeddingsNotFoundError
from course_lib.word_tables import (
    SOURCES,
    LookupTable,
    in_browser,
    make_keyed_vectors,
    read_source,
)

__all__ = [
    "EmbeddingsNotFoundError",
    "DamagedDownloadError",
    "LookupTable",
    "SentenceEmbedding",
    "available_sources",
    "cache_dir",
    "load_embeddings",
    "lookup_table",
    "tokenize",
    "embed_sentence",
]

_TABLES = {}  # source -> LookupTable (numpy only), one per process
_LOADED = {}  # source -> KeyedVectors (gensim's), one per process
_LOCK = threading.RLock()


def _check_source(source):
    if not isinstance(source, str) or source not in SOURCES:
        raise ValueError(f"Unknown source {source!r}; choose one of {list(SOURCES)}")


def available_sources():
    """Return the names of the embedding sources that can be loaded now, without a download.

    Returns
    -------
    list of str
        ``"bundled"`` first (always there), then ``"word2vec_sample"`` if its text file, an
        intact downloaded zip of it, or an intact fast cache of it is on this machine (never
        in the browser). Never downloads anything and never raises: a damaged download is
        simply not listed.

    Examples
    --------
    >>> available_sources()[0]
    'bundled'
    """
    sources = ["bundled"]
    if not in_browser() and _w2v.is_available():
        sources.append("word2vec_sample")
    return sources


def lookup_table(source="bundled"):
    """Return the words and vectors of ``source`` as a read-only :class:`LookupTable`.

    Memoised per process. Unlike :func:`load_embeddings` it never imports gensim and never
    downloads: ``"word2vec_sample"`` must be on this machine already.

    Parameters
    ----------
    source : {"bundled", "word2vec_sample"}, default "bundled"

    Returns
    -------
    LookupTable
        ``.vectors`` has shape (n_words, d), float32, read-only.

    Raises
    ------
    ValueError
        Unknown ``source``, or a damaged word2vec text file (named, with its line).
    EmbeddingsNotFoundError
        ``"word2vec_sample"`` is not on this machine (or this is the browser).

    Examples
    --------
    >>> table = lookup_table()
    >>> table.vectors.shape, "steak" in table
    ((21745, 64), True)
    >>> lookup_table("bundled") is table
    True
    """
    _check_source(source)
    with _LOCK:
        if source not in _TABLES:
            words, vectors = read_source(source, download=False)
            vectors = vectors.view()  # a view: the flag below does not touch the caller's
            vectors.flags.writeable = False
            words = tuple(words)
            index = MappingProxyType({word: i for i, word in enumerate(words)})
            _TABLES[source] = LookupTable(words, index, vectors)
        return _TABLES[source]


def load_embeddings(source="bundled", *, download=False):
    """Load a table of word vectors as a gensim ``KeyedVectors``.

    The result is memoised: a second call with the same ``source`` in the same process
    returns the same object at once. Its vectors are the student's to change
    (``kv.unit_normalize_all()`` works): they are not shared with :func:`embed_sentence`'s
    default table.

    Parameters
    ----------
    source : {"bundled", "word2vec_sample"}, default "bundled"
        ``"bundled"``: 64-d vectors for 21,745 lowercase English words, shipped with the
        package, offline. ``"word2vec_sample"``: 300-d Google News word2vec sample
        (43,981 words, case-sensitive), found in nltk's data folders (``NLTK_DATA`` first).
    download : bool, default False
        Only for ``"word2vec_sample"``: if it is missing or its zip is damaged, fetch it
        (49.4 MB) into the first writable nltk data folder, with a progress line every few
        seconds. A download always ends: it fails if the server is silent for
        ``DOWNLOAD_TIMEOUT_S`` (20 s), sends its headers too slowly, stays below
        ``MIN_RATE_BYTES_S`` (30 kB/s) for ``MIN_RATE_WINDOW_S`` (60 s), takes longer than
        ``DOWNLOAD_DEADLINE_S`` (30 minutes), or sends more than twice the expected file.
        Each limit is a constant of :mod:`course_lib.word2vec_download` that you may set
        before loading (the size cap is ``course_lib.word2vec_sample.MAX_ZIP_BYTES``).
        ``$COURSE_LIB_WORD2VEC_URL`` sets another address.

    Returns
    -------
    gensim.models.KeyedVectors
        ``kv.vectors`` is an ndarray of shape (n_words, d), float32; ``kv[word]`` has
        shape (d,). In the browser: a ``VectorTable`` with the same interface.

    Raises
    ------
    ValueError
        Unknown ``source``, or a word2vec text file that is damaged (the message names the
        file and the line).
    EmbeddingsNotFoundError
        ``"word2vec_sample"`` is missing and ``download`` is False, the download failed,
        or this is the browser (it needs a local or Binder kernel).
    DamagedDownloadError
        A subclass of EmbeddingsNotFoundError: the downloaded zip is damaged; the message
        names it and says what to do (``download=True`` replaces it).

    Notes
    -----
    The first load of ``"word2vec_sample"`` parses the text file (slow, once) and writes a
    cache under ``$COURSE_LIB_CACHE`` or the user cache directory: ``<name>.vectors.npy``,
    ``<name>.words.txt`` and ``<name>.meta.json``. The cache is used only for the text file
    it was made from (same path, size and modification time); a damaged or stale cache is
    rebuilt, never trusted, and only regular files are opened. If no text file is found
    any more, an intact cache is still used. Its vectors are mapped copy-on-write: you may
    change them in memory, the file stays as it is. See :mod:`course_lib.word2vec_cache`.

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
    _check_source(source)
    if not isinstance(download, bool | np.bool_):
        raise TypeError(f"download must be True or False, got {download!r}")
    with _LOCK:
        if source not in _LOADED:
            table = _TABLES.get(source)
            if table is not None:  # already read once: copy it rather than read it again
                words, vectors = list(table.index_to_key), np.array(table.vectors)
            else:
                words, vectors = read_source(source, download=bool(download))
            _LOADED[source] = make_keyed_vectors(words, vectors)
        return _LOADED[source]


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
        """Return the words and the vectors' shape (not the numbers)."""
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
    """Return the vocabulary spelling of ``token``: as typed, lowercase, or capitalised."""
    for candidate in (token, token.lower(), token.capitalize()):
        if candidate in kv.key_to_index:
            return candidate
    return None


def _describe(words, limit=20):
    shown = ", ".join(repr(w) for w in words[:limit])
    return shown + (f" ... and {len(words) - limit} more" if len(words) > limit else "")


def _as_table(embeddings):
    """Return what ``embeddings`` names or is: anything with ``key_to_index`` and ``vectors``."""
    if embeddings is None:
        return lookup_table("bundled")
    if isinstance(embeddings, str):
        return lookup_table(embeddings)
    index = getattr(embeddings, "key_to_index", None)
    vectors = getattr(embeddings, "vectors", None)
    if not isinstance(index, Mapping) or getattr(vectors, "ndim", None) != 2:
        raise TypeError(
            f"embeddings must be a source name {list(SOURCES)}, a table of word vectors "
            f"(from load_embeddings or lookup_table) or None, not {type(embeddings).__name__}"
        )
    return embeddings


def embed_sentence(sentence, embeddings=None):
    """Turn a sentence into one vector per known word, and say which words were dropped.

    Each token is looked up as typed, then lowercase, then capitalised (word2vec_sample is
    case-sensitive, the bundled table is lowercase).

    Parameters
    ----------
    sentence : str
    embeddings : str, KeyedVectors or LookupTable, optional
        A source name (``"bundled"`` or ``"word2vec_sample"``, looked up with
        :func:`lookup_table`, without gensim), or a table of word vectors such as
        :func:`load_embeddings` returns. Default: the bundled vectors.

    Returns
    -------
    SentenceEmbedding
        ``.words`` (list of str, length n), ``.vectors`` (ndarray of shape (n, d), float64),
        ``.missing`` and ``.tokens``.

    Raises
    ------
    TypeError
        ``sentence`` is not a str, or ``embeddings`` is neither a source name nor a table.
    ValueError
        The sentence is empty, only punctuation, or has no word in the vocabulary (the
        message names the unknown words); or an unknown source name.

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
    tokens = tokenize(sentence)
    table = _as_table(embeddings)
    if not tokens:
        what = "empty" if not sentence.strip() else "only punctuation"
        raise ValueError(f"The sentence is {what}: there are no words to embed.")
    words, missing = [], []
    for token in tokens:
        found = _lookup(table, token)
        if found is None:
            missing.append(token)
        else:
            words.append(found)
    if not words:
        raise ValueError(f"None of the words is in the vocabulary: {_describe(missing)}.")
    index = np.fromiter((table.key_to_index[w] for w in words), dtype=np.intp)
    vectors = np.asarray(table.vectors[index], dtype=np.float64)  # (n_words, d)
    return SentenceEmbedding(words=words, vectors=vectors, missing=missing, tokens=tokens)
