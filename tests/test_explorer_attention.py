"""The attention explorer (course_lib.explorer_attention) without a browser: set attributes
and control values, read the state and the HTML. Runs on ipywidgets 7.7 and 8.x; the
browser half is in tests/e2e/."""

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

from explorer_helpers import (  # noqa: E402
    assert_same_view,
    cell_colours_of,
    html_values,
    reference_weights,
    snapshot,
    summary_of,
    walk,
)

from course_lib import embeddings as emb  # noqa: E402
from course_lib import plotting  # noqa: E402
from course_lib.attention import attention_entropy  # noqa: E402
from course_lib.explorer_attention import (  # noqa: E402
    DEFAULT_SENTENCE,
    AttentionExplorer,
    attention_explorer,
)
from course_lib.training import random_projections  # noqa: E402

DIVISORS = [0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0]


def vectors_of(sentence=DEFAULT_SENTENCE):
    return emb.embed_sentence(sentence).vectors.astype(np.float64)


@pytest.fixture
def explorer():
    return attention_explorer()


# -- the first view ------------------------------------------------------------------------------


def test_first_view_is_the_default_sentence_at_sqrt_dk_with_drink_as_query(explorer):
    x = vectors_of()
    assert isinstance(explorer, AttentionExplorer) and isinstance(explorer, widgets.VBox)
    assert explorer.words == ["i", "drink", "coke", "but", "eat", "steak"]
    assert explorer.query == "drink" and explorer.query_index == 1
    assert explorer.sentence == DEFAULT_SENTENCE and explorer.source == "bundled"
    assert explorer.status == "" and explorer.projection == "none"
    assert explorer.d_k == 64 and explorer.divisor == pytest.approx(8.0)
    assert explorer.colour_scale == "fixed" and explorer.colour_limits == (0.0, 1.0)
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
    assert c["sentence"].value == DEFAULT_SENTENCE
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


def test_the_slider_is_live_while_dragging(explorer):
    sliders = [w for w in walk(explorer) if "Slider" in type(w).__name__]
    assert len(sliders) == 1 and sliders[0].continuous_update is True


# -- declared state: attributes and controls move together ----------------------------------------


@pytest.mark.parametrize(
    "name, value, control, shown",
    [
        ("divisor", 32.0, "divisor", 32.0),
        ("colour_scale", "stretch", "colour_scale", "stretch"),
        ("projection", "shared", "projection", "shared"),
        ("query_index", 5, "query", 5),
        ("sentence", "eat the steak", "sentence", "eat the steak"),
    ],
)
def test_setting_an_attribute_moves_its_control_and_redraws(explorer, name, value, control, shown):
    before, drawn = explorer.view_html, explorer.draw_count
    setattr(explorer, name, value)
    assert getattr(explorer, name) == value and explorer.status == ""
    assert explorer.controls[control].value == shown
    assert explorer.draw_count == drawn + 1 and explorer.view_html != before


@pytest.mark.parametrize(
    "control, value, name",
    [
        ("divisor", 2.0, "divisor"),
        ("colour_scale", "stretch", "colour_scale"),
        ("projection", "random", "projection"),
        ("query", 4, "query_index"),
        ("sentence", "eat the steak", "sentence"),
    ],
)
def test_setting_a_control_moves_its_attribute(explorer, control, value, name):
    explorer.controls[control].value = value
    assert getattr(explorer, name) == value and explorer.status == ""


def test_query_reads_as_the_word_and_takes_a_word_or_an_index(explorer):
    explorer.query = "steak"
    assert explorer.query_index == 5 and explorer.controls["query"].value == 5
    explorer.query = 2
    assert explorer.query == "coke" and "▸ coke" in explorer.view_html
    explorer.sentence = "the cat and the dog"
    explorer.query_index = 3  # the second "the": told apart by its index
    assert explorer.query == "the" and explorer.query_index == 3
    assert explorer.controls["query"].value == 3


@pytest.mark.parametrize(
    "name, value, error, message",
    [
        ("divisor", 0.0, ValueError, "The divisor must be a positive number"),
        ("divisor", float("nan"), ValueError, "The divisor must be a positive number"),
        ("divisor", -3, ValueError, "The divisor must be a positive number"),
        ("colour_scale", "rainbow", ValueError, "colour_scale must be one of 'fixed', 'stretch'"),
        ("projection", "trained", ValueError, "projection must be one of"),  # none given
        ("source", "glove", ValueError, "source must be one of"),
        ("query", "pizza", ValueError, "Choose a query word from the list, not 'pizza'"),
        ("query", 6, ValueError, "Choose a query word from the list, not 6"),
        ("query_index", -1, ValueError, "query_index must be from 0 to"),
        ("query_index", 6, ValueError, "query_index must be from 0 to 5, not 6"),  # was a note
        ("source", None, ValueError, "source must be one of"),  # None skipped the check
        ("divisor", "8", Exception, "divisor"),
    ],
)
def test_invalid_values_are_refused_once_with_a_clear_message(
    explorer, name, value, error, message
):
    before = snapshot(explorer)
    with pytest.raises(error, match=re.escape(message)):
        setattr(explorer, name, value)
    assert_same_view(before, snapshot(explorer))
    assert explorer.status == ""


def test_each_value_is_checked_once_per_change(explorer, monkeypatch):
    import course_lib.explorer_attention as module

    calls = []
    real = module.check_divisor
    monkeypatch.setattr(module, "check_divisor", lambda v: calls.append(v) or real(v))
    explorer.controls["divisor"].value = 3.0
    assert calls == [3.0] and explorer.divisor == 3.0


# -- each setting changes what it should ---------------------------------------------------------


@pytest.mark.parametrize("divisor", DIVISORS)
def test_divisor_sets_the_weights_and_colours_stay_fixed(explorer, divisor):
    x = vectors_of()
    explorer.divisor = divisor
    assert explorer.controls["divisor"].value == pytest.approx(divisor)
    np.testing.assert_allclose(explorer.weights, reference_weights(x, x, divisor), atol=1e-12)
    assert explorer.colour_limits == (0.0, 1.0)
    view = explorer.view_html
    assert f"scores ÷ {divisor:.2f}" in view and "colours fixed 0–1" in view
    colours = plotting.cell_colours(explorer.weights).reshape(-1, 4)  # (n * n, 4)
    assert cell_colours_of(view) == [plotting.hex_colour(c) for c in colours]


def test_a_divisor_beyond_the_slider_widens_the_slider(explorer):
    explorer.divisor = 1000.0
    slider = explorer.controls["divisor"]
    assert slider.value == pytest.approx(1000.0, rel=1e-3) and explorer.divisor == 1000.0


def test_entropy_rises_as_the_divisor_grows(explorer):
    means = []
    for divisor in DIVISORS:
        explorer.divisor = divisor
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
    explorer.divisor = 32.0
    fixed_cells = cell_colours_of(explorer.view_html)
    explorer.colour_scale = "stretch"
    top = float(explorer.weights.max())
    assert top < 0.6 and explorer.colour_limits == (0.0, pytest.approx(top))
    view = explorer.view_html
    assert f"colours stretched 0–{top:.2f}" in view
    assert cell_colours_of(view) != fixed_cells  # the same weights, brighter colours
    explorer.colour_scale = "fixed"
    assert explorer.colour_limits == (0.0, 1.0)
    assert cell_colours_of(explorer.view_html) == fixed_cells


_CACHE = {}


@given(divisor=st.floats(min_value=0.25, max_value=64.0))
@settings(max_examples=25, deadline=None)
def test_with_q_equal_k_every_row_looks_most_at_itself(divisor):
    explorer = _CACHE.setdefault("explorer", attention_explorer())
    explorer.projection = "none"
    explorer.divisor = divisor
    assert list(explorer.weights.argmax(axis=1)) == list(range(len(explorer.words)))


def test_mean_self_weight_q_equal_k_is_far_above_random_projections(explorer):
    """Measured here: 0.49 (Q = K = X), 0.50 (shared W), 0.17 (random W_Q != W_K) at ÷ 8."""
    measured = {}
    for projection in ("none", "shared", "random"):
        explorer.projection = projection
        assert explorer.divisor == pytest.approx(8.0) and explorer.status == ""
        measured[projection] = float(np.diag(explorer.weights).mean())
    assert measured["none"] == pytest.approx(0.49, abs=0.03), measured
    assert measured["shared"] == pytest.approx(0.49, abs=0.05), measured
    assert measured["random"] < 0.25, measured
    assert measured["none"] - measured["random"] > 0.2, measured
    # with W_Q != W_K the diagonal loses its place in at least one row
    assert (explorer.weights.argmax(axis=1) != np.arange(len(explorer.words))).any()


def test_projection_choices_use_the_course_random_projections(explorer):
    x = vectors_of()
    w_q, w_k = random_projections(x.shape[1], x.shape[1], seed=0)
    explorer.projection = "random"
    np.testing.assert_allclose(
        explorer.weights, reference_weights(x @ w_q, x @ w_k, 8.0), atol=1e-12
    )
    explorer.projection = "shared"
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
    explorer.projection = "trained"
    x = vectors_of()
    assert explorer.controls["projection"].value == "trained" and explorer.d_k == 16
    assert explorer.divisor == pytest.approx(4.0)  # a new d_k starts from sqrt(d_k)
    slider = explorer.controls["divisor"]
    assert slider.base**slider.max >= 4 * 4.0 and slider.value == pytest.approx(4.0)
    np.testing.assert_allclose(
        explorer.weights, reference_weights(x @ w_q, x @ w_k, 4.0), atol=1e-12
    )
    assert "4.00" in explorer.controls["divisor_sqrt_dk"].description


# -- constructor arguments -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "args, kwargs, error, message",
    [
        ((None,), {}, TypeError, "sentence must be a str, not NoneType"),
        ((["eat"],), {}, TypeError, "sentence must be a str, not list"),
        ((), {"divisor": 0.0}, ValueError, "The divisor must be a positive number"),
        ((), {"divisor": float("nan")}, ValueError, "The divisor must be a positive number"),
        ((), {"divisor": "8"}, TypeError, "The divisor must be a number"),
        ((), {"projections": (np.ones((64, 8)), np.ones((64, 4)))}, ValueError, "same shape"),
        ((), {"projections": np.ones((64, 8))}, ValueError, "pair (w_q, w_k)"),
        ((), {"projections": (np.full((64, 8), np.nan),) * 2}, ValueError, "finite numbers"),
        ((), {"query": "pizza"}, ValueError, "not 'pizza'"),
        ((), {"query": 99}, ValueError, "not 99"),
        ((), {"query": 1.5}, TypeError, "query must be a word or an index"),
        ((), {"embeddings": 3}, TypeError, "embeddings must be None, a source name"),
        ((), {"embeddings": "glove"}, ValueError, "glove"),
        ((), {"max_words": 0}, ValueError, "max_words must be at least 1"),
        (("?!",), {"query": "eat"}, ValueError, "not 'eat'"),
    ],
)
def test_bad_arguments_are_clear_errors(args, kwargs, error, message):
    with pytest.raises(error, match=re.escape(message)):
        attention_explorer(*args, **kwargs)


def test_query_and_divisor_arguments():
    explorer = attention_explorer(query="steak", divisor=2.0)
    assert explorer.query == "steak" and explorer.divisor == 2.0
    assert explorer.controls["divisor"].value == 2.0 and explorer.controls["query"].value == 5
    assert attention_explorer(query=0).query_index == 0


def test_own_table_of_vectors_gives_no_source_choice():
    table = emb.lookup_table("bundled")
    explorer = attention_explorer(embeddings=table)
    assert explorer.source is None and "source" not in explorer.controls
    assert explorer.words == ["i", "drink", "coke", "but", "eat", "steak"]


# -- words and queries ---------------------------------------------------------------------------


def test_query_dropdown_moves_the_highlight_not_the_weights(explorer):
    weights = explorer.weights.copy()
    explorer.controls["query"].value = 5
    assert explorer.query == "steak"
    np.testing.assert_array_equal(explorer.weights, weights)
    view = explorer.view_html
    assert "▸ steak" in view and "where &#x27;steak&#x27; looks" in view


def test_table_names_the_word_each_row_looks_at_besides_itself(explorer):
    for divisor in (1.0, 8.0, 32.0):
        explorer.divisor = divisor
        view = explorer.view_html
        table = view[view.index("course-numbers") :]
        rows = re.findall(
            r'<tr[^>]*><th scope="row">(.*?)</th><td>.*?</td><td>(.*?)</td><td>(.*?)</td>', table
        )
        assert [row[0] for row in rows] == explorer.words
        for i, (_, on_itself, other) in enumerate(rows):
            others = explorer.weights[i].copy()
            others[i] = -1
            assert other == explorer.words[int(others.argmax())] != explorer.words[i]
            assert on_itself == f"{explorer.weights[i, i]:.2f}"
    assert rows[1][2] == "coke" and rows[4][2] == "steak"  # drink -> coke, eat -> steak


def test_new_sentence_updates_words_and_keeps_the_query_word(explorer):
    explorer.query = "steak"
    explorer.controls["sentence"].value = "the cat eats steak"
    expected = emb.embed_sentence("the cat eats steak")
    assert explorer.words == list(expected.words) and explorer.sentence == "the cat eats steak"
    assert explorer.weights.shape == (len(expected.words),) * 2
    assert explorer.query == "steak"
    assert all(word in explorer._words_line.value for word in expected.words)


def test_repeated_words_get_distinct_choices(explorer):
    explorer.sentence = "the cat and the dog"
    labels = [label for label, _ in explorer.controls["query"].options]
    assert len(set(labels)) == len(labels) == len(explorer.words)


def test_redraw_is_in_place(explorer):
    children, view = list(explorer.children), explorer._view
    first = explorer.view_html
    explorer.divisor = 1.0
    second = explorer.view_html
    explorer.controls["sentence"].value = "eat the steak"
    assert list(explorer.children) == children and explorer._view is view
    assert len({first, second, explorer.view_html}) == 3


# -- failures become messages, the last good state stays -----------------------------------------

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
    explorer.divisor = 3.0
    before = snapshot(explorer)
    text = BAD_SENTENCES[name]
    explorer.controls["sentence"].value = text  # must not raise
    assert explorer.status and len(explorer.status) < 500  # a short message ...
    assert explorer.status.endswith("The view shows the last setting that worked.")
    assert any(html.escape(explorer.status[:40]) in value for value in html_values(explorer))
    assert_same_view(before, snapshot(explorer))  # ... and the last good view stays
    assert explorer.controls["sentence"].value == text  # what was typed stays in the box
    explorer.controls["sentence"].value = "eat the steak"
    assert explorer.status == "" and "steak" in explorer.words


def test_a_bad_sentence_set_from_code_is_a_message_too(explorer):
    before = snapshot(explorer)
    explorer.sentence = "zzqxj"  # no exception: the widget says why
    assert "zzqxj" in explorer.status and explorer.sentence == DEFAULT_SENTENCE
    assert_same_view(before, snapshot(explorer))


def test_a_huge_unknown_word_is_echoed_shortened(explorer):
    explorer.sentence = "eat steak " + "z" * 100_000
    assert explorer.words == ["eat", "steak"]
    assert "(100000 characters)" in explorer.status and len(explorer.status) < 200


def test_unknown_words_are_listed(explorer):
    explorer.sentence = "I drink zzqxj coke"
    assert explorer.missing == ["zzqxj"] and "zzqxj" in explorer.status


def test_bad_first_sentence_does_not_raise():
    explorer = attention_explorer("?!")
    assert explorer.words == [] and explorer.status.startswith("No words found")
    assert "last setting" not in explorer.status and explorer.view_html == ""
    assert "image/png" not in explorer._repr_mimebundle_()
    explorer.controls["sentence"].value = "eat steak"
    assert explorer.words == ["eat", "steak"] and explorer.status == ""


@pytest.mark.parametrize(
    "control, value, start",
    [
        ("divisor", float("nan"), "The divisor must be a positive number"),
        ("query", None, "That value cannot be used"),
    ],
)
def test_bad_control_values_are_refused_and_the_control_goes_back(explorer, control, value, start):
    before = snapshot(explorer)
    explorer.controls[control].value = value
    assert explorer.status.startswith(start)
    assert explorer.status.endswith("The view shows the last setting that worked.")
    assert_same_view(before, snapshot(explorer))


@pytest.mark.parametrize("error", [AttributeError, EOFError, OSError])
def test_damaged_source_gives_a_message_and_the_old_source(monkeypatch, error):
    monkeypatch.setattr(emb, "available_sources", lambda: ["bundled", "word2vec_sample"])
    explorer = attention_explorer()
    before = snapshot(explorer)
    real = emb.lookup_table

    def lookup(source="bundled"):
        if source == "word2vec_sample":
            raise error("damaged cache file")
        return real(source)

    monkeypatch.setattr(emb, "lookup_table", lookup)
    explorer.controls["source"].value = "word2vec_sample"
    assert error.__name__ in explorer.status and "damaged cache file" in explorer.status
    assert explorer.controls["source"].value == "bundled" and explorer.source == "bundled"
    assert_same_view(before, snapshot(explorer))


def test_switching_source_changes_d_k_and_the_slider(monkeypatch):
    from course_lib.vector_table import VectorTable

    words = emb.embed_sentence(DEFAULT_SENTENCE).words
    small = VectorTable(list(words), np.random.default_rng(0).standard_normal((len(words), 16)))
    real = emb.lookup_table
    monkeypatch.setattr(emb, "available_sources", lambda: ["bundled", "word2vec_sample"])
    monkeypatch.setattr(
        emb, "lookup_table", lambda source="bundled": small if source != "bundled" else real()
    )
    explorer = attention_explorer()
    explorer.divisor = 2.0
    explorer.source = "word2vec_sample"
    assert explorer.status == "" and explorer.d_k == 16
    assert explorer.controls["source"].value == "word2vec_sample"
    assert explorer.divisor == pytest.approx(4.0) and explorer.controls["divisor"].value == 4.0
    x = np.asarray(small.vectors, dtype=np.float64)
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
    import course_lib.explorer_attention as module

    before = snapshot(explorer)

    def broken(*args, **kwargs):
        raise RuntimeError("something odd")

    monkeypatch.setattr(module, "scaled_dot_product_attention", broken)
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


# -- the saved picture ---------------------------------------------------------------------------


def pixels(png):
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=np.int16)


def test_the_png_is_the_picture_of_the_current_state(explorer):
    explorer.divisor = 2.0
    png = explorer.png
    assert "steak" in explorer._repr_mimebundle_()["text/plain"]
    # a fresh explorer at the same settings draws the same image, within a tolerance that
    # allows anti-aliasing differences between machines
    fresh = pixels(attention_explorer(divisor=2.0).png)
    assert fresh.shape == pixels(png).shape
    assert np.abs(fresh - pixels(png)).mean() < 0.5
    other = pixels(attention_explorer(divisor=32.0).png)
    assert np.abs(other - pixels(png)).mean() > 2.0  # a real change is far above that


# -- what a screen reader hears; the saved picture's text alternative -----------------------


def test_each_redraw_is_summarised_in_one_line(explorer):
    def expected():
        row = explorer.weights[explorer.query_index]
        top = int(row.argmax())
        itself = " (itself)" if top == explorer.query_index else ""
        return (
            f"scores ÷ {explorer.divisor:.2f}: {explorer.query} looks most at "
            f"{explorer.words[top]}{itself}, {row[top]:.2f}"
        )

    assert summary_of(explorer) == expected().replace("'", "&#x27;")
    assert summary_of(explorer).startswith("scores ÷ 8.00: drink looks most at ")
    for change in ({"divisor": 0.25}, {"query": "steak"}, {"sentence": "eat the steak"}):
        for name, value in change.items():
            setattr(explorer, name, value)
        assert summary_of(explorer) == expected().replace("'", "&#x27;"), change


def test_the_saved_picture_says_what_it_shows(explorer):
    explorer.divisor = 2.0
    data = explorer._repr_mimebundle_()
    alt = re.search(r'<img [^>]*alt="([^"]*)"', data["text/html"]).group(1)
    assert "divided by 2.00" in alt and "heatmap" in alt and "drink" in alt
    n = len(explorer.words)
    assert data["text/html"].count('<th scope="row">') == n  # every weight, in a table
    assert f"{explorer.weights[1, 2]:.3g}" in data["text/html"]


def test_the_results_cannot_be_changed_in_place(explorer):
    """``explorer.weights[:] = 0`` would make the attributes disagree with the picture."""
    for name in ("weights", "entropy"):
        with pytest.raises(ValueError, match="read-only"):
            getattr(explorer, name)[...] = 0.0
    explorer.divisor = 2.0  # the explorer still computes and publishes new results
    assert explorer.weights.sum(axis=1) == pytest.approx(1.0)


def test_a_query_index_out_of_range_from_the_control_is_a_message(explorer):
    explorer.propose("query_index", 40)
    assert "query_index must be from 0 to 5, not 40" in explorer.status
    assert explorer.query == "drink"
