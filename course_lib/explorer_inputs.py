"""What an explorer is asked to show, checked: arguments, typed text, chosen values.

Plain functions, no widgets (this module imports without ipywidgets). Each check turns one
input into the value the explorer uses, or raises: :class:`InputProblem` (a ``ValueError``)
with a message written for the student, shortened when it echoes what was typed, or a
``TypeError`` for a value of the wrong kind. The explorers call each check once per change
(from their traitlets validators) and show the message in the widget when the change came
from a control.
"""

from __future__ import annotations

import math
import numbers
from functools import lru_cache

import numpy as np

__all__ = [
    "InputProblem",
    "PROJECTIONS",
    "check_choice",
    "check_divisor",
    "check_attention_arguments",
    "check_trained_projections",
    "check_whole",
    "default_query",
    "divisor_range",
    "embed_text",
    "embedding_tables",
    "find_query",
    "missing_note",
    "project",
    "shorten",
]

PROJECTION_SEED = 0
PROJECTIONS = {
    "none": "Q = K = X (the word vectors)",
    "random": "random W_Q ≠ W_K",
    "shared": "one random W for both",
    "trained": "trained W_Q, W_K",
}


class InputProblem(ValueError):
    """Something chosen or typed that cannot be shown (the message says why)."""


def shorten(text, limit=40):
    """Return ``text`` cut to ``limit`` characters, saying how long it was (for echoing).

    Examples
    --------
    >>> shorten("steak")
    'steak'
    >>> shorten("x" * 100, limit=5)
    'xxxxx… (100 characters)'
    """
    text = str(text)
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text)} characters)"


def check_divisor(value):
    """Return ``value`` as a float if it is a finite number above 0, else raise.

    Examples
    --------
    >>> check_divisor(8)
    8.0
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"The divisor must be a number, not {shorten(repr(value))}.")
    if not (math.isfinite(value) and value > 0):
        raise InputProblem(f"The divisor must be a positive number, not {shorten(value)}.")
    return float(value)


def check_whole(value, what, low, high=None):
    """Return ``value`` as an int if it is a whole number from ``low`` to ``high``, else raise.

    Examples
    --------
    >>> check_whole(np.int64(3), "seed", 0)
    3
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{what} must be a whole number, not {shorten(repr(value))}")
    if value < low or (high is not None and value > high):
        allowed = f"at least {low}" if high is None else f"from {low} to {high}"
        raise InputProblem(f"{what} must be {allowed}, not {value}")
    return int(value)


def check_choice(value, choices, what):
    """Return ``value`` if it is one of ``choices``, else raise a message naming them.

    Examples
    --------
    >>> check_choice("fixed", ("fixed", "stretch"), "colour_scale")
    'fixed'
    """
    if isinstance(value, str) and value in choices:
        return value
    allowed = ", ".join(repr(choice) for choice in choices)
    raise InputProblem(f"{what} must be one of {allowed}, not {shorten(repr(value))}")


def check_attention_arguments(sentence, embeddings, projections, divisor, query, max_words):
    """Check the attention explorer's arguments; return (projections, divisor, max_words).

    ``projections`` comes back as a float64 pair or None (:func:`check_trained_projections`).
    Raises TypeError for a value of the wrong kind, ValueError for a wrong value.
    """
    if not isinstance(sentence, str):
        raise TypeError(f"sentence must be a str, not {type(sentence).__name__}")
    is_table = hasattr(embeddings, "vector_size") and hasattr(embeddings, "key_to_index")
    if not (embeddings is None or isinstance(embeddings, str) or is_table):
        raise TypeError(
            "embeddings must be None, a source name such as 'bundled', or a table of word "
            f"vectors (gensim KeyedVectors), not {type(embeddings).__name__}"
        )
    if query is not None and not isinstance(query, (str, numbers.Integral)):
        raise TypeError(f"query must be a word or an index, not {type(query).__name__}")
    divisor = None if divisor is None else check_divisor(divisor)
    return check_trained_projections(projections), divisor, check_whole(max_words, "max_words", 1)


def embedding_tables(embeddings):
    """Return (source, {source: table}, sources) for the explorer's ``embeddings`` argument.

    None or a source name: that source's :func:`course_lib.embeddings.lookup_table` and every
    source available now. A table of vectors: source None and no other choice.
    """
    from course_lib import embeddings as emb

    if embeddings is not None and not isinstance(embeddings, str):
        return None, {None: embeddings}, [None]
    source = embeddings or "bundled"
    tables = {source: emb.lookup_table(source)}
    sources = list(emb.available_sources())
    if source not in sources:  # loaded above, so it works here
        sources.insert(0, source)
    return source, tables, sources


def missing_note(missing):
    """Return the status note listing the words not in the vocabulary ("" for none)."""
    if not missing:
        return ""
    listed = ", ".join(repr(shorten(word)) for word in missing[:10])
    more = f" and {len(missing) - 10} more" if len(missing) > 10 else ""
    return f"Not in the vocabulary, so not shown: {listed}{more}."


def check_trained_projections(projections):
    """Return None, or the pair (w_q, w_k) as float64 arrays of one shape (d, d_k)."""
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


def divisor_range(d_k, divisor=None):
    """Return the slider's (min, max) exponents of 2: 0.25 up to 8 * sqrt(d_k) (or divisor)."""
    high = 8.0 * math.sqrt(d_k)
    if divisor is not None:
        high = max(high, divisor)
    return -2.0, math.ceil(100 * math.log2(high)) / 100


def default_query(words, weights):
    """Return the row that shows the most: the word putting the largest weight on another.

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


def find_query(query, words):
    """Return the index of ``query``: a word of ``words`` (its first place) or an index."""
    if isinstance(query, str) and query in words:
        return words.index(query)
    if isinstance(query, numbers.Integral) and not isinstance(query, bool):
        if 0 <= query < len(words):
            return int(query)
    raise InputProblem(f"Choose a query word from the list, not {shorten(repr(query))}.")


def embed_text(text, embeddings, max_words):
    """Return (found, vectors) for ``text``: the words found, their vectors (n, d) float64.

    Raises InputProblem for an empty or too long sentence, no known word, or a vector with
    NaN or inf (named, shortened).
    """
    from course_lib import embeddings as emb

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
        found = emb.embed_sentence(text, embeddings)
    except ValueError as err:
        raise InputProblem(f"No word of this sentence can be used: {shorten(err, 200)}") from None
    vectors = np.asarray(found.vectors, dtype=np.float64)  # (n, d)
    bad = [w for w, row in zip(found.words, vectors, strict=True) if not np.isfinite(row).all()]
    if bad:
        named = ", ".join(repr(shorten(w)) for w in bad)
        raise InputProblem(f"The vector of {named} holds NaN or inf: it cannot be used.")
    return found, vectors


@lru_cache(maxsize=4)
def _random_pair(d):
    from course_lib.training import random_projections

    return random_projections(d, d, seed=PROJECTION_SEED)  # each (d, d)


def project(projection, vectors, trained=None):
    """Return (queries, keys) for the chosen projection, each of shape (n, d_k)."""
    d = vectors.shape[1]
    if projection == "none":
        return vectors, vectors
    if projection in ("random", "shared"):
        w_q, w_k = _random_pair(d)
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
