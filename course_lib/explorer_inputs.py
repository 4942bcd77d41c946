"""What the attention explorer is asked to show, checked: sentence, projection, query.

Plain functions, no widgets: each turns one input into what the explorer needs, or raises
:class:`InputProblem` with a message for the student (shortened when it echoes input).
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from course_lib.explorer_view import shorten

__all__ = ["InputProblem", "PROJECTIONS", "default_query", "embed_text", "project"]

PROJECTION_SEED = 0
PROJECTIONS = {
    "none": "Q = K = X (the word vectors)",
    "random": "random W_Q ≠ W_K",
    "shared": "one random W for both",
    "trained": "trained W_Q, W_K",
}


class InputProblem(ValueError):
    """Something the student chose or typed that cannot be shown (the message says why)."""


def divisor_range(d_k):
    """(min, max) exponents of 2 for the slider: 0.25 up to 8 * sqrt(d_k)."""
    return -2.0, round(math.log2(8.0 * math.sqrt(d_k)), 2)


def default_query(words, weights):
    """The row that shows the most: the word that puts the largest weight on another word.

    Words of three letters or more are preferred (when there is one), so that the row is not
    a pronoun's. For the default sentence this is "drink".
    """
    n = len(words)
    if n < 2:
        return 0
    others = np.where(np.eye(n, dtype=bool), -1.0, weights)  # (n, n), itself left out
    best = others.max(axis=1)
    candidates = [i for i, word in enumerate(words) if len(word) >= 3] or list(range(n))
    return max(candidates, key=lambda i: best[i])


def check_projections(projections):
    """None, or the pair (w_q, w_k) as float64 arrays of one shape (d, d_k); else ValueError."""
    if projections is None:
        return None
    try:
        w_q, w_k = projections
    except (TypeError, ValueError):
        raise ValueError("projections must be a pair (w_q, w_k) of arrays") from None
    w_q, w_k = np.asarray(w_q, dtype=np.float64), np.asarray(w_k, dtype=np.float64)
    if w_q.ndim != 2 or w_q.shape != w_k.shape:
        raise ValueError(
            f"w_q and w_k must be 2-D arrays of the same shape (d, d_k), got {w_q.shape} and "
            f"{w_k.shape}"
        )
    if not (np.isfinite(w_q).all() and np.isfinite(w_k).all()):
        raise ValueError("w_q and w_k must hold finite numbers (no NaN or inf)")
    return w_q, w_k


@lru_cache(maxsize=4)
def random_projections(d):
    """Seeded random W_Q and W_K of shape (d, d), entries N(0, 1/d) (lengths kept on average)."""
    rng = np.random.default_rng(PROJECTION_SEED)
    w_q, w_k = rng.standard_normal((2, d, d)) / math.sqrt(d)  # each (d, d)
    return w_q, w_k


def embed_text(text, kv, max_words):
    """(found, vectors) for ``text``: the words found, their vectors as float64 (n, d).

    Raises InputProblem for an empty or too long sentence, no known word, or a vector with
    NaN or inf (named, shortened).
    """
    from course_lib import embeddings as emb

    text = text or ""
    if not text.strip():
        raise InputProblem("The sentence box is empty: type a sentence and press Enter.")
    tokens = emb.tokenize(text)
    if not tokens:
        raise InputProblem("No words found: type some words, not only punctuation.")
    if len(tokens) > max_words:
        raise InputProblem(
            f"That is {len(tokens)} words; the explorer shows at most {max_words}. "
            "Please shorten the sentence."
        )
    try:
        found = emb.embed_sentence(text, kv)
    except ValueError as err:
        raise InputProblem(f"No word of this sentence can be used: {shorten(err, 200)}") from None
    vectors = np.asarray(found.vectors, dtype=np.float64)  # (n, d)
    bad = [w for w, row in zip(found.words, vectors, strict=True) if not np.isfinite(row).all()]
    if bad:
        named = ", ".join(repr(shorten(w)) for w in bad)
        raise InputProblem(f"The vector of {named} holds NaN or inf: it cannot be used.")
    return found, vectors


def project(projection, vectors, trained=None):
    """(queries, keys) for the chosen projection, each of shape (n, d_k)."""
    d = vectors.shape[1]
    if projection == "none":
        return vectors, vectors
    if projection in ("random", "shared"):
        w_q, w_k = random_projections(d)
        return vectors @ w_q, vectors @ (w_q if projection == "shared" else w_k)
    if projection == "trained" and trained is not None:
        w_q, w_k = trained
        if w_q.shape[0] != d:
            raise InputProblem(
                f"The trained projections expect {w_q.shape[0]}-dimensional word vectors; "
                f"these have {d}."
            )
        return vectors @ w_q, vectors @ w_k
    raise InputProblem(f"Unknown choice of queries and keys: {shorten(projection)!r}.")


def query_index(query, words):
    """The index of ``query`` (a word of ``words`` or an index into it)."""
    if isinstance(query, str) and query in words:
        return words.index(query)
    if isinstance(query, (int, np.integer)) and not isinstance(query, bool):
        if 0 <= query < len(words):
            return int(query)
    raise InputProblem(f"Choose a query word from the list, not {shorten(query)!r}.")
