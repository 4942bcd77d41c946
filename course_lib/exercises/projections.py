"""Checkers for projections, the gradient of the scores (notebook 04), multi-head (05)."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from course_lib import attention
from course_lib.exercises._format import (
    Memory,
    NotYet,
    as_array,
    close,
    numerical_gradient,
    row_diff,
    tolerance_note,
)
from course_lib.exercises._harness import (
    SEED,
    Exercise,
    StudentError,
    call,
    matmul_hint,
    name,
    run_checker,
    unpack,
)
from course_lib.exercises._tripwire import FORBIDDEN

PROJECT = Exercise("check_projections", "project")
GRADIENT = Exercise(
    "check_score_gradient",
    "score_gradient",
    FORBIDDEN["score_gradient"],
    "from the chain rule, with numpy",
)
MULTIHEAD = Exercise(
    "check_multihead_attention",
    "multihead_attention",
    FORBIDDEN["multihead"],
    "with numpy (course_lib's scaled_dot_product_attention stays allowed for each head)",
)


def check_projections(fn: Callable) -> bool | None:
    """Check ``fn(x, w_q, w_k, w_v)``: queries, keys and values as projections of ``x``.

    ``queries = x @ w_q``, ``keys = x @ w_k``, ``values = x @ w_v``.

    Parameters
    ----------
    fn : callable
        ``fn(x, w_q, w_k, w_v) -> (queries, keys, values)`` with x of shape
        (..., seq_len, d_model), w_q and w_k of shape (d_model, d_k), w_v of shape
        (d_model, d_v). One hidden case is a batch of sequences.

    Returns
    -------
    bool or None
        True if correct, False if not (with a hint), None if ``fn`` raises
        NotImplementedError or returns None.

    Examples
    --------
    >>> check_projections(lambda x, w_q, w_k, w_v: (x @ w_q, x @ w_q, x @ w_q))
    ❌ not yet: keys equal x @ w_q; use w_k for the keys
    False
    """
    hint = (
        "x has shape (seq_len, d_model) and each w has shape (d_model, d_k): only one order "
        "of the two in the product has matching inner sizes"
    )

    def body() -> str:
        rng = np.random.default_rng(SEED + 4)
        d_model, d_k, d_v = 6, 3, 5
        w = {
            "w_q": rng.normal(size=(d_model, d_k)),
            "w_k": rng.normal(size=(d_model, d_k)),
            "w_v": rng.normal(size=(d_model, d_v)),
        }
        memory = Memory()
        for kind, x in (
            ("one sequence", rng.normal(size=(4, d_model))),
            ("one sequence", rng.normal(size=(4, d_model))),
            ("a batch", rng.normal(size=(2, 4, d_model))),
        ):
            try:
                result = call(fn, x, w["w_q"], w["w_k"], w["w_v"], case=f"x of shape {x.shape}")
            except StudentError as err:
                err.hint = matmul_hint(err, hint)
                raise
            result = unpack(result, ("queries", "keys", "values"))
            products = {key: x @ m for key, m in w.items()}
            for role, got, key in zip(("queries", "keys", "values"), result, w, strict=True):
                got = as_array(got, role)
                want = products[key]
                if close(got, want):
                    memory.add(got, want)
                    continue
                if got.shape != want.shape:
                    raise NotYet(
                        f"for x of shape {x.shape}, {role} should have shape {want.shape} "
                        f"= x @ {key}, got {got.shape}"
                    )
                for other, product in products.items():
                    if close(got, product):
                        raise NotYet(f"{role} equal x @ {other}; use {key} for the {role}")
                memory.check(got, want)
                raise NotYet(f"{role} should be x @ {key} (for {kind}): {row_diff(want, got)}")
        return f"{name(fn)} returns x @ w_q, x @ w_k and x @ w_v, also for a batch"

    return run_checker(PROJECT, fn, body)


# --------------------------------------------------------------------------------------
# The gradient of the scores with respect to W_Q and W_K
# --------------------------------------------------------------------------------------
def _scores(x, w_q, w_k, divisor):
    return (x @ w_q) @ (x @ w_k).T / divisor  # (seq, seq)


def _numerical_gradients(x, w_q, w_k, g, divisor):
    """Finite differences of sum(g * scores) with respect to w_q, then w_k."""
    grad_q = numerical_gradient(lambda m: float(np.sum(g * _scores(x, m, w_k, divisor))), w_q)
    grad_k = numerical_gradient(lambda m: float(np.sum(g * _scores(x, w_q, m, divisor))), w_k)
    return grad_q, grad_k


def _gradient_variants(x, w_q, w_k, g, divisor) -> list[tuple[tuple, str]]:
    """Wrong (grad_w_q, grad_w_k) pairs students write, each with the hint that names it."""
    q, k = x @ w_q, x @ w_k  # (seq, d_k)
    right_q = x.T @ g @ k / divisor
    right_k = x.T @ g.T @ q / divisor
    # Hints name the mistake and the idea, never the expression: the exercise asks the
    # student to derive it (notebook 04, "from the scores to the matrices").
    once = "every score is divided by it once, so each gradient is divided by it once too"
    return [
        ((right_k, right_q), "you returned (grad_w_k, grad_w_q); return (grad_w_q, grad_w_k)"),
        ((right_q * divisor, right_k * divisor), f"the divisor is missing: {once}"),
        (
            (right_q * divisor**2, right_k * divisor**2),
            f"you multiplied by the divisor instead of dividing: {once}",
        ),
        ((right_q / divisor, right_k / divisor), f"you divided by the divisor twice: {once}"),
        (
            (-right_q, -right_k),
            "the sign is flipped: grad_scores is already the gradient ∂L/∂S, not a step "
            "downhill; pass it through the chain rule without negating it",
        ),
        (
            (right_q, x.T @ g @ q / divisor),
            "grad_w_q is right but grad_w_k is not: the keys sit on the columns of the "
            "scores (S[i, j] uses key j), so think about which side grad_scores multiplies",
        ),
        (
            (x.T @ g.T @ k / divisor, right_k),
            "grad_w_k is right but grad_w_q is not: the queries sit on the rows of the "
            "scores (S[i, j] uses query i), so think about which side grad_scores multiplies",
        ),
        (
            (x.T @ g @ q / divisor, x.T @ g.T @ k / divisor),
            "w_q and w_k are mixed up: changing w_q moves the queries, and a query's scores "
            "are its dot products with the KEYS, so grad_w_q goes through the keys (and "
            "grad_w_k through the queries)",
        ),
    ]


def check_score_gradient(fn: Callable) -> bool | None:
    """Check ``fn(x, w_q, w_k, grad_scores, divisor)``: the gradient reaching W_Q and W_K.

    ``scores = (x @ w_q) @ (x @ w_k).T / divisor``; given ``grad_scores``, the gradient of a
    loss with respect to the scores, return the gradients with respect to ``w_q`` and
    ``w_k``. The reference is central finite differences of the scores, not a formula.

    Parameters
    ----------
    fn : callable
        ``fn(x, w_q, w_k, grad_scores, divisor) -> (grad_w_q, grad_w_k)`` with x of shape
        (seq, d_model), w_q and w_k (d_model, d_k), grad_scores (seq, seq), divisor a float.

    Returns
    -------
    bool or None
        True if correct, False if not (with a hint), None if ``fn`` raises
        NotImplementedError or returns None.

    Examples
    --------
    The example shows no solution: notebook 04 asks the student to derive it
    (``notebooks/solutions`` has one).

    >>> def gradient_of_the_scores(x, w_q, w_k, grad_scores, divisor):
    ...     return grad_scores, grad_scores  # the gradient with respect to S, not to W_Q
    >>> check_score_gradient(gradient_of_the_scores)  # doctest: +NORMALIZE_WHITESPACE
    ❌ not yet: grad_w_q should have the shape of the weights, (d_model, d_k) = (5, 3), got (4, 4)
    False
    """

    def body() -> str:
        rng = np.random.default_rng(SEED + 13)
        seq, d_model, d_k = 4, 5, 3
        memory = Memory()
        divisors = (math.sqrt(d_k), 2.5, math.sqrt(d_k))
        for divisor in divisors:
            x = rng.normal(size=(seq, d_model))
            w_q, w_k = rng.normal(size=(d_model, d_k)), rng.normal(size=(d_model, d_k))
            g = rng.normal(size=(seq, seq))
            want_q, want_k = _numerical_gradients(x, w_q, w_k, g, divisor)
            case = f"x of shape {x.shape}, divisor {divisor:.3g}"
            got = unpack(call(fn, x, w_q, w_k, g, divisor, case=case), ("grad_w_q", "grad_w_k"))
            got_q, got_k = as_array(got[0], "grad_w_q"), as_array(got[1], "grad_w_k")
            for role, value, want in (("grad_w_q", got_q, want_q), ("grad_w_k", got_k, want_k)):
                if value.shape != want.shape:
                    raise NotYet(
                        f"{role} should have the shape of the weights, (d_model, d_k) = "
                        f"{want.shape}, got {value.shape}"
                    )
            if close(got_q, want_q) and close(got_k, want_k):
                memory.add(np.concatenate([got_q, got_k]), np.concatenate([want_q, want_k]))
                continue
            memory.check(np.concatenate([got_q, got_k]), np.concatenate([want_q, want_k]))
            for (v_q, v_k), hint in _gradient_variants(x, w_q, w_k, g, divisor):
                if close(got_q, v_q) and close(got_k, v_k):
                    raise NotYet(hint)
            role, value, want = (
                ("grad_w_q", got_q, want_q)
                if not close(got_q, want_q)
                else ("grad_w_k", got_k, want_k)
            )
            raise NotYet(
                f"{role} differs from finite differences ({case}): {row_diff(want, value)}"
                + tolerance_note(want, value)
            )
        return (
            f"{name(fn)} matches finite differences of the scores with respect to w_q and w_k "
            f"on {len(divisors)} hidden cases"
        )

    return run_checker(GRADIENT, fn, body)


# --------------------------------------------------------------------------------------
# Multi-head attention
# --------------------------------------------------------------------------------------
def _split(a: np.ndarray, n_heads: int) -> np.ndarray:
    seq, d_model = a.shape
    return a.reshape(seq, n_heads, d_model // n_heads).transpose(1, 0, 2)  # (h, seq, d_head)


def _merge(heads: np.ndarray) -> np.ndarray:
    h, seq, d_head = heads.shape
    return heads.transpose(1, 0, 2).reshape(seq, h * d_head)  # (seq, d_model)


def _heads(q, k, v, divisor, axis=-1):
    scores = q @ np.swapaxes(k, -1, -2) / divisor  # (h, seq, seq)
    return attention.softmax(scores, axis=axis) @ v


def _multihead_variants(x, w_q, w_k, w_v, h) -> list[tuple[np.ndarray, str]]:
    q, k, v = x @ w_q, x @ w_k, x @ w_v  # (seq, d_model)
    seq, d_model = q.shape
    d_head = d_model // h
    root, root_head = math.sqrt(d_model), math.sqrt(d_head)
    qs, ks, vs = (_split(a, h) for a in (q, k, v))
    bad = [a.reshape(h, seq, d_head) for a in (q, k, v)]  # no transpose: rows get mixed
    flat = f"each head is √h = √{h} ≈ {math.sqrt(h):.2f} times too flat"
    out = [
        (
            _merge(_heads(qs, ks, vs, root)),
            f"you divided by √d_model = √{d_model}; a head's scores sum over its d_head = "
            f"{d_head} features, so divide by √d_head = √{d_head}: with √d_model {flat}",
        ),
        (_heads(q, k, v, root), "the features were not split into heads: that is one head"),
        (_heads(q, k, v, root_head), "the features were not split into heads: that is one head"),
        (_merge(_heads(qs, ks, vs, 1.0)), "the scores of each head are not divided by √d_head"),
        (
            _merge(_heads(qs, ks, vs, root_head, axis=-2)),
            "the softmax runs over the wrong axis (the queries); use the last axis, the keys",
        ),
        (
            _merge(_heads(qs, ks, vs, root_head, axis=0)),
            "the softmax runs over the wrong axis (the heads, axis 0); use the last axis, the keys",
        ),
        (
            _heads(qs, ks, vs, root_head).reshape(seq, d_model),
            "the heads were joined without moving the head axis back: a reshape keeps the "
            "order of the entries, so with the heads first, one output row is filled from "
            "several words of one head; each word's row must hold its own d_head numbers from "
            "every head, head 0 first",
        ),
        (
            _heads(*bad, root_head).reshape(seq, d_model),
            "reshaping Q, K and V straight to (n_heads, seq, d_head) mixes words between "
            "heads: a reshape keeps the order of the entries, row after row, so a head gets "
            "all the features of a few words instead of some features of every word; head i "
            "must get columns i·d_head to (i+1)·d_head − 1 of every word's row",
        ),
    ]
    if seq % h == 0:  # splitting the sequence (the words) instead of the features
        chunks = [a.reshape(h, seq // h, d_model) for a in (q, k, v)]
        for divisor in (root, root_head):
            chunked = _heads(*chunks, divisor)  # (h, seq // h, d_model)
            for joined in (chunked, chunked.transpose(1, 0, 2)):
                out.append(
                    (
                        joined.reshape(seq, d_model),
                        "you split the sequence (the words) into heads; split the features: "
                        "each head sees every word, with d_head = d_model // n_heads features",
                    )
                )
    return out


def check_multihead_attention(fn: Callable) -> bool | None:
    """Check ``fn(x, w_q, w_k, w_v, n_heads)``: multi-head self-attention.

    Project ``x`` with the three (d_model, d_model) matrices, split the features into
    ``n_heads`` heads of ``d_head = d_model // n_heads``, run scaled attention in each head
    (divisor √d_head), and concatenate the heads' outputs back to (seq, d_model).

    Parameters
    ----------
    fn : callable
        ``fn(x, w_q, w_k, w_v, n_heads) -> output`` with x of shape (seq, d_model) and
        output of shape (seq, d_model).

    Returns
    -------
    bool or None
        True if correct, False if not (with a hint), None if ``fn`` raises
        NotImplementedError or returns None.

    Examples
    --------
    The example shows no solution: notebook 05 asks the student to write it
    (``notebooks/solutions`` has one).

    >>> from course_lib import scaled_dot_product_attention
    >>> def one_head(x, w_q, w_k, w_v, n_heads):
    ...     output, _ = scaled_dot_product_attention(x @ w_q, x @ w_k, x @ w_v)
    ...     return output
    >>> check_multihead_attention(one_head)  # doctest: +NORMALIZE_WHITESPACE
    ❌ not yet: the features were not split into heads: that is one head (x of shape (6, 12) with
    3 heads)
    False
    """

    def body() -> str:
        rng = np.random.default_rng(SEED + 14)
        cases = [(6, 12, 3), (4, 8, 2), (4, 8, 4), (5, 6, 1), (6, 12, 3)]  # (seq, d_model, h)
        memory = Memory()
        for seq, d_model, h in cases:
            x = rng.normal(size=(seq, d_model))
            w_q, w_k, w_v = (rng.normal(size=(d_model, d_model)) for _ in range(3))
            case = f"x of shape {x.shape} with {h} heads"
            try:
                got = as_array(call(fn, x, w_q, w_k, w_v, h, case=case), "output")
            except StudentError as err:
                if err.type_name == "TypeError" and "integer" in err.text:
                    err.hint = "d_model / n_heads is a float; a reshape needs a whole number"
                raise
            heads = _heads(*(_split(x @ w, h) for w in (w_q, w_k, w_v)), math.sqrt(d_model // h))
            expected = _merge(heads)  # (seq, d_model)
            if got.shape != expected.shape:
                raise NotYet(
                    f"for {case} the output should have shape (seq, d_model) = "
                    f"{expected.shape}, got {got.shape}"
                )
            if close(got, expected):
                memory.add(got, expected)
                continue
            memory.check(got, expected)
            for variant, hint in _multihead_variants(x, w_q, w_k, w_v, h):
                if close(got, variant):
                    raise NotYet(f"{hint} ({case})")
            raise NotYet(f"for {case}, {row_diff(expected, got)}" + tolerance_note(expected, got))
        return f"{name(fn)} matches multi-head attention (divisor √d_head) for 1, 2, 3 and 4 heads"

    return run_checker(MULTIHEAD, fn, body)


__all__ = ["check_projections", "check_score_gradient", "check_multihead_attention"]
