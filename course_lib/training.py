"""Learning the projections W_Q and W_K by gradient descent, in plain numpy (notebook 04).

The model is one attention layer without its values. A sentence's word vectors ``x``
(seq_len, d) are projected to queries and keys,

    queries = x @ w_q          (seq_len, d_k)
    keys    = x @ w_k          (seq_len, d_k)
    scores  = queries @ keys.T / sqrt(d_k)          (seq_len, seq_len)
    weights = softmax(scores) row by row            (seq_len, seq_len)

and the task is to make chosen query words (the verbs) put their attention on chosen key
words (their objects). The loss is the cross-entropy of the target key: for every
(query row ``r``, target key ``t``) pair of every sentence, ``-log weights[r, t]``,
averaged over all ``N`` pairs. It is 0 when every verb looks only at its object.

The gradients with respect to W_Q and W_K are computed by hand, without autodiff, and
``tests/test_training.py`` checks them against finite differences. They are not written out
here: notebook 04 asks the student to derive the part that reaches W_Q and W_K. ``W_V`` does
not appear: the loss looks only at the attention weights, so the values get no gradient.
"""

import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from course_lib._validation import (
    check_projections,
    check_training,
    check_training_example,
    whole_number,
)
from course_lib.attention import scaled_dot_product_attention

__all__ = [
    "VERB_OBJECT_SENTENCES",
    "TrainingExample",
    "TrainingResult",
    "verb_object_examples",
    "random_projections",
    "attention_weights",
    "target_attention",
    "loss_and_grads",
    "train_projections",
]

#: Sentences and their (verb, object) pairs: the training set of notebook 04.
#: Every word named in a pair is in the bundled vocabulary.
VERB_OBJECT_SENTENCES = (
    ("I drink coke, but eat steak", (("drink", "coke"), ("eat", "steak"))),
    ("she reads books and writes letters", (("reads", "books"), ("writes", "letters"))),
    ("they play music and watch movies", (("play", "music"), ("watch", "movies"))),
    ("he drives a car and rides a horse", (("drives", "car"), ("rides", "horse"))),
    ("we cook dinner and wash dishes", (("cook", "dinner"), ("wash", "dishes"))),
    ("you sing songs but hate dancing", (("sing", "songs"), ("hate", "dancing"))),
)


@dataclass(frozen=True)
class TrainingExample:
    """One sentence with the attention it should learn.

    Attributes
    ----------
    words : tuple of str, length seq_len
        The sentence's words, in order (the rows and columns of its attention matrix).
    x : ndarray of shape (seq_len, d)
        One vector per word.
    rows : ndarray of int, shape (n_pairs,)
        The query rows that are trained (the verbs).
    targets : ndarray of int, shape (n_pairs,)
        For each row, the key column it should attend to (its object).
    """

    words: tuple
    x: np.ndarray
    rows: np.ndarray
    targets: np.ndarray

    def __post_init__(self):
        """Check the fields and store them as arrays (x as float64, indices as intp)."""
        x, rows, targets = check_training_example(self.words, self.x, self.rows, self.targets)
        object.__setattr__(self, "words", tuple(self.words))
        object.__setattr__(self, "x", x)
        object.__setattr__(self, "rows", rows)
        object.__setattr__(self, "targets", targets)


class TrainingResult(NamedTuple):
    """What :func:`train_projections` returns; unpacks as ``w_q, w_k, losses``."""

    w_q: np.ndarray
    w_k: np.ndarray
    losses: np.ndarray


def verb_object_examples(sentences=VERB_OBJECT_SENTENCES, embeddings=None):
    """Embed sentences and mark which word each verb should attend to.

    Parameters
    ----------
    sentences : sequence of (str, sequence of (str, str)), default VERB_OBJECT_SENTENCES
        Each item is a sentence and its (verb, object) pairs.
    embeddings : gensim KeyedVectors, optional
        Passed to :func:`course_lib.embeddings.embed_sentence`; default the bundled
        64-d vectors.

    Returns
    -------
    list of TrainingExample
        One per sentence; ``x`` has shape (number of known words, d).

    Raises
    ------
    ValueError
        If a verb or object is not among the sentence's known words.

    Examples
    --------
    >>> examples = verb_object_examples()
    >>> first = examples[0]
    >>> [first.words[r] + " -> " + first.words[t] for r, t in zip(first.rows, first.targets)]
    ['drink -> coke', 'eat -> steak']
    >>> first.x.shape == (len(first.words), examples[1].x.shape[1])
    True
    """
    from course_lib.embeddings import embed_sentence  # only here: the rest needs no vectors

    examples = []
    for sentence, pairs in sentences:
        embedded = embed_sentence(sentence, embeddings)
        words = list(embedded.words)
        rows, targets = [], []
        for verb, obj in pairs:
            for word in (verb, obj):
                if word not in words:
                    raise ValueError(
                        f"{word!r} is not among the known words {words} of {sentence!r}"
                    )
            rows.append(words.index(verb))
            targets.append(words.index(obj))
        examples.append(TrainingExample(tuple(words), embedded.vectors, rows, targets))
    return examples


def random_projections(d, d_k, *, seed=0):
    """Draw random projections W_Q and W_K, entries from N(0, 1/d).

    With this variance each entry of a projected vector ``x @ w`` has variance
    ``|x|^2 / d``, the size of a typical coordinate of ``x``, whatever ``d`` is; so
    ``E|x @ w|^2 = (d_k / d) |x|^2``, and lengths are kept on average when ``d_k = d``.
    This is the one random-projection function of the course: the explorers' "random"
    and "shared" choices, notebook 04's starting point and :func:`train_projections` all
    call it.

    Parameters
    ----------
    d : int
        Size of the word vectors (at least 1).
    d_k : int
        Size of the queries and keys (at least 1).
    seed : int, default=0
        Seed of ``np.random.default_rng``; the same seed gives the same matrices.

    Returns
    -------
    w_q, w_k : ndarray of shape (d, d_k)
        Two independent matrices (W_Q is drawn first, then W_K).

    Raises
    ------
    TypeError
        If ``d`` or ``d_k`` is not a whole number.
    ValueError
        If ``d`` or ``d_k`` is below 1.

    Examples
    --------
    >>> w_q, w_k = random_projections(64, 16, seed=0)
    >>> w_q.shape, w_k.shape
    ((64, 16), (64, 16))
    >>> bool(np.array_equal(w_q, random_projections(64, 16, seed=0)[0]))
    True
    """
    d = whole_number(d, "d", minimum=1)
    d_k = whole_number(d_k, "d_k", minimum=1)
    rng = np.random.default_rng(seed)
    w_q, w_k = rng.normal(0.0, 1.0 / math.sqrt(d), size=(2, d, d_k))  # each (d, d_k)
    return w_q.copy(), w_k.copy()


def attention_weights(x, w_q, w_k):
    """Attention weights of a sentence under learned projections.

    Parameters
    ----------
    x : array_like of shape (seq_len, d)
    w_q, w_k : array_like of shape (d, d_k)

    Returns
    -------
    ndarray of shape (seq_len, seq_len)
        ``softmax((x @ w_q) @ (x @ w_k).T / sqrt(d_k))``; each row sums to 1.

    Examples
    --------
    >>> x = np.eye(3)                                   # 3 words, d = 3
    >>> weights = attention_weights(x, np.eye(3), np.eye(3))
    >>> weights.round(3)                                # each word prefers itself
    array([[0.471, 0.264, 0.264],
           [0.264, 0.471, 0.264],
           [0.264, 0.264, 0.471]])
    """
    x = np.asarray(x, dtype=np.float64)
    queries = x @ np.asarray(w_q, dtype=np.float64)  # (seq_len, d_k)
    keys = x @ np.asarray(w_k, dtype=np.float64)  # (seq_len, d_k)
    _, weights = scaled_dot_product_attention(queries, keys, keys)
    return weights


def target_attention(examples, w_q, w_k):
    """Return the weight each trained verb puts on its object.

    Parameters
    ----------
    examples : sequence of TrainingExample
    w_q, w_k : array_like of shape (d, d_k)

    Returns
    -------
    ndarray of shape (n_pairs_total,)
        ``weights[r, t]`` for every (row, target) pair, sentence after sentence.

    Examples
    --------
    >>> example = TrainingExample(("a", "b"), np.eye(2), rows=[0], targets=[1])
    >>> target_attention([example], np.eye(2), np.eye(2)).round(3)
    array([0.33])
    """
    parts = [attention_weights(ex.x, w_q, w_k)[ex.rows, ex.targets] for ex in examples]
    return np.concatenate(parts) if parts else np.zeros(0)


def loss_and_grads(w_q, w_k, examples):
    """Cross-entropy of the target keys and its gradients with respect to W_Q and W_K.

    Parameters
    ----------
    w_q, w_k : array_like of shape (d, d_k)
    examples : sequence of TrainingExample
        Their ``x`` must have ``d`` columns. At least one (row, target) pair in total.

    Returns
    -------
    loss : float
        ``-(1/N) * sum of log weights[r, t]`` over all N pairs of all sentences.
    grads : tuple of two ndarrays of shape (d, d_k)
        ``(dL/dW_Q, dL/dW_K)``, computed by hand (checked against finite differences in
        the tests).

    Raises
    ------
    ValueError
        If there are no pairs, or the shapes of ``w_q``, ``w_k`` and ``x`` disagree.

    Examples
    --------
    >>> example = TrainingExample(("a", "b"), np.eye(2), rows=[0], targets=[1])
    >>> loss, (grad_q, grad_k) = loss_and_grads(np.eye(2), np.eye(2), [example])
    >>> round(loss, 4)                                  # -log(0.330)
    1.1079
    >>> grad_q.shape, grad_k.shape
    ((2, 2), (2, 2))
    """
    examples = _as_examples(examples)
    w_q, w_k, n_pairs = check_projections(w_q, w_k, examples)
    d_k = w_q.shape[1]
    loss = 0.0
    grad_q = np.zeros_like(w_q)
    grad_k = np.zeros_like(w_k)
    for ex in examples:
        queries = ex.x @ w_q  # (seq_len, d_k)
        keys = ex.x @ w_k  # (seq_len, d_k)
        _, weights = scaled_dot_product_attention(queries, keys, keys)  # (seq_len, seq_len)
        with np.errstate(divide="ignore"):  # a weight of exactly 0 gives an infinite loss
            loss -= np.log(weights[ex.rows, ex.targets]).sum() / n_pairs
        grad_scores = np.zeros_like(weights)  # (seq_len, seq_len), dL/dscores
        np.add.at(grad_scores, ex.rows, weights[ex.rows])  # softmax part
        np.add.at(grad_scores, (ex.rows, ex.targets), -1.0)  # minus the one-hot target
        grad_scores /= n_pairs
        grad_queries = grad_scores @ keys / math.sqrt(d_k)  # (seq_len, d_k)
        grad_keys = grad_scores.T @ queries / math.sqrt(d_k)  # (seq_len, d_k)
        grad_q += ex.x.T @ grad_queries  # (d, d_k)
        grad_k += ex.x.T @ grad_keys  # (d, d_k)
    return float(loss), (grad_q, grad_k)


def train_projections(
    examples, d_k=16, *, steps=100, learning_rate=0.5, seed=0, w_q=None, w_k=None
):
    """Learn W_Q and W_K by plain gradient descent on :func:`loss_and_grads`.

    Parameters
    ----------
    examples : sequence of TrainingExample
        The sentences and the attention their verbs should learn.
    d_k : int, default=16
        Size of queries and keys (ignored when ``w_q`` and ``w_k`` are given).
    steps : int, default=100
        Number of gradient-descent steps.
    learning_rate : float, default=0.5
        Step size: ``w <- w - learning_rate * dL/dw``.
    seed : int, default=0
        Seed for :func:`random_projections` when no starting matrices are given. Training
        itself has no randomness, so the same seed gives the same result.
    w_q, w_k : ndarray of shape (d, d_k), optional
        Starting matrices (they are copied, not changed in place).

    Returns
    -------
    TrainingResult
        A named tuple ``(w_q, w_k, losses)``: the learned matrices, shape (d, d_k), and
        the loss before training and after each step, shape (steps + 1,).

    Raises
    ------
    ValueError
        ``examples`` is empty, ``steps`` < 0, ``d_k`` < 1, ``learning_rate`` is not a
        finite number above 0, or training diverged (the message gives the step and the
        learning rate: the scores overflowed or the loss became infinite).
    TypeError
        ``steps`` or ``d_k`` is not a whole number, or ``learning_rate`` not a number.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> example = TrainingExample(("a", "b", "c"), rng.normal(size=(3, 4)), [0], [2])
    >>> w_q, w_k, losses = train_projections([example], d_k=2, steps=50, learning_rate=0.5)
    >>> w_q.shape, losses.shape
    ((4, 2), (51,))
    >>> bool(losses[-1] < losses[0])
    True
    """
    examples = _as_examples(examples)
    steps = check_training(examples, steps, learning_rate)
    if (w_q is None) != (w_k is None):
        raise ValueError("give both w_q and w_k, or neither")
    if w_q is None:
        w_q, w_k = random_projections(examples[0].x.shape[1], d_k, seed=seed)
    w_q = np.array(w_q, dtype=np.float64)  # copies: the caller's arrays stay as they were
    w_k = np.array(w_k, dtype=np.float64)
    losses = np.empty(steps + 1)
    losses[0], grads = loss_and_grads(w_q, w_k, examples)  # shape errors surface here
    for step in range(1, steps + 1):
        w_q -= learning_rate * grads[0]
        w_k -= learning_rate * grads[1]
        try:
            losses[step], grads = loss_and_grads(w_q, w_k, examples)
            problem = None if math.isfinite(losses[step]) else f"the loss became {losses[step]}"
        except ValueError as err:  # overflowing scores, or NaN in the matrices
            problem = str(err)
        if problem is not None:
            raise ValueError(
                f"training diverged at step {step} with learning_rate={learning_rate:g}: "
                f"{problem}. Try a smaller learning rate (loss {losses[0]:.3g} at the start, "
                f"{losses[step - 1]:.3g} after step {step - 1})."
            )
    return TrainingResult(w_q, w_k, losses)


def _as_examples(examples):
    """Return ``examples`` as a list of TrainingExample; TypeError for anything else."""
    if isinstance(examples, TrainingExample):
        return [examples]
    if isinstance(examples, str) or not hasattr(examples, "__iter__"):
        raise TypeError(f"examples must be a list of TrainingExample, got {examples!r:.60}")
    examples = list(examples)
    for example in examples:
        if not isinstance(example, TrainingExample):
            raise TypeError(
                "examples must be TrainingExample objects (verb_object_examples() makes "
                f"them), got {type(example).__name__} {example!r:.60}"
            )
    return examples
