"""Checkers of notebooks 03-04 that judge a derivation: the softmax's gradient, the gradient
reaching W_Q and W_K; and projections and multi-head attention.

The gradient checkers compare with finite differences; these tests give them answers written
independently (an explicit Jacobian, PyTorch's autograd where installed) and the wrong answers
students write.
"""

import math

import numpy as np
import pytest
from exercise_helpers import assert_correct, assert_not_yet, quiet
from hypothesis import given, settings
from hypothesis import strategies as st

from course_lib import attention
from course_lib.exercises import (
    check_multihead_attention,
    check_projections,
    check_score_gradient,
    check_softmax_backward,
)


# --------------------------------------------------------------------------------------
# check_softmax_backward
# --------------------------------------------------------------------------------------
def backward(weights, grad_weights):
    inner = (weights * grad_weights).sum(axis=-1, keepdims=True)
    return weights * (grad_weights - inner)


def _jacobian(p):
    """The softmax's Jacobian diag(p) - p pᵀ (course_lib no longer has one)."""
    n = p.shape[-1]
    return np.eye(n) * p[..., None, :] - p[..., :, None] * p[..., None, :]


def backward_jacobian(weights, grad_weights):
    """Through the explicit Jacobian (symmetric, so its transpose is as good)."""
    jac = _jacobian(weights)  # (..., n, n)
    return np.einsum("...ij,...i->...j", jac, grad_weights)


@pytest.mark.parametrize(
    "fn",
    [
        backward,
        backward_jacobian,
        lambda p, g: np.einsum("...ij,...j->...i", _jacobian(p), g),
        lambda p, g: np.round(backward(p, g), 4),
        lambda p, g: p * g - p * np.sum(p * g, axis=-1, keepdims=True),
    ],
    ids=["formula", "jacobian", "jacobian-transposed", "rounded-4", "expanded"],
)
def test_softmax_backward_right_answers(fn, capsys):
    assert_correct(capsys, check_softmax_backward, fn)


def test_softmax_backward_agrees_with_torch(capsys):
    torch = pytest.importorskip("torch")

    def via_autograd(weights, grad_weights):
        scores = torch.tensor(np.log(np.maximum(weights, 1e-300)), requires_grad=True)
        torch.softmax(scores, dim=-1).backward(torch.tensor(grad_weights))
        return scores.grad.numpy()

    assert_correct(capsys, check_softmax_backward, via_autograd)


SOFTMAX_BACKWARD_WRONG = [
    (lambda p, g: p * g, "only the δ_ij part"),
    (lambda p, g: -backward(p, g), "sign is flipped"),
    (lambda p, g: g - (p * g).sum(axis=-1, keepdims=True), "forgot to multiply by the weights"),
    (lambda p, g: p * (1 - p) * g, "only the diagonal"),
    (lambda p, g: p * (g - (p * g).sum()), "whole array"),
    (lambda p, g: p * (g - (p * g).sum(axis=0, keepdims=True)), "axis 0"),
    (lambda p, g: g, "unchanged"),
    (lambda p, g: 2 * backward(p, g), "finite differences"),
    (lambda p, g: p * (g - (p * g).sum(axis=-1)), ("ValueError", "(keepdims)")),  # 17.7
]
SOFTMAX_BACKWARD_WRONG_IDS = [
    "no-subtraction",
    "sign",
    "no-p",
    "diagonal",
    "whole",
    "axis0",
    "identity",
    "double",
    "no-keepdims",
]


def _own_softmax(scores):
    exps = np.exp(scores - scores.max(axis=-1, keepdims=True))
    return exps / exps.sum(axis=-1, keepdims=True)


def finite_differences(weights, grad_weights, h=1e-5):
    """Notebook 03's finite differences, copied from the cells above the exercise."""
    scores = np.log(np.clip(weights, 1e-300, None))  # softmax(log A) = A
    grad = np.zeros_like(scores)
    for j in range(scores.shape[-1]):
        step = np.zeros(scores.shape[-1])
        step[j] = h
        up = (grad_weights * _own_softmax(scores + step)).sum(axis=-1)
        down = (grad_weights * _own_softmax(scores - step)).sum(axis=-1)
        grad[..., j] = (up - down) / (2 * h)
    return grad


@pytest.mark.parametrize("h", [1e-4, 1e-5, 1e-6])
def test_a_finite_difference_estimate_is_not_the_exact_gradient(h, capsys):
    """H10's review: a copy of the cells above passed (it matches to about 1e-10)."""
    line = assert_not_yet(
        capsys,
        check_softmax_backward,
        lambda w, g: finite_differences(w, g, h),
        hint=("numerical estimate", "exact gradient, from the chain rule"),
    )
    assert "np." not in line and "sum(" not in line  # the hint gives no code


@pytest.mark.parametrize(("fn", "hint"), SOFTMAX_BACKWARD_WRONG, ids=SOFTMAX_BACKWARD_WRONG_IDS)
def test_softmax_backward_wrong_answers(fn, hint, capsys):
    assert_not_yet(capsys, check_softmax_backward, fn, hint=hint)


# --------------------------------------------------------------------------------------
# check_score_gradient
# --------------------------------------------------------------------------------------
def score_gradient(x, w_q, w_k, grad_scores, divisor):
    q, k = x @ w_q, x @ w_k
    return x.T @ grad_scores @ k / divisor, x.T @ grad_scores.T @ q / divisor


def _grad(make_q, make_k):
    def fn(x, w_q, w_k, g, divisor):
        q, k = x @ w_q, x @ w_k
        return make_q(x, q, k, g, divisor), make_k(x, q, k, g, divisor)

    return fn


def test_score_gradient_agrees_with_torch(capsys):
    torch = pytest.importorskip("torch")

    def via_autograd(x, w_q, w_k, grad_scores, divisor):
        wq = torch.tensor(w_q, requires_grad=True)
        wk = torch.tensor(w_k, requires_grad=True)
        xt = torch.tensor(x)
        scores = (xt @ wq) @ (xt @ wk).T / divisor
        scores.backward(torch.tensor(grad_scores))
        return wq.grad.numpy(), wk.grad.numpy()

    assert_correct(capsys, check_score_gradient, via_autograd)


@pytest.mark.parametrize(
    "fn",
    [
        score_gradient,
        lambda x, wq, wk, g, d: [
            np.einsum("si,st,tk->ik", x, g, x @ wk) / d,
            np.einsum("ti,st,sk->ik", x, g, x @ wq) / d,
        ],
        lambda x, wq, wk, g, d: tuple(np.round(a, 4) for a in score_gradient(x, wq, wk, g, d)),
        lambda x, wq, wk, g, d: (x.T @ (g @ (x @ wk)) / d, (g.T @ (x @ wq)).T.dot(x).T / d),
    ],
    ids=["formula", "einsum-list", "rounded-4", "other-brackets"],
)
def test_score_gradient_right_answers(fn, capsys):
    assert_correct(capsys, check_score_gradient, fn)


RIGHT_Q = lambda x, q, k, g, d: x.T @ g @ k / d  # noqa: E731
RIGHT_K = lambda x, q, k, g, d: x.T @ g.T @ q / d  # noqa: E731


SCORE_GRADIENT_WRONG = [
    (lambda *a: score_gradient(*a)[::-1], "(grad_w_k, grad_w_q)"),
    (
        _grad(lambda x, q, k, g, d: x.T @ g @ k, lambda x, q, k, g, d: x.T @ g.T @ q),
        "divisor is missing",
    ),
    (
        _grad(lambda x, q, k, g, d: x.T @ g @ k * d, lambda x, q, k, g, d: x.T @ g.T @ q * d),
        "instead of dividing",
    ),
    (
        _grad(lambda x, q, k, g, d: x.T @ g @ k / d**2, lambda x, q, k, g, d: x.T @ g.T @ q / d**2),
        "twice",
    ),
    (_grad(lambda *a: -RIGHT_Q(*a), lambda *a: -RIGHT_K(*a)), "sign is flipped"),
    (_grad(RIGHT_Q, lambda x, q, k, g, d: x.T @ g @ q / d), "keys sit on the columns"),
    (_grad(lambda x, q, k, g, d: x.T @ g.T @ k / d, RIGHT_K), "queries sit on the rows"),
    (
        _grad(lambda x, q, k, g, d: x.T @ g @ q / d, lambda x, q, k, g, d: x.T @ g.T @ k / d),
        "mixed up",
    ),
    (_grad(lambda x, q, k, g, d: g @ k / d, RIGHT_K), ("shape of the weights", "(5, 3)")),
    (
        _grad(lambda x, q, k, g, d: 1.01 * RIGHT_Q(x, q, k, g, d), RIGHT_K),
        ("grad_w_q differs", "finite differences"),
    ),
]
SCORE_GRADIENT_WRONG_IDS = [
    "swapped",
    "no-divisor",
    "times-divisor",
    "divisor-twice",
    "sign",
    "k-not-transposed",
    "q-transposed",
    "wq-wk-confused",
    "no-x",
    "off",
]


@pytest.mark.parametrize(("fn", "hint"), SCORE_GRADIENT_WRONG, ids=SCORE_GRADIENT_WRONG_IDS)
def test_score_gradient_wrong_answers(fn, hint, capsys):
    assert_not_yet(capsys, check_score_gradient, fn, hint=hint)


# --------------------------------------------------------------------------------------
# check_projections
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "fn",
    [
        lambda x, wq, wk, wv: (x @ wq, x @ wk, x @ wv),
        lambda x, wq, wk, wv: [np.matmul(x, w) for w in (wq, wk, wv)],
        lambda x, wq, wk, wv: tuple(np.round(x @ w, 4) for w in (wq, wk, wv)),
        lambda x, wq, wk, wv: tuple(np.einsum("...sd,dk->...sk", x, w) for w in (wq, wk, wv)),
    ],
    ids=["matmul", "list", "rounded-4", "einsum"],
)
def test_projections_right_answers(fn, capsys):
    assert_correct(capsys, check_projections, fn)


@pytest.mark.parametrize(
    ("fn", "hint"),
    [
        (lambda x, wq, wk, wv: (x @ wk, x @ wq, x @ wv), "queries equal x @ w_k; use w_q"),
        (lambda x, wq, wk, wv: (wq @ x, wk @ x, wv @ x), ("ValueError", "only one order")),
        (lambda x, wq, wk, wv: (x @ wq, x @ wk), "return 3 values"),
        (lambda x, wq, wk, wv: (x @ wq, x @ wk, x @ wv * 2), "values should be x @ w_v"),
        (lambda x, wq, wk, wv: (x @ wq, x @ wq, x @ wv), "keys equal x @ w_q; use w_k"),
        (lambda x, wq, wk, wv: (x @ wq, x @ wk, x @ wk), "shape"),
        (lambda x, wq, wk, wv: x @ wq, "return 3 values"),
        (lambda x, wq, wk, wv: (x[..., :3] @ wq[:3], x @ wk, x @ wv), "queries should be"),
        (lambda x, wq, wk, wv: ((x @ wq) + 0j, x @ wk, x @ wv), "complex"),
        (lambda x, wq, wk, wv: ("x @ w_q", x @ wk, x @ wv), "text"),
        (lambda x, wq, wk, wv: ((x @ wq)[..., ::-1], x @ wk, x @ wv), "queries should be"),
    ],
    ids=[
        "swapped",
        "left",
        "two",
        "off",
        "keys-q",
        "values-k",
        "one",
        "part",
        "complex",
        "string",
        "transpose",
    ],  # fmt: skip
)
def test_projections_wrong_answers(fn, hint, capsys):
    assert_not_yet(capsys, check_projections, fn, hint=hint)


# --------------------------------------------------------------------------------------
# check_multihead_attention
# --------------------------------------------------------------------------------------
def multihead(x, w_q, w_k, w_v, n_heads, *, divisor=None, split=None, merge=None, axis=-1):
    """Multi-head self-attention, with hooks to make each classic mistake.

    divisor(d_head, d_model) gives the number the scores are divided by (√d_head by default).
    """
    seq, d_model = x.shape
    d_head = d_model // n_heads

    def heads(a):  # (seq, d_model) -> (n_heads, seq, d_head)
        return a.reshape(seq, n_heads, d_head).transpose(1, 0, 2)

    q, k, v = ((split or heads)(x @ w) for w in (w_q, w_k, w_v))
    by = divisor(d_head, d_model) if divisor else math.sqrt(d_head)
    out = attention.softmax(q @ np.swapaxes(k, -1, -2) / by, axis=axis) @ v  # (h, seq, d_head)
    if merge:
        return merge(out, seq, d_model)
    return out.transpose(1, 0, 2).reshape(seq, d_model)


def multihead_loop(x, w_q, w_k, w_v, n_heads):
    """One head at a time, with course_lib's scaled attention, then np.concatenate."""
    d_head = x.shape[1] // n_heads
    outs = []
    for h in range(n_heads):
        cols = slice(h * d_head, (h + 1) * d_head)
        q, k, v = (x @ w[:, cols] for w in (w_q, w_k, w_v))
        outs.append(attention.scaled_dot_product_attention(q, k, v)[0])
    return np.concatenate(outs, axis=-1)


@pytest.mark.parametrize(
    "fn",
    [
        multihead,
        multihead_loop,
        lambda *a: np.round(multihead(*a), 4),
        lambda *a: multihead(*a).tolist(),
    ],
    ids=["reshape", "loop-over-heads", "rounded-4", "list"],
)
def test_multihead_right_answers(fn, capsys):
    assert_correct(capsys, check_multihead_attention, fn)


def test_multihead_agrees_with_torch(capsys):
    torch = pytest.importorskip("torch")

    def via_torch(x, w_q, w_k, w_v, n_heads):
        seq, d_model = x.shape

        def heads(a):
            return torch.tensor(a).reshape(seq, n_heads, -1).transpose(0, 1)

        out = torch.nn.functional.scaled_dot_product_attention(
            heads(x @ w_q), heads(x @ w_k), heads(x @ w_v)
        )  # (n_heads, seq, d_head); divides by √d_head
        return out.transpose(0, 1).reshape(seq, d_model).numpy()

    assert_correct(capsys, check_multihead_attention, via_torch)


def _split_rows(n_heads):
    return lambda a: a.reshape(n_heads, a.shape[0] // n_heads, a.shape[1])


MULTIHEAD_WRONG = [
    (
        lambda *a: multihead(*a, divisor=lambda dh, dm: math.sqrt(dm)),
        ("√d_model", "√d_head", "√h = √3 ≈ 1.73 times too flat"),
    ),
    (lambda *a: multihead(*a, divisor=lambda dh, dm: 1.0), "not divided by √d_head"),
    (lambda *a: multihead(*a, divisor=lambda dh, dm: dh), "row 0 should be"),
    (
        lambda x, wq, wk, wv, h: multihead(x, wq, wk, wv, 1, divisor=lambda dh, dm: math.sqrt(dm)),
        "not split",
    ),
    (
        lambda x, wq, wk, wv, h: multihead(
            x, wq, wk, wv, 1, divisor=lambda dh, dm: math.sqrt(dm // h)
        ),
        "not split",
    ),
    (
        lambda x, wq, wk, wv, h: multihead(x, wq, wk, wv, h, split=_split_rows(h)),
        "split the sequence",
    ),
    (lambda *a: multihead(*a, axis=-2), "wrong axis"),
    (lambda *a: multihead(*a, axis=0), ("wrong axis", "the heads")),
    (
        lambda *a: multihead(*a, merge=lambda out, seq, dm: out.reshape(seq, dm)),
        "head axis back",
    ),
    (
        lambda x, wq, wk, wv, h: multihead(
            x,
            wq,
            wk,
            wv,
            h,
            split=lambda a: a.reshape(h, a.shape[0], -1),
            merge=lambda out, seq, dm: out.reshape(seq, dm),
        ),
        "mixes words between heads",
    ),
    (
        lambda *a: multihead(*a)[:, : a[0].shape[1] // a[4]],
        ("output should have shape", "(6, 12)"),
    ),
]
MULTIHEAD_WRONG_IDS = [
    "sqrt-d_model",
    "no-divisor",
    "d_head",
    "no-split",
    "no-split-root-head",
    "split-sequence",
    "axis",
    "axis-heads",
    "merge-no-transpose",
    "reshape-no-transpose",
    "one-head-out",
]


@pytest.mark.parametrize(("fn", "hint"), MULTIHEAD_WRONG, ids=MULTIHEAD_WRONG_IDS)
def test_multihead_wrong_answers(fn, hint, capsys):
    assert_not_yet(capsys, check_multihead_attention, fn, hint=hint)


@settings(max_examples=20, deadline=None)
@given(factor=st.floats(0.5, 0.97) | st.floats(1.03, 3))
def test_multihead_checker_rejects_any_other_divisor(factor):
    wrong = lambda *a: multihead(*a, divisor=lambda dh, dm: factor * math.sqrt(dh))  # noqa: E731
    assert quiet(check_multihead_attention, wrong) is False


@settings(max_examples=20, deadline=None)
@given(factor=st.floats(0.5, 0.99) | st.floats(1.01, 3))
def test_score_gradient_checker_rejects_any_scaled_gradient(factor):
    def scaled(*args):
        grad_q, grad_k = score_gradient(*args)
        return factor * grad_q, grad_k

    assert quiet(check_score_gradient, scaled) is False


def test_multihead_float_head_size_is_named(capsys):
    def float_d_head(x, w_q, w_k, w_v, n_heads):
        seq, d_model = x.shape
        d_head = d_model / n_heads  # a float: reshape refuses it
        q = (x @ w_q).reshape(seq, n_heads, d_head)
        return q.reshape(seq, d_model)

    assert_not_yet(
        capsys, check_multihead_attention, float_d_head, hint=("TypeError", "whole number")
    )
