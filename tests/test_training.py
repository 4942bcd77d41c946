"""Tests for course_lib.training: hand-written gradients, the training loop, the data."""

import re

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from course_lib.attention import scaled_dot_product_attention
from course_lib.training import (
    VERB_OBJECT_SENTENCES,
    TrainingExample,
    attention_weights,
    loss_and_grads,
    random_projections,
    target_attention,
    train_projections,
)


def random_examples(rng, d, n_sentences=3):
    """Random sentences of 2..6 words with 1..3 (row, target) pairs each (rows may repeat)."""
    examples = []
    for _ in range(n_sentences):
        seq_len = int(rng.integers(2, 7))
        n_pairs = int(rng.integers(1, 4))
        rows = rng.integers(0, seq_len, size=n_pairs)
        targets = rng.integers(0, seq_len, size=n_pairs)
        words = tuple(f"w{i}" for i in range(seq_len))
        examples.append(TrainingExample(words, rng.normal(size=(seq_len, d)), rows, targets))
    return examples


def numerical_grads(w_q, w_k, examples, eps=1e-6):
    """Central finite differences of the loss, one entry at a time."""
    grads = []
    for which in (0, 1):
        params = [w_q.copy(), w_k.copy()]
        grad = np.zeros_like(params[which])
        for index in np.ndindex(grad.shape):
            original = params[which][index]
            params[which][index] = original + eps
            plus, _ = loss_and_grads(*params, examples)
            params[which][index] = original - eps
            minus, _ = loss_and_grads(*params, examples)
            params[which][index] = original
            grad[index] = (plus - minus) / (2 * eps)
        grads.append(grad)
    return grads


def relative_error(a, b):
    return np.linalg.norm(a - b) / max(np.linalg.norm(a) + np.linalg.norm(b), 1e-300)


@settings(max_examples=50, deadline=None)
@given(
    d=st.integers(1, 6),
    d_k=st.integers(1, 5),
    n_sentences=st.integers(1, 3),
    seed=st.integers(0, 2**32 - 1),
)
def test_gradients_match_central_finite_differences(d, d_k, n_sentences, seed):
    rng = np.random.default_rng(seed)
    examples = random_examples(rng, d, n_sentences)
    w_q = rng.normal(size=(d, d_k))
    w_k = rng.normal(size=(d, d_k))
    _, (grad_q, grad_k) = loss_and_grads(w_q, w_k, examples)
    # Central differences have an absolute rounding error of about 1e-10 here (machine epsilon
    # times the loss, divided by eps); when the softmax is saturated the gradient itself is that
    # small and no relative comparison is meaningful, so such draws are skipped (rare).
    assume(min(np.linalg.norm(grad_q), np.linalg.norm(grad_k)) > 1e-3)
    num_q, num_k = numerical_grads(w_q, w_k, examples)
    assert relative_error(grad_q, num_q) < 1e-6
    assert relative_error(grad_k, num_k) < 1e-6


def test_gradient_check_would_catch_a_wrong_gradient():
    # The finite-difference check is not vacuous: dropping the 1/sqrt(d_k) factor fails it.
    rng = np.random.default_rng(1)
    examples = random_examples(rng, d=4)
    w_q, w_k = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
    _, (grad_q, _) = loss_and_grads(w_q, w_k, examples)
    num_q, _ = numerical_grads(w_q, w_k, examples)
    assert relative_error(grad_q * np.sqrt(3), num_q) > 1e-2


def test_loss_is_mean_negative_log_of_target_weights():
    rng = np.random.default_rng(2)
    examples = random_examples(rng, d=5)
    w_q, w_k = random_projections(5, 3, seed=4)
    loss, _ = loss_and_grads(w_q, w_k, examples)
    assert loss == pytest.approx(-np.log(target_attention(examples, w_q, w_k)).mean())


def test_attention_weights_agree_with_scaled_dot_product_attention():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(5, 6))  # (seq_len, d)
    w_q, w_k = random_projections(6, 4, seed=0)
    _, expected = scaled_dot_product_attention(x @ w_q, x @ w_k, x)
    weights = attention_weights(x, w_q, w_k)
    assert weights.shape == (5, 5)
    np.testing.assert_allclose(weights, expected)
    np.testing.assert_allclose(weights.sum(axis=-1), 1.0)


def test_training_decreases_loss_and_raises_target_attention():
    rng = np.random.default_rng(5)
    examples = random_examples(rng, d=8, n_sentences=4)
    w_q0, w_k0 = random_projections(8, 4, seed=0)
    w_q, w_k, losses = train_projections(examples, w_q=w_q0, w_k=w_k0, steps=200)
    assert losses.shape == (201,)
    assert losses[-1] < 0.5 * losses[0]
    assert np.all(np.diff(losses) <= 1e-12)  # small enough steps: never goes up
    before = target_attention(examples, w_q0, w_k0)
    after = target_attention(examples, w_q, w_k)
    # a sentence may ask one row for two targets; the sum over each row's targets must grow
    assert after.sum() > before.sum()


def test_train_projections_does_not_modify_its_inputs():
    rng = np.random.default_rng(6)
    examples = random_examples(rng, d=4)
    w_q0, w_k0 = random_projections(4, 2, seed=0)
    saved = w_q0.copy(), w_k0.copy()
    train_projections(examples, w_q=w_q0, w_k=w_k0, steps=5)
    np.testing.assert_array_equal(w_q0, saved[0])
    np.testing.assert_array_equal(w_k0, saved[1])


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_training_is_deterministic_given_the_seed(seed):
    examples = random_examples(np.random.default_rng(7), d=5)
    first = train_projections(examples, d_k=3, steps=20, seed=seed)
    second = train_projections(examples, d_k=3, steps=20, seed=seed)
    for a, b in zip(first, second, strict=True):
        np.testing.assert_array_equal(a, b)


def test_different_seeds_give_different_starts():
    w_q0, _ = random_projections(6, 3, seed=0)
    w_q1, _ = random_projections(6, 3, seed=1)
    assert not np.allclose(w_q0, w_q1)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"x": np.zeros(3), "rows": [0], "targets": [0]}, "seq_len, d"),
        ({"x": np.zeros((3, 2)), "rows": [0, 1], "targets": [0]}, "same shape"),
        ({"x": np.zeros((3, 2)), "rows": [3], "targets": [0]}, "0..2"),
        ({"x": np.zeros((3, 0)), "rows": [0], "targets": [1]}, r"\(3, 0\).*at least one"),
    ],
)
def test_training_example_rejects_bad_input(kwargs, message):
    words = ("a", "b", "c")
    with pytest.raises(ValueError, match=message):
        TrainingExample(words, **kwargs)


@pytest.mark.parametrize("rows", [[0.7], [True], ["1"], [1.0]])
def test_training_example_refuses_indices_that_are_not_whole_numbers(rows):
    """The issue: TrainingExample(rows=[0.7]) silently trained row 0."""
    with pytest.raises(TypeError, match=r"rows must be whole numbers \(word indices\)"):
        TrainingExample(("a", "b"), np.eye(2), rows=rows, targets=[1])
    assert TrainingExample(("a", "b"), np.eye(2), rows=np.int64(0), targets=[1]).rows.tolist() == [
        0
    ]


@pytest.mark.parametrize("examples", [["x"], "x", [None], 5, [np.eye(2)]])
def test_train_projections_names_what_is_not_an_example(examples):
    """The issue: train_projections(["x"]) raised AttributeError."""
    with pytest.raises(TypeError, match="TrainingExample"):
        train_projections(examples)
    with pytest.raises(TypeError, match="TrainingExample"):
        loss_and_grads(np.eye(2), np.eye(2), examples)


def test_one_example_alone_is_accepted():
    example = TrainingExample(("a", "b"), np.eye(2), [0], [1])
    assert train_projections(example, d_k=2, steps=1).losses.shape == (2,)


# ----------------------------------------------------------------- random_projections


@pytest.mark.parametrize(
    ("d", "d_k", "error"),
    [
        (0, 4, ValueError),
        (4, 0, ValueError),
        (-1, 4, ValueError),
        (4.0, 4, TypeError),
        (4, "4", TypeError),
        (True, 4, TypeError),
    ],
)
def test_random_projections_names_a_bad_size(d, d_k, error):
    """The issue: init_projections(0, 4) raised ZeroDivisionError."""
    with pytest.raises(error, match=r"d(_k)? must be"):
        random_projections(d, d_k)


def test_random_projections_are_n_0_1_over_d():
    d, d_k = 400, 300
    w_q, w_k = random_projections(d, d_k, seed=3)
    assert w_q.shape == w_k.shape == (d, d_k) and w_q.dtype == np.float64
    for w in (w_q, w_k):  # 120,000 draws each: mean within 5 standard errors, variance 1/d
        assert abs(w.mean()) < 5 * np.sqrt(1 / d / w.size)
        assert abs(w.var() * d - 1) < 0.02
    assert abs(np.corrcoef(w_q.ravel(), w_k.ravel())[0, 1]) < 0.02  # independent draws


@pytest.mark.parametrize("d_k", [64, 16])
def test_random_projections_scale_lengths_by_d_k_over_d(d_k):
    """E|x W|^2 = (d_k / d) |x|^2: lengths kept on average when d_k = d (the docstring)."""
    x = np.random.default_rng(0).normal(size=(2000, 64))
    w_q, _ = random_projections(64, d_k, seed=1)
    ratio = np.linalg.norm(x @ w_q, axis=1) ** 2 / np.linalg.norm(x, axis=1) ** 2
    assert abs(np.mean(ratio) / (d_k / 64) - 1) < 0.2


def test_random_projections_are_seeded_fresh_and_independent_arrays():
    a_q, a_k = random_projections(8, 4, seed=5)
    b_q, b_k = random_projections(8, 4, seed=5)
    np.testing.assert_array_equal(a_q, b_q)
    np.testing.assert_array_equal(a_k, b_k)
    a_q[:] = 0.0  # the caller's to change: the next call and w_k are not touched
    assert not np.shares_memory(a_q, a_k)
    np.testing.assert_array_equal(random_projections(8, 4, seed=5)[0], b_q)


def test_random_projections_keep_the_draws_of_the_old_init_projections():
    """Notebook 04's numbers were made with init_projections(d, d_k, seed): same matrices."""
    rng = np.random.default_rng(0)
    old_q = rng.normal(0.0, 1 / np.sqrt(64), size=(64, 16))
    old_k = rng.normal(0.0, 1 / np.sqrt(64), size=(64, 16))
    w_q, w_k = random_projections(64, 16, seed=0)
    np.testing.assert_array_equal(w_q, old_q)
    np.testing.assert_array_equal(w_k, old_k)


def test_the_module_docstring_writes_no_gradient_formula():
    """Notebook 04 asks for the gradient: help(course_lib.training) must not show it."""
    import course_lib.training

    doc = course_lib.training.__doc__
    assert "dL/dQ" not in doc and "dL/dW_Q" not in doc and "G @ keys" not in doc
    assert "onehot" not in doc


def test_loss_and_grads_names_both_shapes():
    example = TrainingExample(("a", "b"), np.zeros((2, 3)), [0], [1])
    with pytest.raises(ValueError, match=r"\(3, 2\).*\(3, 4\)"):
        loss_and_grads(np.zeros((3, 2)), np.zeros((3, 4)), [example])
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(4, 2\)"):
        loss_and_grads(np.zeros((4, 2)), np.zeros((4, 2)), [example])


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"steps": -1}, ValueError, "steps must be at least 0, got -1"),
        ({"steps": 2.5}, TypeError, "steps must be a whole number"),
        ({"d_k": 0}, ValueError, "d_k must be at least 1, got 0"),
        ({"d_k": "16"}, TypeError, "d_k must be a whole number"),
        ({"learning_rate": 0.0}, ValueError, "learning_rate must be a finite number above 0"),
        ({"learning_rate": float("nan")}, ValueError, "learning_rate must be a finite"),
        ({"learning_rate": "0.5"}, TypeError, "learning_rate must be a number"),
        ({"examples": []}, ValueError, "examples is empty"),
    ],
)
def test_train_projections_rejects_bad_arguments(kwargs, error, message):
    example = TrainingExample(("a", "b"), np.eye(2), [0], [1])
    kwargs = {"examples": [example], **kwargs}
    with pytest.raises(error, match=message):
        train_projections(**kwargs)


def test_d_k_zero_in_given_matrices_is_named():
    example = TrainingExample(("a", "b"), np.eye(2), [0], [1])
    with pytest.raises(ValueError, match="d_k is 0"):
        train_projections([example], w_q=np.zeros((2, 0)), w_k=np.zeros((2, 0)))


def test_zero_steps_returns_the_start():
    example = TrainingExample(("a", "b"), np.eye(2), [0], [1])
    w_q, w_k, losses = train_projections([example], steps=0, w_q=np.eye(2), w_k=np.eye(2))
    np.testing.assert_array_equal(w_q, np.eye(2))
    assert losses.shape == (1,) and losses[0] == loss_and_grads(np.eye(2), np.eye(2), [example])[0]


# --- the real training set of notebook 04 (needs the bundled vectors) -----------------


@pytest.fixture(scope="module")
def verb_object_examples():
    pytest.importorskip("course_lib.embeddings")
    from course_lib.training import verb_object_examples

    return verb_object_examples()


def test_every_verb_and_object_is_in_the_bundled_vocabulary(verb_object_examples):
    assert len(verb_object_examples) == len(VERB_OBJECT_SENTENCES)
    for example, (_, pairs) in zip(verb_object_examples, VERB_OBJECT_SENTENCES, strict=True):
        found = [
            (example.words[r], example.words[t])
            for r, t in zip(*[example.rows, example.targets], strict=True)
        ]
        assert found == list(pairs)


def test_training_on_verb_object_sentences_makes_verbs_attend_to_objects(
    verb_object_examples,
):
    w_q0, w_k0 = random_projections(verb_object_examples[0].x.shape[1], 16, seed=0)
    w_q, w_k, losses = train_projections(verb_object_examples, w_q=w_q0, w_k=w_k0)
    assert losses[-1] < 0.25 * losses[0]
    before = target_attention(verb_object_examples, w_q0, w_k0)
    after = target_attention(verb_object_examples, w_q, w_k)
    assert np.all(after > before)
    for example in verb_object_examples:  # each verb's strongest key is now its object
        weights = attention_weights(example.x, w_q, w_k)
        np.testing.assert_array_equal(weights[example.rows].argmax(axis=-1), example.targets)


def test_divergence_names_the_step_and_the_learning_rate(verb_object_examples):
    """learning_rate=1e3 blows up; the message says so, at the first step that does."""
    with pytest.raises(ValueError, match="training diverged at step") as info:
        train_projections(verb_object_examples, learning_rate=1e3)
    found = re.search(r"diverged at step (\d+) with learning_rate=1000\b", str(info.value))
    assert found, str(info.value)
    assert "smaller learning rate" in str(info.value)
    step = int(found.group(1))
    # The step named is the first bad one: one step fewer trains without error.
    _, _, losses = train_projections(verb_object_examples, steps=step - 1, learning_rate=1e3)
    assert np.isfinite(losses).all()
