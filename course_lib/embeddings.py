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
  list, never pickle) loads it in a fraction of a second. Finding, downloading and parsing it
  live in :mod:`course_lib.word2vec_sample`, the cache in :mod:`course_lib.word2vec_cache`.

In the browser (JupyterLite, ``sys.platform == "emscripten"``) there is no gensim: the
bundled table comes as a :class:`course_lib.vector_table.VectorTable` with the same interface
the course uses, and ``"word2vec_sample"`` is not offered.

``embed_sentence`` splits a sentence into words, looks each one up and reports the words it
had to drop, so a plot never labels a row with a word that has no vector.

Heavy libraries (gensim, platformdirs) are imported inside the functions that use them;
importing this module downloads nothing.
"""

import sys
import threading
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from course_lib import word2vec_sample as _w2v
from course_lib.word2vec_cache import cache_dir
from course_lib.word2vec_sample import DamagedDownloadError, EmbeddingsNotFoundError

__all__ = [
    "EmbeddingsNotFoundError",
    "DamagedDownloadError",
    "SentenceEmbedding",
    "available_sources",
    "cache_dir",
    "load_embeddings",
    "tokenize",
    "embed_sentence",
]

SOURCES = ("bundled", "word2vec_sample")
BUNDLED_PATH = Path(__file__).resolve().parent / "data" / "bundled_vectors.npz"

_LOADED = {}  # source -> KeyedVectors, one per process
_LOCK = threading.RLock()


def _in_browser():
    return sys.platform == "emscripten"


# --------------------------------------------------------------------------- loading


def available_sources():
    """Names of the embedding sources that can be loaded now, without a download.

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
    if not _in_browser() and _w2v.is_available():
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
        (43,981 words, case-sensitive), found in nltk's data folders (``NLTK_DATA`` first).
    download : bool, default False
        Only for ``"word2vec_sample"``: if it is missing (or its zip is damaged), fetch it
        (a progress line every tenth of the file) into the first writable nltk data folder.
        Every network operation times out after
        ``course_lib.word2vec_sample.DOWNLOAD_TIMEOUT_S`` (20 s), so a network that never
        answers fails within a minute. ``$COURSE_LIB_WORD2VEC_URL`` sets another address.

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
        gives its path, to delete.

    Notes
    -----
    The first load of ``"word2vec_sample"`` parses the text file (slow, once) and writes a
    cache under ``$COURSE_LIB_CACHE`` or the user cache directory: ``<name>.vectors.npy``,
    ``<name>.words.txt`` and ``<name>.meta.json``. The cache is used only for the text file
    it was made from (same path, size and modification time); a damaged or stale cache is
    rebuilt, never trusted, and only regular files are opened. If no text file is found
    any more, an intact cache is still used. See :mod:`course_lib.word2vec_cache`.

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
            elif _in_browser():
                raise EmbeddingsNotFoundError(
                    "word2vec_sample (about 100 MB, parsed with gensim) needs a local or Binder "
                    "kernel; it cannot load in the browser. Here use the bundled vectors: "
                    'load_embeddings("bundled").'
                )
            else:
                _LOADED[source] = _make_keyed_vectors(*_w2v.load(download_if_missing=download))
        return _LOADED[source]


def _make_keyed_vectors(words, vectors):
    """A KeyedVectors around an existing (n_words, d) array, without copying it.

    gensim's everywhere, except in the browser (no gensim there): a VectorTable.
    """
    if _in_browser():
        from course_lib.vector_table import VectorTable

        return VectorTable(list(words), vectors)
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
