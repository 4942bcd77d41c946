"""A small numpy-only table of word vectors, for where gensim cannot be installed.

In the JupyterLite site (Pyodide, ``sys.platform == "emscripten"``) there is no gensim, so
the bundled vectors load into a ``VectorTable`` instead of a gensim ``KeyedVectors``. It has
the part of ``KeyedVectors`` that the course uses, computed the way gensim computes it:

- ``table["coke"]`` (one vector) and ``table[["eat", "drink"]]`` (a stack of them), ``in``;
- ``key_to_index``, ``index_to_key``, ``vectors`` (n_words, d), ``vector_size``,
  ``get_index``, ``get_vector``;
- ``similarity(w1, w2)``: cosine of the two vectors;
- ``most_similar(positive=..., negative=..., topn=10)``: the words nearest (by cosine) to
  the mean of the unit-length inputs, the inputs themselves left out.

Everywhere else gensim stays the one implementation; ``tests/test_vector_table.py`` checks
that the two agree on the bundled table.
"""

import numpy as np

__all__ = ["VectorTable"]


def _unit(vector):
    """``vector`` scaled to length 1 (unchanged if it is all zeros), as float32 like gensim."""
    vector = np.asarray(vector, dtype=np.float32)
    norm = np.linalg.norm(vector)
    return vector / norm if norm > 0 else vector


class VectorTable:
    """Word vectors in one numpy array, with a gensim-like lookup interface.

    Parameters
    ----------
    words : list of str
        The vocabulary, in the order of the rows of ``vectors``; no duplicates.
    vectors : ndarray of shape (n_words, d)
        One row per word. Kept as given (not copied) when it is already a 2-d float array.

    Raises
    ------
    ValueError
        ``vectors`` is not 2-d, its row count differs from the number of words, or a word
        appears twice.

    Examples
    --------
    >>> table = VectorTable(["cat", "dog", "car"], np.array([[1.0, 0.0], [0.8, 0.6], [0.0, 1.0]]))
    >>> "dog" in table, table.vector_size, table.get_index("car")
    (True, 2, 2)
    >>> round(table.similarity("cat", "dog"), 3)
    0.8
    >>> [word for word, _ in table.most_similar("cat", topn=2)]
    ['dog', 'car']
    >>> table[["cat", "car"]].shape
    (2, 2)
    """

    def __init__(self, words, vectors):
        vectors = np.asarray(vectors)
        if not np.issubdtype(vectors.dtype, np.floating):
            vectors = vectors.astype(np.float32)
        words = list(words)
        if vectors.ndim != 2:
            raise ValueError(f"vectors must be 2-d (n_words, d), got shape {vectors.shape}")
        if vectors.shape[0] != len(words):
            raise ValueError(
                f"{len(words)} words but vectors of shape {vectors.shape}: "
                "one row per word is needed"
            )
        key_to_index = {word: i for i, word in enumerate(words)}
        if len(key_to_index) != len(words):
            seen, twice = set(), []
            for word in words:
                if word in seen:
                    twice.append(word)
                seen.add(word)
            raise ValueError(f"words must be unique; repeated: {twice[:5]!r}")
        self.index_to_key = words
        self.key_to_index = key_to_index
        self.vectors = vectors  # (n_words, d)
        self.vector_size = vectors.shape[1]
        self._norms = None  # (n_words,), computed on the first similarity query

    def __repr__(self):
        return f"VectorTable({len(self.index_to_key)} words x {self.vector_size})"

    def __len__(self):
        return len(self.index_to_key)

    def __contains__(self, word):
        return word in self.key_to_index

    def has_index_for(self, word):
        """True if ``word`` is in the table (gensim's name for ``word in table``)."""
        return word in self.key_to_index

    def get_index(self, word):
        """Row number of ``word``; a ``KeyError`` naming it if it is not in the table."""
        try:
            return self.key_to_index[word]
        except (KeyError, TypeError):
            raise KeyError(f"Key {word!r} not present") from None

    def get_vector(self, word, norm=False):
        """The vector of ``word``, shape (d,); of length 1 when ``norm`` is True."""
        vector = self.vectors[self.get_index(word)]
        return _unit(vector) if norm else vector

    def __getitem__(self, words):
        """One vector (d,) for a word, or a stack (len(words), d) for a list of words."""
        if isinstance(words, str):
            return self.get_vector(words)
        index = np.array([self.get_index(word) for word in words], dtype=np.intp)
        return self.vectors[index]  # (len(words), d)

    def similarity(self, w1, w2):
        """Cosine similarity of the vectors of ``w1`` and ``w2`` (a float in [-1, 1])."""
        return float(np.dot(_unit(self[w1]), _unit(self[w2])))

    def _all_norms(self):
        if self._norms is None:
            self._norms = np.linalg.norm(self.vectors, axis=1)  # (n_words,)
        return self._norms

    def most_similar(self, positive=None, negative=None, topn=10):
        """The ``topn`` words nearest by cosine to ``positive`` minus ``negative``.

        Parameters
        ----------
        positive, negative : str, ndarray of shape (d,), or list of them, optional
            Words (or vectors) that count for (+1) and against (-1). Each word's vector is
            scaled to unit length, the weighted mean is taken and scaled to unit length
            again, as in gensim.
        topn : int, default 10

        Returns
        -------
        list of (str, float)
            Words and their cosine with the mean, highest first; words given as input are
            left out.
        """
        if isinstance(positive, (str, np.ndarray)):
            positive = [positive]
        if isinstance(negative, (str, np.ndarray)):
            negative = [negative]
        keys = [(key, 1.0) for key in (positive or [])]
        keys += [(key, -1.0) for key in (negative or [])]
        if not keys:
            raise ValueError("most_similar needs at least one positive or negative word")
        if not isinstance(topn, int) or isinstance(topn, bool) or topn < 1:
            raise ValueError(f"topn must be a positive integer, got {topn!r}")
        total = np.zeros(self.vector_size, dtype=np.float32)
        given = set()
        for key, weight in keys:
            if isinstance(key, str):
                given.add(self.get_index(key))
                total += weight * _unit(self.vectors[self.get_index(key)])
            else:  # a vector is used as given, as gensim does; the mean is normalised below
                total += weight * np.asarray(key, dtype=np.float32)
        mean = _unit(total / len(keys))
        with np.errstate(invalid="ignore", divide="ignore"):
            cosines = (self.vectors @ mean) / self._all_norms()  # (n_words,)
        cosines = np.nan_to_num(cosines, nan=-np.inf)
        wanted = min(topn + len(given), len(cosines))
        best = np.argpartition(-cosines, wanted - 1)[:wanted]
        best = best[np.argsort(-cosines[best], kind="stable")]
        result = [(self.index_to_key[i], float(cosines[i])) for i in best if i not in given]
        return result[:topn]
