"""The d_k explorer (course_lib.explorer_dk) without a browser: set attributes and controls,
read the numbers and the HTML. Runs on ipywidgets 7.7 and 8.x."""

import base64
import math
import re

import numpy as np
import pytest

widgets = pytest.importorskip("ipywidgets")

from explorer_helpers import cell_colours_of, summary_of, walk  # noqa: E402

from course_lib import dk_experiment, explorer_dk  # noqa: E402
from course_lib.explorer_dk import D_K_CHOICES, DkExplorer, dk_explorer  # noqa: E402

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def dk():
    return dk_explorer()


def reference_softmax(scores):
    exps = np.exp(scores - scores.max(axis=-1, keepdims=True))
    return exps / exps.sum(axis=-1, keepdims=True)


def test_controls_and_defaults(dk):
    assert isinstance(dk, DkExplorer) and "course-dk-explorer" in dk._dom_classes
    c = dk.controls
    assert isinstance(c["d_k"], widgets.SelectionSlider) and c["d_k"].continuous_update
    assert list(c["d_k"].options) == list(D_K_CHOICES) == [2**i for i in range(11)]
    assert isinstance(c["divide_by"], widgets.ToggleButtons)
    assert [value for _, value in c["divide_by"].options] == ["1", "sqrt(d_k)", "d_k"]
    assert isinstance(c["same_qk"], widgets.Checkbox) and isinstance(c["resample"], widgets.Button)
    assert dk.d_k == 64 and dk.divide_by == "sqrt(d_k)" and dk.divisor == 8.0 and dk.seed == 0
    assert dk.same_qk is False and dk.status == "" and dk.colour_limits == (0.0, 1.0)
    assert [w for w in walk(dk) if "Slider" in type(w).__name__] == [c["d_k"]]


@pytest.mark.parametrize(
    "name, value, control",
    [("d_k", 256, "d_k"), ("divide_by", "d_k", "divide_by"), ("same_qk", True, "same_qk")],
)
def test_attributes_and_controls_move_together(dk, name, value, control):
    before, drawn = dk.view_html, dk.draw_count
    setattr(dk, name, value)
    assert dk.controls[control].value == value and dk.draw_count == drawn + 1
    assert dk.view_html != before
    fresh = dk_explorer()
    fresh.controls[control].value = value
    assert getattr(fresh, name) == value
    np.testing.assert_array_equal(fresh.weights, dk.weights)


@pytest.mark.parametrize("divide_by", ["1", "sqrt(d_k)", "d_k"])
def test_divide_by_sets_the_divisor_and_both_heatmaps_stay_fixed_0_to_1(dk, divide_by):
    dk.d_k = 256
    dk.divide_by = divide_by
    assert dk.divisor == {"1": 1.0, "sqrt(d_k)": 16.0, "d_k": 256.0}[divide_by]
    view = dk.view_html
    assert view.count("colours fixed 0–1") == 2 and view.count("0.00</span>") == 2
    np.testing.assert_allclose(dk.weights.sum(axis=-1), 1.0)
    assert len(cell_colours_of(view, 0)) == len(cell_colours_of(view, 1)) == dk.seq_len**2


def test_weights_are_the_softmax_of_the_scaled_scores_of_the_first_example(dk):
    dk.d_k = 16
    queries, keys, _, _ = dk_experiment.draw(dk.d_k, dk.seq_len, dk.samples, dk.seed)
    scores = queries[0] @ keys[0].T  # (seq, seq)
    np.testing.assert_allclose(dk.weights, reference_softmax(scores / 4.0), atol=1e-12)
    np.testing.assert_allclose(dk.weights_unscaled, reference_softmax(scores), atol=1e-12)


def test_entropy_orders_the_three_divisors_and_the_gradient_vanishes_unscaled(dk):
    dk.d_k = 512
    entropy = {key: row[1] for key, row in dk.table.items()}
    grad = {key: row[3] for key, row in dk.table.items()}
    assert entropy["1"] < 0.3 < 1.5 < entropy["sqrt(d_k)"] < entropy["d_k"]
    assert entropy["d_k"] > 0.97 * math.log(dk.seq_len)  # ÷ d_k: nearly uniform
    assert grad["1"] < 0.05 < 0.4 < grad["sqrt(d_k)"]
    assert dk.table["sqrt(d_k)"][0] == pytest.approx(1.0, rel=0.1)  # spread back to ~1


def test_same_qk_makes_the_rows_one_hot_on_the_diagonal_even_scaled(dk):
    independent = dk.entropy
    dk.same_qk = True
    assert dk.controls["same_qk"].value is True and dk.entropy < 0.2 * independent
    assert list(dk.weights.argmax(axis=1)) == list(range(dk.seq_len))
    assert "K = Q" in dk.view_html


def test_resample_draws_new_vectors_and_the_seed_reproduces_them(dk):
    first = dk.weights.copy()
    dk.controls["resample"].click()
    assert dk.seed == 1 and not np.allclose(dk.weights, first)
    np.testing.assert_array_equal(dk_explorer(seed=1).weights, dk.weights)
    dk.seed = 0
    np.testing.assert_array_equal(dk.weights, first)


def test_samples_is_passed_through_and_changes_the_note():
    explorer = dk_explorer(samples=3, seq_len=4)
    assert explorer.samples == 3 and explorer.weights_unscaled.shape == (4, 4)
    assert "3 examples of 4 words" in explorer.view_html
    assert dk_explorer(samples=5, seq_len=4).entropy != explorer.entropy  # more examples


def loss(scores, values, upstream):
    return float((upstream * (reference_softmax(scores) @ values)).sum())


def random_case(spread, seed=3):
    rng = np.random.default_rng(seed)
    scores = spread * rng.normal(size=(2, 4, 5))  # (samples, seq_q, seq_k)
    return scores, rng.normal(size=(2, 5, 8)), rng.normal(size=(2, 4, 8))


@pytest.mark.parametrize("spread", [0.5, 3.0, 30.0])
def test_the_measured_gradient_matches_finite_differences(spread):
    scores, values, upstream = random_case(spread)
    numeric = np.zeros_like(scores)
    for index in np.ndindex(scores.shape):
        step = np.zeros_like(scores)
        step[index] = 1e-6
        numeric[index] = (
            loss(scores + step, values, upstream) - loss(scores - step, values, upstream)
        ) / 2e-6
    norms = dk_experiment._measured_gradient_norms(scores, values, upstream)  # (2, 4)
    np.testing.assert_allclose(norms, np.linalg.norm(numeric, axis=-1), atol=1e-6)


@pytest.mark.parametrize("spread", [0.5, 3.0, 30.0])
def test_the_measured_gradient_matches_autograd(spread):
    torch = pytest.importorskip("torch")
    scores, values, upstream = random_case(spread)
    norms = dk_experiment._measured_gradient_norms(scores, values, upstream)  # (2, 4)
    s = torch.tensor(scores, requires_grad=True)
    out = torch.softmax(s, dim=-1) @ torch.tensor(values)
    (torch.tensor(upstream) * out).sum().backward()
    # both are exact to rounding: about 1e-16 absolute on a saturated row, 1e-9 relative elsewhere
    np.testing.assert_allclose(norms, s.grad.norm(dim=-1).numpy(), rtol=1e-9, atol=1e-15)


def test_no_backward_formula_is_public():
    assert not hasattr(explorer_dk, "score_gradient")
    public = [name for name in dir(explorer_dk) if not name.startswith("_")]
    assert not any("gradient" in name or "backward" in name for name in public), public


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"d_k": 3}, ValueError, "d_k must be a power of two from 1 to 1024, not 3"),
        ({"d_k": 2048}, ValueError, "d_k must be from 1 to 1024"),
        ({"d_k": 64.0}, TypeError, "d_k must be a whole number"),
        ({"seq_len": 1}, ValueError, "seq_len must be from 2 to 64"),
        ({"seq_len": 2.5}, TypeError, "seq_len must be a whole number"),
        ({"seed": -1}, ValueError, "seed must be at least 0, not -1"),
        ({"seed": "0"}, TypeError, "seed must be a whole number"),
        ({"samples": 0}, ValueError, "samples must be from 1 to 4096"),
        ({"divide_by": "2"}, ValueError, "divide_by must be one of '1', 'sqrt(d_k)', 'd_k'"),
    ],
)
def test_bad_arguments_are_clear_errors(kwargs, error, message):
    with pytest.raises(error, match=re.escape(message)):
        dk_explorer(**kwargs)


@pytest.mark.parametrize(
    "name, value, message",
    [("d_k", 100, "power of two"), ("seed", -2, "at least 0"), ("divide_by", "x", "one of")],
)
def test_bad_attribute_values_are_refused(dk, name, value, message):
    before = (dk.state(), dk.view_html)
    with pytest.raises(ValueError, match=message):
        setattr(dk, name, value)
    assert (dk.state(), dk.view_html) == before and dk.status == ""


def test_a_failure_becomes_a_message_and_the_controls_go_back(dk, monkeypatch):
    before = (dk.d_k, dk.weights.copy(), dk.view_html)

    def broken(*args, **kwargs):
        raise EOFError("no more numbers")

    monkeypatch.setattr(dk, "_measure", broken)
    dk.controls["d_k"].value = 512
    assert "EOFError" in dk.status and dk.status.endswith("the last setting that worked.")
    assert dk.controls["d_k"].value == 64 and dk.d_k == before[0]
    assert dk.view_html == before[2]
    np.testing.assert_array_equal(dk.weights, before[1])


def test_mimebundle_has_a_png(dk):
    data = dk._repr_mimebundle_()
    assert base64.b64decode(data["image/png"]).startswith(PNG_SIGNATURE)
    assert "d_k=64" in data["text/plain"]


def test_each_redraw_is_summarised_in_one_line(dk):
    _, entropy, top, grad = dk.table[dk.divide_by]
    assert summary_of(dk) == (
        f"d_k = 64, scores ÷ 8: entropy {entropy:.2f} nats (even = 2.30), largest weight "
        f"{top:.2f} on average, gradient to scores {grad:.3g}"
    )
    dk.divide_by = "1"
    assert summary_of(dk).startswith("d_k = 64, scores ÷ 1: ")
    alt = re.search(r'alt="([^"]*)"', dk._repr_mimebundle_()["text/html"]).group(1)
    assert "Two heatmaps" in alt and "d_k = 64" in alt


def test_same_qk_takes_a_numpy_boolean(dk):
    dk.same_qk = np.bool_(True)  # e.g. the result of a comparison
    assert dk.same_qk is True and dk.controls["same_qk"].value is True
    with pytest.raises(Exception, match="same_qk"):
        dk.same_qk = "yes"


def test_the_axes_say_query_and_key_not_words(dk):
    """The rows and columns are random vectors q1..q10 and k1..k10, not words (H10)."""
    view = dk.view_html
    assert ">query</div>" in view and ">key</div>" in view
    assert "query word" not in view and "attended-to word" not in view
    assert "one row per query (the one looking), one column per key" in view
