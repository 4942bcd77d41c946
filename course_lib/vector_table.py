"""A small numpy-only table of word vectors, for where gensim cannot be installed.

In the JupyterLite site (Pyodide, ``sys.platform == "emscripten"``) there is no gensim, so
:func:`course_lib.embeddings.load_embeddings` returns a ``VectorTable`` instead of a gensim
``KeyedVectors``. It has the part of ``KeyedVectors`` (gensim 4) that the course uses, and it
follows gensim's rules for every call shape, so that a notebook never gets another answer in
the browser:

- a key is a word or a row number (``table[5]`` is the sixth word's vector, ``5 in table``
  is True if there are six words); ``table[[...]]`` stacks several;
- ``key_to_index``, ``index_to_key``, ``vectors`` (n_words, d), ``vector_size``,
  ``get_index``, ``get_vector`` (read-only, as gensim's), ``has_index_for``;
- ``similarity(w1, w2)``: cosine of the two vectors, a float32 like gensim's;
- ``most_similar(positive, negative, topn)``: the keys nearest (by cosine) to the weighted
  mean of the unit-length inputs, the inputs left out; inputs may be keys, vectors, or
  (key or vector, weight) pairs; ``topn`` below 1 gives ``[]`` and ``topn=None`` every
  cosine, as gensim does.

Where gensim would answer something odd (``True`` as a row number, ``similarity`` of lists
of words) or fail with an unclear error (``positive=[0.1, 0.2, ...]``), a ``VectorTable``
raises a ``TypeError`` that says what it takes. ``tests/test_vector_table.py`` drives both
with the same random calls on the bundled table.
"""

from numbers import Integral

import numpy as np

__all__ = ["VectorTable"]


def _unit(vector):
    """Return ``vector`` scaled to length 1 (unchanged if its length is 0), as gensim does."""
    length = np.linalg.norm(vector)
    return (vector / length).astype(vector.dtype) if length > 0 else vector


def _top(values, topn):
    """Return the indices of the ``topn`` largest ``values``, largest first (gensim's way)."""
    values = -np.asarray(values)
    if topn >= values.size:
        return np.argsort(values)[:topn]
    most = np.argpartition(values, topn)[:topn]
    return most.take(np.argsort(values.take(most)))


def _is_key(item):
    return isinstance(item, str | Integral) and not isinstance(item, bool)


def _as_list(value, name):
    """Return ``positive`` or ``negative`` as gensim reads it: a list of items."""
    if value is None:
        return []
    if _is_key(value) or (isinstance(value, np.ndarray) and value.ndim == 1):
        return [value]
    if isinstance(value, np.ndarray) and value.ndim == 2:
        return list(value)  # one vector per row
    if not isinstance(value, list):
        raise TypeError(
            f"{name} must be a word, a row number, a vector or a list of them, "
            f"not {type(value).__name__}"
        )
    return value


class VectorTable:
    """Word vectors in one numpy array, with gensim's lookup interface.

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
    >>> round(float(table.similarity("cat", "dog")), 3)
    0.8
    >>> [word for word, _ in table.most_similar("cat", topn=2)]
    ['dog', 'car']
    >>> table[["cat", "car"]].shape, table[1].tolist()
    ((2, 2), [0.8, 0.6])
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
        """Return the size of the table, not its contents."""
        return f"VectorTable({len(self.index_to_key)} words x {self.vector_size})"

    def __len__(self):
        """Return the number of words."""
        return len(self.index_to_key)

    def __contains__(self, key):
        """Return True if ``key`` is a word of the table or one of its row numbers."""
        return self.has_index_for(key)

    def has_index_for(self, key):
        """Return True if ``key`` is a word of the table or one of its row numbers."""
        return self.get_index(key, -1) >= 0

    def get_index(self, key, default=None):
        """Return the row of ``key`` (a word, or a row number given as is).

        Parameters
        ----------
        key : str or int
        default : int, optional
            Returned for a key that is not there; without it, a KeyError.

        Returns
        -------
        int
        """
        if isinstance(key, bool | np.bool_):
            raise TypeError(f"a key is a word or a row number, not {key!r}")
        index = self.key_to_index.get(key, -1)
        if index >= 0:
            return index
        if isinstance(key, Integral) and 0 <= key < len(self.index_to_key):
            return key
        if default is not None:
            return default
        raise KeyError(f"Key '{key}' not present")

    def get_vector(self, key, norm=False):
        """Return the vector of ``key``, shape (d,), read-only; of length 1 if ``norm``."""
        index = self.get_index(key)
        vector = self.vectors[index] / self._all_norms()[index] if norm else self.vectors[index]
        vector.setflags(write=False)  # as gensim: a view into the table is not for writing
        return vector

    def __getitem__(self, keys):
        """Return one vector (d,) for a key, or a stack (len(keys), d) for several."""
        if _is_key(keys) or isinstance(keys, bool | np.bool_):
            return self.get_vector(keys)
        if isinstance(keys, np.ndarray) and keys.ndim == 0 or not hasattr(keys, "__iter__"):
            raise TypeError(f"a key is a word or a row number, not {type(keys).__name__}")
        return np.vstack([self.get_vector(key) for key in keys])  # (len(keys), d)

    def similarity(self, w1, w2):
        """Return the cosine similarity of the vectors of two keys (float32, in [-1, 1])."""
        for key in (w1, w2):
            if not _is_key(key):
                raise TypeError(
                    f"similarity compares two words (or row numbers), not {type(key).__name__}"
                )
        return np.dot(_unit(self[w1]), _unit(self[w2]))

    def _all_norms(self):
        if self._norms is None:
            self._norms = np.linalg.norm(self.vectors, axis=1)  # (n_words,)
        return self._norms

    def _mean(self, keys, weights):
        """Return the unit-length weighted mean of the unit-length keys (vectors as given)."""
        if not keys:
            raise ValueError("most_similar needs at least one positive or negative word")
        total = np.zeros(self.vector_size, self.vectors.dtype)
        total_weight = 0
        for key, weight in zip(keys, weights, strict=True):
            if isinstance(key, np.ndarray):
                total += weight * key
            elif key in self:
                total += weight * self.get_vector(key, norm=True)
            else:
                raise KeyError(f"Key '{key}' not present in vocabulary")
            total_weight += abs(weight)
        if total_weight > 0:
            total = total / total_weight
        return _unit(total).astype(np.float32)

    def most_similar(self, positive=None, negative=None, topn=10):
        """Return the ``topn`` keys nearest by cosine to ``positive`` minus ``negative``.

        Parameters
        ----------
        positive, negative : key, ndarray of shape (d,), or list of keys, vectors or
            (key or vector, weight) pairs, optional
            What counts for (weight +1 unless given) and against (-1). Each key's vector is
            scaled to unit length, vectors are used as given; the weighted mean is scaled to
            unit length, as in gensim.
        topn : int or None, default 10
            How many keys. Below 1: ``[]``. None: the cosine of every key, in table order.

        Returns
        -------
        list of (str, float), or ndarray of shape (n_words,) when ``topn`` is None
            Keys and their cosine with the mean, highest first; keys given as input are
            left out.

        Raises
        ------
        TypeError
            ``topn`` is not a whole number or None, or an input is not a key, a vector or a
            (key, weight) pair.
        KeyError
            A word is not in the table.
        ValueError
            No input, or a vector of another size than the table's.
        """
        if isinstance(topn, Integral) and topn < 1:
            return []
        if topn is not None and not isinstance(topn, Integral):
            raise TypeError(f"topn must be a whole number or None, not {topn!r}")
        positive, negative = _as_list(positive, "positive"), _as_list(negative, "negative")
        items = positive + negative
        weights = np.concatenate([np.ones(len(positive)), -np.ones(len(negative))])  # float64
        keys = []
        for i, item in enumerate(items):
            if _is_key(item) or isinstance(item, np.ndarray):
                keys.append(item)
            elif isinstance(item, tuple | list) and len(item) == 2:
                keys.append(item[0])
                weights[i] = item[1]
            else:
                raise TypeError(
                    "most_similar takes words, row numbers, vectors of shape "
                    f"({self.vector_size},) or (key, weight) pairs, not {type(item).__name__}"
                )
        mean = self._mean(keys, weights)
        given = {self.get_index(key) for key in keys if _is_key(key) and key in self}
        with np.errstate(invalid="ignore", divide="ignore"):  # a zero vector: NaN, ranked last
            cosines = (self.vectors @ mean) / self._all_norms()  # (n_words,)
        if not topn:
            return cosines
        best = _top(cosines, topn + len(given))
        return [(self.index_to_key[i], float(cosines[i])) for i in best if i not in given][:topn]
