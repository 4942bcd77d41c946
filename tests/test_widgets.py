"""The explorers without a browser: set control values, read the state and the HTML.

Runs on ipywidgets 7.7 and 8.x. The browser half is in tests/e2e/.
"""

import asyncio
import base64
import dataclasses
import html
import io
import math
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

widgets = pytest.importorskip("ipywidgets")

from course_lib import embeddings as emb  # noqa: E402
from course_lib import plotting  # noqa: E402
from course_lib.attention import attention_entropy  # noqa: E402
from course_lib.explorer_dk import D_K_CHOICES, score_gradient  # noqa: E402
from course_lib.widgets import (  # noqa: E402
    DEFAULT_SENTENCE,
    AttentionExplorer,
    DkExplorer,
    attention_explorer,
    dk_explorer,
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
DIVISORS = [0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0]


def reference_weights(queries, keys, divisor):
    """Attention weights written out independently of course_lib.attention."""
    scores = queries @ keys.T / divisor  # (n, n)
    scores = scores - scores.max(axis=1, keepdims=True)
    exp = np.exp(scores)
    return exp / exp.sum(axis=1, keepdims=True)


def vectors_of(sentence=DEFAULT_SENTENCE):
    return emb.embed_sentence(sentence).vectors.astype(np.float64)


def html_values(widget):
    """The value of every HTML widget inside ``widget`` (drawing any pending picture)."""
    if hasattr(widget, "view_html"):
        widget.view_html  # noqa: B018 - flushes a pending redraw
    found = []
    if isinstance(widget, widgets.HTML):
        found.append(widget.value)
    for child in getattr(widget, "children", ()):
        found.extend(html_values(child))
    return found


def cell_colours_of(view):
    """The background colours of the heatmap cells in the HTML, in row-major order."""
    cells = view[view.index('class="course-cells"') :]
    cells = cells[cells.index(">") + 1 : cells.index("</div></div>")]  # the cells' markup
    return re.findall(r"background:(#[0-9a-f]{6})", cells)


def snapshot(explorer):
    return (
        list(explorer.words),
        explorer.weights.copy(),
        explorer.view_html,
        list(explorer.controls["query"].options),
        explorer.divisor,
        explorer.query_index,
        explorer.projection,
        explorer.controls["divisor"].value,
        explorer.controls["query"].value,
        explorer.controls["projection"].value,
    )


def assert_same_view(before, after):
    assert after[0] == before[0]
    np.testing.assert_array_equal(after[1], before[1])
    assert after[2:] == before[2:]


def walk(widget):
    yield widget
    for child in getattr(widget, "children", ()):
        yield from walk(child)


@pytest.fixture
def explorer():
    return attention_explorer()


# -- AttentionExplorer: the first view ---------------------------------------------------------


def test_first_view_is_the_default_sentence_at_sqrt_dk_with_drink_as_query(explorer):
    x = vectors_of()
    assert isinstance(explorer, AttentionExplorer) and isinstance(explorer, widgets.VBox)
    assert explorer.words == ["i", "drink", "coke", "but", "eat", "steak"]
    assert explorer.words[explorer.query_index] == "drink"
    assert explorer.status == "" and explorer.projection == "none"
    assert explorer.d_k == 64 and explorer.divisor == pytest.approx(8.0)
    assert explorer.colour_limits == (0.0, 1.0)
    np.testing.assert_allclose(explorer.weights, reference_weights(x, x, 8.0), atol=1e-12)
    np.testing.assert_allclose(explorer.entropy, attention_entropy(explorer.weights))
    assert "course-attention-explorer" in explorer._dom_classes
    view = explorer.view_html
    assert 'class="course-explorer-picture"' in view
    assert "▸ drink" in view and "where &#x27;drink&#x27; looks" in view


def test_controls_are_the_documented_kinds(explorer):
    c = explorer.controls
    assert set(c) >= {"sentence", "query", "divisor", "divisor_one", "divisor_sqrt_dk"}
    assert set(c) >= {"colour_scale", "projection"}
    assert isinstance(c["sentence"], widgets.Text) and c["sentence"].continuous_update is False
    divisor = c["divisor"]
    assert isinstance(divisor, widgets.FloatLogSlider)
    assert divisor.description == "scores ÷" and divisor.continuous_update is True
    low, high = divisor.base**divisor.min, divisor.base**divisor.max
    assert low <= 0.5 and high >= 4 * math.sqrt(explorer.d_k)
    assert isinstance(c["query"], widgets.Dropdown)
    assert [label for label, _ in c["query"].options] == explorer.words
    assert list(c["colour_scale"].options) != [] and c["colour_scale"].value == "fixed"
    assert [value for _, value in c["projection"].options] == ["none", "random", "shared"]
    shown = {id(w) for w in walk(explorer)}
    assert all(id(control) in shown for control in c.values())
    # no control is called "scale" (scale multiplies; this slider divides)
    assert "scale" not in c
    assert not any("scale" in getattr(w, "description", "").lower() for w in walk(explorer))


def test_every_slider_of_both_explorers_is_live_while_dragging(explorer):
    sliders = [
        w for e in (explorer, dk_explorer()) for w in walk(e) if "Slider" in type(w).__name__
    ]
    assert len(sliders) == 2
    assert all(slider.continuous_update is True for slider in sliders)


# -- AttentionExplorer: each control changes its state -----------------------------------------


@pytest.mark.parametrize("divisor", DIVISORS)
def test_divisor_slider_sets_the_weights_and_colours_stay_fixed(explorer, divisor):
    x = vectors_of()
    explorer.controls["divisor"].value = divisor
    assert explorer.divisor == pytest.approx(divisor)
    np.testing.assert_allclose(explorer.weights, reference_weights(x, x, divisor), atol=1e-12)
    assert explorer.colour_limits == (0.0, 1.0)
    view = explorer.view_html
    assert f"scores ÷ {divisor:.2f}" in view and "colours fixed 0–1" in view
    colours = plotting.cell_colours(explorer.weights).reshape(-1, 4)  # (n * n, 4)
    expected = [plotting.hex_colour(c) for c in colours]
    assert cell_colours_of(view) == expected


def test_entropy_rises_as_the_divisor_grows(explorer):
    means = []
    for divisor in DIVISORS:
        explorer.controls["divisor"].value = divisor
        means.append(explorer.entropy.mean())
    assert all(b > a for a, b in zip(means, means[1:], strict=False)), means
    assert means[-1] <= math.log(len(explorer.words)) + 1e-9


def test_one_click_buttons_set_one_and_sqrt_dk(explorer):
    explorer.controls["divisor_one"].click()
    assert explorer.divisor == 1.0 and explorer.controls["divisor"].value == 1.0
    explorer.controls["divisor_sqrt_dk"].click()
    assert explorer.divisor == pytest.approx(8.0)
    assert explorer.controls["divisor"].value == pytest.approx(8.0)
    assert "8.00" in explorer.controls["divisor_sqrt_dk"].description


def test_stretch_colours_run_to_the_largest_weight_and_say_so(explorer):
    explorer.controls["divisor"].value = 32.0
    fixed_cells = cell_colours_of(explorer.view_html)
    explorer.controls["colour_scale"].value = "stretch"
    top = float(explorer.weights.max())
    assert top < 0.6 and explorer.colour_limits == (0.0, pytest.approx(top))
    view = explorer.view_html
    assert f"colours stretched 0–{top:.2f}" in view
    assert cell_colours_of(view) != fixed_cells  # the same weights, brighter colours
    explorer.controls["colour_scale"].value = "fixed"
    assert (
        explorer.colour_limits == (0.0, 1.0) and cell_colours_of(explorer.view_html) == fixed_cells
    )


@given(divisor=st.floats(min_value=0.25, max_value=64.0))
@settings(max_examples=25, deadline=None)
def test_with_q_equal_k_every_row_looks_most_at_itself(divisor):
    explorer = _shared_explorer()
    explorer.controls["projection"].value = "none"
    explorer.controls["divisor"].value = divisor
    n = len(explorer.words)
    assert list(explorer.weights.argmax(axis=1)) == list(range(n))


_CACHE = {}


def _shared_explorer():
    if "explorer" not in _CACHE:
        _CACHE["explorer"] = attention_explorer()
    return _CACHE["explorer"]


def test_mean_self_weight_q_equal_k_is_far_above_random_projections(explorer):
    """Measured here: 0.49 (Q = K = X), 0.50 (shared W), 0.17 (random W_Q != W_K) at ÷ 8."""
    measured = {}
    for projection in ("none", "shared", "random"):
        explorer.controls["projection"].value = projection
        assert explorer.divisor == pytest.approx(8.0) and explorer.status == ""
        measured[projection] = float(np.diag(explorer.weights).mean())
    assert measured["none"] == pytest.approx(0.49, abs=0.03), measured
    assert measured["shared"] == pytest.approx(0.49, abs=0.05), measured
    assert measured["random"] < 0.25, measured
    assert measured["none"] - measured["random"] > 0.2, measured
    # with W_Q != W_K the diagonal loses its place in at least one row
    assert (explorer.weights.argmax(axis=1) != np.arange(len(explorer.words))).any()


def test_projection_choices_use_seeded_random_matrices(explorer):
    x = vectors_of()
    d = x.shape[1]
    w_q, w_k = np.random.default_rng(0).standard_normal((2, d, d)) / math.sqrt(d)
    explorer.controls["projection"].value = "random"
    np.testing.assert_allclose(
        explorer.weights, reference_weights(x @ w_q, x @ w_k, 8.0), atol=1e-12
    )
    explorer.controls["projection"].value = "shared"
    np.testing.assert_allclose(
        explorer.weights, reference_weights(x @ w_q, x @ w_q, 8.0), atol=1e-12
    )
    assert "one random W for both" in explorer.view_html


def test_trained_projections_add_a_choice_and_set_d_k():
    rng = np.random.default_rng(1)
    w_q, w_k = rng.standard_normal((2, 64, 16)) / 8.0
    explorer = attention_explorer(projections=(w_q, w_k))
    options = [value for _, value in explorer.controls["projection"].options]
    assert options == ["none", "random", "shared", "trained"]
    explorer.controls["projection"].value = "trained"
    x = vectors_of()
    assert explorer.projection == "trained" and explorer.d_k == 16
    assert explorer.divisor == pytest.approx(4.0)  # a new d_k starts from sqrt(d_k)
    slider = explorer.controls["divisor"]
    assert slider.base**slider.max >= 4 * 4.0
    np.testing.assert_allclose(
        explorer.weights, reference_weights(x @ w_q, x @ w_k, 4.0), atol=1e-12
    )
    assert "4.00" in explorer.controls["divisor_sqrt_dk"].description


@pytest.mark.parametrize(
    "kwargs",
    [
        {"divisor": 0.0},
        {"divisor": float("nan")},
        {"projections": (np.ones((64, 8)), np.ones((64, 4)))},
        {"projections": np.ones((64, 8))},
        {"projections": (np.full((64, 8), np.nan), np.ones((64, 8)))},
        {"query": "pizza"},
        {"query": 99},
    ],
)
def test_bad_arguments_are_value_errors(kwargs):
    with pytest.raises(ValueError):
        attention_explorer(**kwargs)


def test_query_and_divisor_arguments():
    explorer = attention_explorer(query="steak", divisor=2.0)
    assert explorer.words[explorer.query_index] == "steak" and explorer.divisor == 2.0
    assert attention_explorer(query=0).query_index == 0


def test_query_dropdown_moves_the_highlight_not_the_weights(explorer):
    weights = explorer.weights.copy()
    explorer.controls["query"].value = 5
    assert explorer.query_index == 5
    np.testing.assert_array_equal(explorer.weights, weights)
    view = explorer.view_html
    assert "▸ steak" in view and "where &#x27;steak&#x27; looks" in view


def test_table_names_the_word_each_row_looks_at_besides_itself(explorer):
    for divisor in (1.0, 8.0, 32.0):
        explorer.controls["divisor"].value = divisor
        view = explorer.view_html
        table = view[view.index("course-numbers") :]
        rows = re.findall(r"<tr[^>]*><td>(.*?)</td><td>.*?</td><td>(.*?)</td><td>(.*?)</td>", table)
        assert [row[0] for row in rows] == explorer.words
        for i, (_, on_itself, other) in enumerate(rows):
            others = explorer.weights[i].copy()
            others[i] = -1
            assert other == explorer.words[int(others.argmax())] != explorer.words[i]
            assert on_itself == f"{explorer.weights[i, i]:.2f}"
    assert rows[1][2] == "coke" and rows[4][2] == "steak"  # drink -> coke, eat -> steak


def test_new_sentence_updates_words_and_keeps_the_query_word(explorer):
    explorer.controls["query"].value = explorer.words.index("steak")
    explorer.controls["sentence"].value = "the cat eats steak"
    expected = emb.embed_sentence("the cat eats steak")
    assert explorer.words == list(expected.words)
    assert explorer.weights.shape == (len(expected.words),) * 2
    assert explorer.words[explorer.query_index] == "steak"
    assert all(word in explorer._words_line.value for word in expected.words)


def test_repeated_words_get_distinct_choices(explorer):
    explorer.controls["sentence"].value = "the cat and the dog"
    labels = [label for label, _ in explorer.controls["query"].options]
    assert len(set(labels)) == len(labels) == len(explorer.words)


def test_redraw_is_in_place(explorer):
    children, view = list(explorer.children), explorer._view
    first = explorer.view_html
    explorer.controls["divisor"].value = 1.0
    second = explorer.view_html
    explorer.controls["sentence"].value = "eat the steak"
    assert list(explorer.children) == children and explorer._view is view
    assert len({first, second, explorer.view_html}) == 3


def test_a_burst_of_changes_in_a_kernel_is_drawn_once_with_the_newest_value(explorer):
    """Inside a running event loop (as in ipykernel) a burst of slider messages gives one
    drawing, after the burst, of the last value; the numbers follow every change at once."""
    slider = explorer.controls["divisor"]

    async def drag():
        drawn = explorer.draw_count
        for value in np.geomspace(1.0, 30.0, 40):
            slider.value = float(value)
            assert explorer.divisor == pytest.approx(value)  # state: at once
        assert explorer.draw_count == drawn  # picture: not yet
        await asyncio.sleep(0)
        return explorer.draw_count - drawn

    assert asyncio.run(drag()) == 1
    assert "scores ÷ 30.00" in explorer._view.value


def test_a_loop_that_ends_before_drawing_does_not_stop_later_drawings(explorer):
    async def change_and_leave():
        explorer.controls["divisor"].value = 3.0  # scheduled on a loop that then closes

    asyncio.run(change_and_leave())
    explorer.controls["divisor"].value = 5.0  # no loop now: drawn at once
    assert "scores ÷ 5.00" in explorer._view.value


def test_a_failure_while_drawing_becomes_a_message(explorer, monkeypatch):
    before = explorer.view_html

    def broken():
        raise KeyError("lost")

    monkeypatch.setattr(explorer, "_view_html", broken)
    explorer.controls["divisor"].value = 2.0
    assert "KeyError" in explorer.status and explorer._view.value == before


# -- AttentionExplorer: failures become messages, the last good state stays ------------------


BAD_SENTENCES = {
    "empty": "",
    "blank": "   ",
    "punctuation": "?! ... ,;",
    "no known word": "zzqxj qqxzv",
    "thousands of words": " ".join(["steak"] * 3000),
    "one huge unknown word": "q" * 100_000,
}


@pytest.mark.parametrize("name", BAD_SENTENCES)
def test_bad_sentence_keeps_the_last_good_view_and_the_typed_text(explorer, name):
    explorer.controls["divisor"].value = 3.0
    before = snapshot(explorer)
    text = BAD_SENTENCES[name]
    explorer.controls["sentence"].value = text  # must not raise
    assert explorer.status and len(explorer.status) < 500  # a short message ...
    assert any(html.escape(explorer.status[:40]) in value for value in html_values(explorer))
    assert_same_view(before, snapshot(explorer))  # ... and the last good view stays
    assert explorer.controls["sentence"].value == text
    explorer.controls["sentence"].value = "eat the steak"
    assert explorer.status == "" and "steak" in explorer.words


def test_a_huge_unknown_word_is_echoed_shortened(explorer):
    explorer.controls["sentence"].value = "eat steak " + "z" * 100_000
    assert explorer.words == ["eat", "steak"]
    assert "(100000 characters)" in explorer.status and len(explorer.status) < 200


def test_unknown_words_are_listed(explorer):
    explorer.controls["sentence"].value = "I drink zzqxj coke"
    assert explorer.missing == ["zzqxj"] and "zzqxj" in explorer.status


def test_bad_first_sentence_does_not_raise():
    explorer = attention_explorer("?!")
    assert explorer.words == [] and explorer.status
    explorer.controls["sentence"].value = "eat steak"
    assert explorer.words == ["eat", "steak"] and explorer.status == ""


@pytest.mark.parametrize(
    "name, value",
    [("divisor", float("nan")), ("query", None)],
)
def test_bad_control_values_are_refused_and_the_control_goes_back(explorer, name, value):
    before = snapshot(explorer)
    explorer.controls[name].value = value
    assert explorer.status.startswith("Choose a query word" if name == "query" else "The divisor")
    assert "last setting that worked" in explorer.status
    assert_same_view(before, snapshot(explorer))


@pytest.mark.parametrize("error", [AttributeError, EOFError, OSError])
def test_damaged_source_cache_gives_a_message_and_the_old_source(monkeypatch, error):
    monkeypatch.setattr(emb, "available_sources", lambda: ["bundled", "word2vec_sample"])
    explorer = attention_explorer()
    before = snapshot(explorer)
    real_load = emb.load_embeddings

    def load(source="bundled", **kwargs):
        if source == "word2vec_sample":
            raise error("damaged cache file")
        return real_load(source, **kwargs)

    monkeypatch.setattr(emb, "load_embeddings", load)
    explorer.controls["source"].value = "word2vec_sample"
    assert error.__name__ in explorer.status and "damaged cache file" in explorer.status
    assert explorer.controls["source"].value == "bundled" and explorer.source == "bundled"
    assert_same_view(before, snapshot(explorer))


def test_switching_source_changes_d_k_and_the_slider(monkeypatch):
    from gensim.models import KeyedVectors

    words = emb.embed_sentence(DEFAULT_SENTENCE).words
    small = KeyedVectors(vector_size=16)
    small.add_vectors(list(words), np.random.default_rng(0).standard_normal((len(words), 16)))
    real_load = emb.load_embeddings
    monkeypatch.setattr(emb, "available_sources", lambda: ["bundled", "word2vec_sample"])
    monkeypatch.setattr(
        emb,
        "load_embeddings",
        lambda source="bundled", **kw: small if source == "word2vec_sample" else real_load(source),
    )
    explorer = attention_explorer()
    explorer.controls["divisor"].value = 2.0
    explorer.controls["source"].value = "word2vec_sample"
    assert explorer.status == "" and explorer.d_k == 16
    assert explorer.divisor == pytest.approx(4.0) and explorer.controls["divisor"].value == 4.0
    x = small[list(words)].astype(np.float64)
    np.testing.assert_allclose(explorer.weights, reference_weights(x, x, 4.0), atol=1e-12)


def test_a_word_whose_vector_holds_nan_is_refused_by_name(explorer, monkeypatch):
    before = snapshot(explorer)
    real_embed = emb.embed_sentence

    def embed(sentence, embeddings=None):
        found = real_embed(sentence, embeddings)
        vectors = found.vectors.astype(np.float64).copy()
        vectors[found.words.index("coke"), 3] = np.nan
        return dataclasses.replace(found, vectors=vectors)

    monkeypatch.setattr(emb, "embed_sentence", embed)
    explorer.controls["sentence"].value = "eat coke now"
    assert "'coke'" in explorer.status and "NaN" in explorer.status
    assert_same_view(before, snapshot(explorer))  # .words and .weights both unchanged


def test_any_unexpected_error_while_recomputing_becomes_a_message(explorer, monkeypatch):
    import course_lib.attention

    before = snapshot(explorer)

    def broken(*args, **kwargs):
        raise RuntimeError("something odd")

    monkeypatch.setattr(course_lib.attention, "scaled_dot_product_attention", broken)
    explorer.controls["divisor"].value = 2.0
    assert "RuntimeError" in explorer.status and "something odd" in explorer.status
    assert_same_view(before, snapshot(explorer))
    monkeypatch.undo()
    explorer.controls["divisor"].value = 2.0
    assert explorer.status == "" and explorer.divisor == 2.0


def test_html_in_the_sentence_is_escaped(explorer):
    explorer.controls["sentence"].value = "<script>alert(1)</script> <b>eat</b> steak"
    for value in html_values(explorer):
        assert "<script" not in value and "<b>eat" not in value


def test_html_reaching_the_picture_and_messages_is_escaped(explorer, monkeypatch):
    # A tokenizer that keeps the markup, so raw text reaches the words, table and status.
    real_embed = emb.embed_sentence
    monkeypatch.setattr(emb, "tokenize", lambda sentence: sentence.split())

    def embed(sentence, embeddings=None):
        found = real_embed("eat steak", embeddings)
        words = ["<i>eat</i>", "steak"]
        return dataclasses.replace(found, words=words, missing=["<img src=x onerror=alert(1)>"])

    monkeypatch.setattr(emb, "embed_sentence", embed)
    explorer.controls["sentence"].value = "<i>eat</i> steak <img src=x onerror=alert(1)>"
    shown = " ".join(html_values(explorer))
    assert "<img" not in shown and "<i>eat" not in shown
    assert "&lt;i&gt;eat&lt;/i&gt;" in explorer.view_html
    assert "&lt;img src=x onerror=alert(1)&gt;" in shown


# -- display: live widget plus a static picture ------------------------------------------------


def pixels(png):
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=np.int16)


def test_mimebundle_has_widget_view_and_the_png_of_the_current_state(explorer):
    explorer.controls["divisor"].value = 2.0
    data = explorer._repr_mimebundle_()
    assert data["application/vnd.jupyter.widget-view+json"]["model_id"] == explorer.model_id
    png = base64.b64decode(data["image/png"])
    assert png.startswith(PNG_SIGNATURE) and "steak" in data["text/plain"]
    # the picture follows the state: a fresh explorer at the same settings draws the same
    # image, within a tolerance that allows anti-aliasing differences between machines
    fresh = pixels(attention_explorer(divisor=2.0).png)
    assert fresh.shape == pixels(png).shape
    assert np.abs(fresh - pixels(png)).mean() < 0.5
    other = pixels(attention_explorer(divisor=32.0).png)
    assert np.abs(other - pixels(png)).mean() > 2.0  # a real change is far above that


def test_no_static_png_inside_colab(explorer, monkeypatch):
    import sys
    import types

    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    data = explorer._repr_mimebundle_()
    assert "image/png" not in data and "application/vnd.jupyter.widget-view+json" in data


def test_ipython_display_sends_the_static_png(explorer, monkeypatch):
    import IPython.display
    from IPython.core.formatters import DisplayFormatter

    sent = []
    monkeypatch.setattr(IPython.display, "display", lambda obj, **kw: sent.append(obj))
    data, _ = DisplayFormatter().format(explorer)
    shown = data or sent[0]  # ipywidgets 8: returned; ipywidgets 7: sent by _ipython_display_
    assert {"application/vnd.jupyter.widget-view+json", "image/png"} <= set(shown)


# -- DkExplorer --------------------------------------------------------------------------------


@pytest.fixture
def dk():
    return dk_explorer()


def test_dk_explorer_controls_and_defaults(dk):
    assert isinstance(dk, DkExplorer) and "course-dk-explorer" in dk._dom_classes
    c = dk.controls
    assert isinstance(c["d_k"], widgets.SelectionSlider)
    assert list(c["d_k"].options) == list(D_K_CHOICES) == [2**i for i in range(11)]
    assert isinstance(c["divide_by"], widgets.ToggleButtons)
    assert [value for _, value in c["divide_by"].options] == ["1", "sqrt(d_k)", "d_k"]
    assert isinstance(c["same_qk"], widgets.Checkbox) and isinstance(c["resample"], widgets.Button)
    assert dk.d_k == 64 and dk.divide_by == "sqrt(d_k)" and dk.divisor == 8.0
    assert dk.same_qk is False and dk.status == "" and dk.colour_limits == (0.0, 1.0)


@pytest.mark.parametrize("divide_by", ["1", "sqrt(d_k)", "d_k"])
def test_divide_by_sets_the_divisor_and_both_heatmaps_stay_fixed_0_to_1(dk, divide_by):
    dk.controls["d_k"].value = 256
    dk.controls["divide_by"].value = divide_by
    assert dk.divisor == {"1": 1.0, "sqrt(d_k)": 16.0, "d_k": 256.0}[divide_by]
    assert dk.colour_limits == (0.0, 1.0)
    view = dk.view_html
    assert view.count("colours fixed 0–1") == 2 and view.count("0.00</span>") == 2
    np.testing.assert_allclose(dk.weights.sum(axis=-1), 1.0)


def test_entropy_orders_the_three_divisors_and_the_gradient_vanishes_unscaled(dk):
    dk.controls["d_k"].value = 512
    entropy = {key: row[1] for key, row in dk.table.items()}
    grad = {key: row[3] for key, row in dk.table.items()}
    assert entropy["1"] < 0.3 < 1.5 < entropy["sqrt(d_k)"] < entropy["d_k"]
    assert entropy["d_k"] > 0.97 * math.log(dk.seq_len)  # ÷ d_k: nearly uniform
    assert grad["1"] < 0.05 < 0.4 < grad["sqrt(d_k)"]
    assert dk.table["sqrt(d_k)"][0] == pytest.approx(1.0, rel=0.1)  # spread back to ~1


def test_same_qk_makes_the_rows_one_hot_on_the_diagonal_even_scaled(dk):
    independent = dk.entropy
    dk.controls["same_qk"].value = True
    assert dk.same_qk and dk.entropy < 0.2 * independent
    assert list(dk.weights.argmax(axis=1)) == list(range(dk.seq_len))
    assert "K = Q" in dk.view_html


def test_resample_draws_new_vectors_and_the_seed_reproduces_them(dk):
    first = dk.weights.copy()
    dk.controls["resample"].click()
    assert dk.seed == 1 and not np.allclose(dk.weights, first)
    np.testing.assert_array_equal(dk_explorer(seed=1).weights, dk.weights)


def test_grad_norm_is_the_median_row_norm_of_the_finite_difference_gradient():
    rng = np.random.default_rng(3)
    scores, values, upstream = (
        rng.normal(size=(4, 5)),
        rng.normal(size=(5, 8)),
        rng.normal(size=(4, 8)),
    )

    def loss(s):
        w = np.exp(s - s.max(axis=1, keepdims=True))
        return float((upstream * ((w / w.sum(axis=1, keepdims=True)) @ values)).sum())

    numeric = np.zeros_like(scores)
    for index in np.ndindex(scores.shape):
        step = np.zeros_like(scores)
        step[index] = 1e-6
        numeric[index] = (loss(scores + step) - loss(scores - step)) / 2e-6
    weights = np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(score_gradient(weights, values, upstream), numeric, atol=1e-7)


def test_dk_failure_becomes_a_message_and_the_controls_go_back(dk, monkeypatch):
    before = (dk.d_k, dk.weights.copy(), dk.view_html)

    def broken(*args, **kwargs):
        raise EOFError("no more numbers")

    monkeypatch.setattr(dk, "_measure", broken)
    dk.controls["d_k"].value = 512
    assert "EOFError" in dk.status and dk.controls["d_k"].value == 64
    assert dk.d_k == before[0] and dk.view_html == before[2]
    np.testing.assert_array_equal(dk.weights, before[1])


@pytest.mark.parametrize("kwargs", [{"d_k": 3}, {"d_k": 2048}, {"seq_len": 1}, {"seq_len": 2.5}])
def test_dk_bad_arguments_are_value_errors(kwargs):
    with pytest.raises(ValueError):
        dk_explorer(**kwargs)


def test_dk_mimebundle_has_a_png(dk):
    data = dk._repr_mimebundle_()
    assert base64.b64decode(data["image/png"]).startswith(PNG_SIGNATURE)


# -- the picture machinery ---------------------------------------------------------------------


@given(text=st.text(max_size=300), limit=st.integers(min_value=1, max_value=80))
def test_shorten_is_bounded_and_keeps_the_start(text, limit):
    from course_lib.explorer_view import shorten

    out = shorten(text, limit)
    assert out.startswith(text[:limit]) and len(out) <= limit + 30
    assert (out == text) == (len(text) <= limit)


@given(
    labels=st.lists(st.text(min_size=1, max_size=12), min_size=1, max_size=12),
    seed=st.integers(0, 2**16),
)
@settings(max_examples=30, deadline=None)
def test_heatmap_html_has_one_cell_per_weight_and_escapes_every_label(labels, seed):
    from course_lib.explorer_view import heatmap_html

    n = len(labels)
    weights = np.random.default_rng(seed).dirichlet(np.ones(n), size=n)  # (n, n) rows sum to 1
    view = heatmap_html(weights, labels, labels, title="<b>t</b>")
    assert len(cell_colours_of(view)) == n * n
    assert "<b>t</b>" not in view
    for label in labels:
        assert html.escape(label) in view
    # no label adds or closes a tag: the markup is that of plain labels
    plain = heatmap_html(weights, [f"w{i}" for i in range(n)], [f"w{i}" for i in range(n)])
    assert re.findall(r"</?[a-z]+", view) == re.findall(r"</?[a-z]+", plain)
