"""Where the word vectors come from: each source read from disk into plain arrays.

:func:`read_source` gives a source's ``(words, vectors)`` as fresh numpy arrays, without
gensim: the bundled table from the package's ``.npz`` file (no pickle), word2vec_sample
through :mod:`course_lib.word2vec_sample`. :class:`LookupTable` holds them read-only for
looking words up; :func:`make_keyed_vectors` wraps them in gensim's ``KeyedVectors`` (a
:class:`course_lib.vector_table.VectorTable` in the browser). The memoised front door,
:mod:`course_lib.embeddings`, decides which of the two a caller gets.
"""

import sys
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

import numpy as np

from course_lib import word2vec_sample as _w2v
from course_lib.word2vec_sample import EmbeddingsNotFoundError

__all__ = [
    "BUNDLED_PATH",
    "SOURCES",
    "LookupTable",
    "in_browser",
    "make_keyed_vectors",
    "read_source",
]

SOURCES = ("bundled", "word2vec_sample")
BUNDLED_PATH = Path(__file__).resolve().parent / "data" / "bundled_vectors.npz"


def in_browser():
    """Return True in the JupyterLite site (Pyodide), where gensim cannot be installed."""
    return sys.platform == "emscripten"


@dataclass(frozen=True, eq=False, repr=False)
class LookupTable:
    """A read-only table of word vectors for looking words up, in numpy alone.

    What :func:`course_lib.embeddings.embed_sentence` and the explorers use: the same
    words and vectors as :func:`course_lib.embeddings.load_embeddings` gives, without
    gensim (importing gensim takes longer than everything else the first picture needs).
    Build it with :func:`course_lib.embeddings.lookup_table`.

    Attributes
    ----------
    index_to_key : tuple of str
        The words, in the order of the rows of ``vectors``.
    key_to_index : mapping of str to int
        Row of each word (read-only).
    vectors : ndarray of shape (n_words, d), float32
        One row per word (read-only: ``vectors.flags.writeable`` is False).
    """

    index_to_key: tuple
    key_to_index: MappingProxyType
    vectors: np.ndarray

    @property
    def vector_size(self):
        """Return the size ``d`` of each vector."""
        return self.vectors.shape[1]

    def __len__(self):
        """Return the number of words."""
        return len(self.index_to_key)

    def __contains__(self, word):
        """Return True if ``word`` is in the table (exactly as spelled)."""
        return word in self.key_to_index

    def __repr__(self):
        """Return the size of the table, not its contents."""
        return f"LookupTable({len(self)} words x {self.vector_size})"


def read_source(source, download=False):
    """Read ``(words, vectors)`` of ``source`` from disk: fresh arrays, writable, no gensim."""
    if source == "bundled":
        return _read_bundled()
    if in_browser():
        raise EmbeddingsNotFoundError(
            "word2vec_sample (about 140 MB of text) needs a local or Binder kernel; it cannot "
            'load in the browser. Here use the bundled vectors: load_embeddings("bundled").'
        )
    return _w2v.load(download=download)


def make_keyed_vectors(words, vectors):
    """Wrap an (n_words, d) array, without copying it, in gensim's KeyedVectors.

    In the browser (no gensim there): a VectorTable.
    """
    if in_browser():
        from course_lib.vector_table import VectorTable

        return VectorTable(list(words), vectors)
    from gensim.models import KeyedVectors

    kv = KeyedVectors(vector_size=vectors.shape[1], count=0, dtype=vectors.dtype)
    kv.index_to_key = list(words)
    kv.key_to_index = {word: i for i, word in enumerate(kv.index_to_key)}
    kv.vectors = vectors  # (n_words, d)
    kv.norms = None  # computed by gensim on first similarity query
    return kv


def _read_bundled():
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
    return words, vectors
