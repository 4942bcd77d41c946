"""Checkers for notebook 06: reading a trained model's queries, keys and attention weights.

- :func:`check_head_score_variance`: ``head_score_variance(queries, keys)``, the variance
  of the raw scores q·k of every head;
- :func:`check_previous_token_head`: ``previous_token_head(weights)``, the head that puts
  the most weight, on average, on the token just before the query.

Both run on hidden arrays made here (seeded, with heads planted to tell the classic
mistakes apart), never on the numbers notebook 06 prints.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from course_lib.exercises._format import Memory, NotYet, as_array, close, kind_of
from course_lib.exercises._harness import SEED, Exercise, call, compare, name, run_checker

VARIANCE = Exercise("check_head_score_variance", "head_score_variance", (), "with numpy")
PREVIOUS = Exercise("check_previous_token_head", "previous_token_head", (), "from the weights")


# --------------------------------------------------------------------------------------
# head_score_variance(queries, keys) -> (layers, heads)
# --------------------------------------------------------------------------------------
def _scores(queries: np.ndarray, keys: np.ndarray) -> np.ndarray:
    return queries @ np.swapaxes(keys, -1, -2)  # (layers, heads, T, T)


def _variance_cases(rng: np.random.Generator) -> list[tuple[np.ndarray, np.ndarray]]:
    """Make queries and keys (layers, heads, T, d_head) whose heads differ in scale and mean."""
    cases = []
    for layers, heads, seq_len, d_head in ((2, 3, 5, 4), (1, 2, 9, 8), (3, 2, 4, 16)):
        shape = (layers, heads, seq_len, d_head)
        scale = rng.uniform(0.5, 3.0, size=(layers, heads, 1, 1))  # each head its own size
        queries = scale * rng.normal(size=shape) + rng.normal(size=(layers, heads, 1, d_head))
        keys = rng.normal(size=shape) + 0.5  # scores with a mean far from 0
        cases.append((queries, keys))
    return cases


def _variance_mistakes(queries, keys):
    """Yield the classic wrong answers for one case, each with its hint."""
    scores = _scores(queries, keys)
    d_head = queries.shape[-1]
    flat = scores.reshape(*scores.shape[:2], -1)  # (layers, heads, T*T)
    diagonal = np.diagonal(scores, axis1=-2, axis2=-1)  # (layers, heads, T)
    yield (
        (scores / np.sqrt(d_head)).reshape(flat.shape).var(axis=-1),
        "you divided the scores by √d_head first; measure the raw scores q·k, before any "
        "division: the point is to see what the division then has to do",
    )
    yield (
        flat.std(axis=-1),
        "that is the standard deviation of the scores; return the variance, its square",
    )
    yield (
        np.mean(flat**2, axis=-1),
        "that is the mean of the squared scores; the variance subtracts their mean first",
    )
    yield (
        scores.var(axis=-1).mean(axis=-1),
        "you took the variance within each query's row, then averaged the rows; take the "
        "variance of all T×T scores of a head at once (over the last two axes together)",
    )
    yield (
        diagonal.var(axis=-1),
        "you used only each token's score with itself (the diagonal); use every query with "
        "every key: queries @ keys transposed",
    )
    yield (
        _scores(queries, queries).reshape(flat.shape).var(axis=-1),
        "you compared the queries with themselves; the scores are the queries against the keys",
    )
    yield (
        np.mean(np.sum(queries**2, axis=-1), axis=-1),
        "that is the mean squared length of the queries, not the variance of the scores q·k",
    )


def check_head_score_variance(fn: Callable) -> bool | None:
    """Check ``fn(queries, keys)``: the variance of the raw scores q·k of every head.

    For each layer and head, the scores are every query against every key of that head
    (a T×T matrix, not divided by anything); the answer is the variance of those T² numbers.
    The sample variance (``ddof=1``) is accepted too.

    Parameters
    ----------
    fn : callable
        ``fn(queries, keys) -> ndarray of shape (layers, heads)``, with ``queries`` and
        ``keys`` of shape (layers, heads, T, d_head).

    Returns
    -------
    bool or None
        True if correct on every hidden case, False if not (a hint is printed), None if
        ``fn`` raises NotImplementedError or returns None.

    Examples
    --------
    >>> check_head_score_variance(lambda q, k: np.ones(q.shape[:2]))  # doctest: +ELLIPSIS
    ❌ not yet: ...
    False
    """

    def body() -> str:
        rng = np.random.default_rng(SEED + 6)
        memory = Memory()
        cases = _variance_cases(rng)
        for queries, keys in cases:
            case = f"queries and keys of shape {queries.shape}"
            got = call(fn, queries, keys, case=case)
            flat = _scores(queries, keys).reshape(*queries.shape[:2], -1)  # (layers, heads, T*T)
            if close(as_array(got, "the returned value"), flat.var(axis=-1, ddof=1)):
                continue  # the sample variance is fine too
            compare(
                got,
                flat.var(axis=-1),
                what="the variances",
                case=case,
                memory=memory,
                variants=lambda q=queries, k=keys: _variance_mistakes(q, k),
                wrong_shape=lambda shape, q=queries, case=case: (
                    f"for {case} return one variance per head, an array of shape "
                    f"{q.shape[:2]} (layers, heads); got shape {shape}"
                    + ("" if len(shape) != 4 else ": take the variance over the last two axes")
                ),
            )
        return f"{name(fn)} gives Var(q·k) of every head on {len(cases)} hidden cases"

    return run_checker(VARIANCE, fn, body)


# --------------------------------------------------------------------------------------
# previous_token_head(weights) -> (layer, head)
# --------------------------------------------------------------------------------------
def _planted(seq_len: int, target: int, weight: float) -> np.ndarray:
    """Return one row of weights: ``weight`` on key ``target``, the rest spread evenly."""
    out = np.full(seq_len, (1.0 - weight) / (seq_len - 1))
    out[target % seq_len] = weight
    return out


def _head(seq_len: int, target, weight) -> np.ndarray:
    """Return (T, T) weights whose row i puts ``weight(i)`` on key ``target(i)``."""
    return np.stack([_planted(seq_len, target(i), weight(i)) for i in range(seq_len)])


def _previous_case(rng: np.random.Generator, layers: int, heads: int, seq_len: int):
    """Make weights (layers, heads, T, T) with a previous-token head and heads that mislead.

    Besides the right head (weight 0.9 on the previous token but in two rows) there are
    heads that win under a classic mistake: the next token, the token itself, np.roll's
    wrap-around (row 0 on the last token), the largest single weight, and the previous token
    as the favourite key of every row (but with a lower mean). Returns (weights, heads by
    role), the right one under "right".
    """
    weights = rng.dirichlet(np.ones(seq_len), size=(layers, heads, seq_len))  # spread heads
    roles = ("right", "next", "self", "wrap", "peak", "count")
    slots = dict(
        zip(roles, (divmod(int(s), heads) for s in rng.permutation(layers * heads)), strict=False)
    )
    weak = {1, seq_len // 2}  # two rows where the right head prefers another key

    def previous_head(strength: float, row_0: tuple[int, float]):
        return _head(
            seq_len,
            lambda i: row_0[0] if i == 0 else (i + 2 if i in weak else i - 1),
            lambda i: row_0[1] if i == 0 else (0.6 if i in weak else strength),
        )

    weights[slots["right"]] = previous_head(0.9, (0, 1 / seq_len))  # row 0: spread evenly
    weights[slots["wrap"]] = previous_head(0.85, (seq_len - 1, 1.0))  # row 0: the last key
    weights[slots["next"]] = _head(seq_len, lambda i: i + 1, lambda i: 0.95)
    weights[slots["self"]] = _head(seq_len, lambda i: i, lambda i: 0.95)
    weights[slots["peak"]][seq_len // 2] = np.eye(seq_len)[seq_len // 2 - 1]
    weights[slots["count"]] = _head(seq_len, lambda i: i - 1, lambda i: 0.5)
    return weights, slots


def _previous_means(weights: np.ndarray) -> np.ndarray:
    """Return each head's mean weight on the previous token, over query positions 1..T-1."""
    return np.diagonal(weights, offset=-1, axis1=-2, axis2=-1).mean(axis=-1)  # (layers, heads)


def _wrong_ways(weights: np.ndarray) -> dict[str, np.ndarray]:
    """Return, per classic mistake, the (layers, heads) scores that mistake maximises."""
    seq_len = weights.shape[-1]
    previous = np.diagonal(weights, offset=-1, axis1=-2, axis2=-1)  # (layers, heads, T-1)
    rolled = np.roll(np.eye(seq_len), -1, axis=1)  # row i -> key i - 1, row 0 -> key T - 1
    favourite = weights.argmax(axis=-1)[..., 1:] == np.arange(seq_len - 1)  # (layers, heads, T-1)
    return {
        "next": np.diagonal(weights, offset=1, axis1=-2, axis2=-1).mean(-1),
        "self": np.diagonal(weights, axis1=-2, axis2=-1).mean(-1),
        "wrap": (weights * rolled).sum(-1).mean(-1),
        "peak": previous.max(-1),
        "count": favourite.mean(-1),
    }


_HINTS = {
    "next": "your function picked the head that looks most at the NEXT token (key i + 1); the "
    "previous token of query i is key i - 1: weights[layer, head, i, i - 1]",
    "self": "your function picked the head that looks most at the token itself (key i); the "
    "previous token of query i is key i - 1: weights[layer, head, i, i - 1]",
    "wrap": "row 0 counted too (its 'previous' token wrapped round to the last one, as np.roll "
    "does): the first token has no previous token, so average over rows 1 to T - 1",
    "peak": "that head has the largest SINGLE weight on a previous token; the exercise asks for "
    "the largest mean over the query positions",
    "count": "that head has the previous token as its favourite key most often; the exercise "
    "asks for the largest mean WEIGHT on it (a head can win most rows by a little)",
}


_SWAPPED = "you returned (head, layer); return (layer, head)"


def _previous_hint(answer, weights, slots, answers) -> str:
    """Name the mistake that picks ``answer`` instead of the right head, or ''."""
    for role, scores in _wrong_ways(weights).items():
        if answer == slots[role] == np.unravel_index(np.argmax(scores), scores.shape):
            return _HINTS[role]
    if answer == slots["right"][::-1]:
        return _SWAPPED
    if len(answers) > 1 and len(set(answers)) == 1:
        return (
            f"your function returns {answer} whatever the weights; find the head from the "
            "weights it is given"
        )
    return (
        f"for weights of shape {weights.shape} the answer is not {answer}: for each head, "
        "average weights[layer, head, i, i - 1] over i = 1 .. T - 1, then take the largest"
    )


def _as_pair(result, shape: tuple[int, int]) -> tuple[int, int]:
    """Return the student's (layer, head) as two ints, or NotYet saying what came back."""
    if isinstance(result, np.ndarray) and result.shape == (2,):
        result = tuple(result.tolist())
    if isinstance(result, int | np.integer) and not isinstance(result, bool):
        raise NotYet(
            f"got one number ({int(result)}): return two, (layer, head); if it is a position "
            "in the flattened array, np.unravel_index turns it into the pair"
        )
    if not isinstance(result, tuple | list) or len(result) != 2:
        raise NotYet(f"return two numbers, (layer, head); got {kind_of(result)}")
    pair = []
    for value in result:
        number = as_array(value, "the layer or head").ravel()
        if number.size != 1 or number[0] != int(number[0]):
            raise NotYet(f"the layer and the head are whole numbers (indices); got {result!r}")
        pair.append(int(number[0]))
    if not (0 <= pair[0] < shape[0] and 0 <= pair[1] < shape[1]):
        if 0 <= pair[1] < shape[0] and 0 <= pair[0] < shape[1]:
            raise NotYet(_SWAPPED)
        raise NotYet(
            f"({pair[0]}, {pair[1]}) is not a head of weights with {shape[0]} layers and "
            f"{shape[1]} heads"
        )
    return pair[0], pair[1]


SIZES = ((3, 4, 6), (2, 5, 9), (4, 3, 7), (6, 12, 12))  # (layers, heads, T) of the cases


def check_previous_token_head(fn: Callable) -> bool | None:
    """Check ``fn(weights)``: the head that looks most at the previous token.

    For each layer and head, the weight that query i puts on key i - 1 (the token just before
    it), averaged over the query positions that have one (1 to T - 1); the answer is the
    (layer, head) with the largest average.

    Parameters
    ----------
    fn : callable
        ``fn(weights) -> (layer, head)``, with ``weights`` of shape (layers, heads, T, T).

    Returns
    -------
    bool or None
        True if correct on every hidden case, False if not (a hint is printed), None if
        ``fn`` raises NotImplementedError or returns None.

    Examples
    --------
    >>> check_previous_token_head(lambda weights: (0, 0))  # doctest: +ELLIPSIS
    ❌ not yet: ...
    False
    """

    def body() -> str:
        rng = np.random.default_rng(SEED + 7)
        cases = [_previous_case(rng, *size) for size in SIZES]
        answers = []
        for weights, _ in cases:  # every case first: a fixed answer shows as one
            case = f"weights of shape {weights.shape}"
            answers.append(_as_pair(call(fn, weights, case=case), weights.shape[:2]))
        for answer, (weights, slots) in zip(answers, cases, strict=True):
            if answer != slots["right"]:
                raise NotYet(_previous_hint(answer, weights, slots, answers))
        return f"{name(fn)} finds the previous-token head in {len(cases)} hidden sets of weights"

    return run_checker(PREVIOUS, fn, body)
