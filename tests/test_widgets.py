"""The explorers without a browser: set control values, read the state.

Runs on ipywidgets 7.7 and 8.x. The browser half is in tests/e2e/.
"""

import base64
import dataclasses
import io
import math

import numpy as np
import pytest

widgets = pytest.importorskip("ipywidgets")

from course_lib import embeddings as emb  # noqa: E402
from course_lib.attention import attention_entropy  # noqa: E402
from course_lib.widgets import (  # noqa: E402
    DEFAULT_SENTENCE,
    AttentionExplorer,
    DkExplorer,
    attention_explorer,
    dk_explorer,
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def reference_weights(vectors, divisor):
    """Self-attention weights written out independently of course_lib.attention."""
    scores = vectors @ vectors.T / divisor  # (n, n)
    scores = scores - scores.max(axis=1, keepdims=True)
    exp = np.exp(scores)
    return exp / exp.sum(axis=1, keepdims=True)


def html_values(widget):
    """The value of every HTML widget inside ``widget``."""
    found = []
    if isinstance(widget, widgets.HTML):
        found.append(widget.value)
    for child in getattr(widget, "children", ()):
        found.extend(html_values(child))
    return found


def snapshot(explorer):
    return (
        list(explorer.words),
        explorer.weights.copy(),
        explorer._image.value,
        list(explorer.controls["query"].options),
    )


def assert_same_view(before, after):
    assert after[0] == before[0]
    np.testing.assert_array_equal(after[1], before[1])
    assert after[2] == before[2]
    assert after[3] == before[3]


@pytest.fixture
def explorer():
    return attention_explorer()


# -- AttentionExplorer: the first view ---------------------------------------------------


def test_first_view_matches_the_sentence_and_sqrt_dk(explorer):
    expected = emb.embed_sentence(DEFAULT_SENTENCE)
    assert isinstance(explorer, widgets.VBox)
    assert isinstance(explorer, AttentionExplorer)
    assert explorer.words == list(expected.words)
    assert explorer.missing == list(expected.missing)
    assert explorer.status == ""
    n = len(explorer.words)
    assert explorer.weights.shape == (n, n)
    np.testing.assert_allclose(explorer.weights.sum(axis=1), 1.0)
    d_k = expected.vectors.shape[1]
    assert explorer.d_k == d_k
    assert explorer.controls["scale"].value == pytest.approx(math.sqrt(d_k))
    np.testing.assert_allclose(
        explorer.weights, reference_weights(expected.vectors, math.sqrt(d_k)), atol=1e-12
    )
    assert bytes(explorer._image.value).startswith(PNG_SIGNATURE)


def test_controls_are_the_documented_kinds(explorer):
    controls = explorer.controls
    assert {"sentence", "scale", "query"} <= set(controls)
    assert isinstance(controls["sentence"], widgets.Text)
    assert controls["sentence"].continuous_update is False  # Enter or blur, not every key
    scale = controls["scale"]
    assert isinstance(scale, widgets.FloatSlider)
    assert scale.continuous_update is False
    assert scale.readout is True
    assert scale.min == 1.0
    assert scale.max >= 2 * math.sqrt(explorer.d_k)  # well past sqrt(d_k)
    assert isinstance(controls["query"], widgets.Dropdown)
    labels = [label for label, _ in controls["query"].options]
    assert labels == explorer.words  # the default sentence has no repeated word
    # sqrt(d_k) is named as the Transformer's choice, with its value
    note = explorer._sqrt_note.value
    assert f"{math.sqrt(explorer.d_k):.2f}" in note and "Transformer" in note
    # every control is in the displayed tree
    shown = set()

    def walk(widget):
        shown.add(id(widget))
        for child in getattr(widget, "children", ()):
            walk(child)

    walk(explorer)
    assert all(id(control) in shown for control in controls.values())


def test_source_choice_only_with_more_than_one_source(explorer, monkeypatch):
    assert ("source" in explorer.controls) == (len(emb.available_sources()) > 1)
    monkeypatch.setattr(emb, "available_sources", lambda: ["bundled", "word2vec_sample"])
    two = attention_explorer()
    assert isinstance(two.controls["source"], widgets.Dropdown)
    assert list(two.controls["source"].options) == ["bundled", "word2vec_sample"]


def test_unavailable_source_gives_a_message_and_keeps_the_view(monkeypatch):
    monkeypatch.setattr(emb, "available_sources", lambda: ["bundled", "word2vec_sample"])
    explorer = attention_explorer()
    before = snapshot(explorer)
    real_load = emb.load_embeddings

    def load(source="bundled", **kwargs):
        if source == "word2vec_sample":
            raise FileNotFoundError("word2vec_sample is not downloaded")
        return real_load(source, **kwargs)

    monkeypatch.setattr(emb, "load_embeddings", load)
    explorer.controls["source"].value = "word2vec_sample"
    assert "not downloaded" in explorer.status
    assert explorer.controls["source"].value == "bundled"
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
    explorer.controls["scale"].value = 2.0
    explorer.controls["source"].value = "word2vec_sample"
    assert explorer.status == "" and explorer.d_k == 16
    assert explorer.controls["scale"].value == pytest.approx(4.0)  # sqrt(16)
    assert explorer.controls["scale"].max == pytest.approx(12.0)
    assert "4.00" in explorer._sqrt_note.value and "16" in explorer._sqrt_note.value
    np.testing.assert_allclose(
        explorer.weights, reference_weights(small[list(words)].astype(np.float64), 4.0), atol=1e-12
    )


# -- AttentionExplorer: the controls drive the state -------------------------------------


@pytest.mark.parametrize("divisor", [1.0, 2.5, 20.0])
def test_scale_slider_sets_the_divisor(explorer, divisor):
    explorer.controls["scale"].value = divisor
    vectors = emb.embed_sentence(DEFAULT_SENTENCE).vectors
    np.testing.assert_allclose(explorer.weights, reference_weights(vectors, divisor), atol=1e-12)
    np.testing.assert_allclose(explorer.entropy, attention_entropy(explorer.weights))


def test_entropy_rises_as_the_divisor_grows(explorer):
    scale = explorer.controls["scale"]
    divisors = np.linspace(scale.min, scale.max, 6)
    means = []
    for divisor in divisors:
        scale.value = float(divisor)
        means.append(explorer.entropy.mean())
    assert all(b > a for a, b in zip(means, means[1:], strict=False)), means
    assert means[-1] <= math.log(len(explorer.words)) + 1e-9


def test_sqrt_button_restores_the_transformers_choice(explorer):
    explorer.controls["scale"].value = 1.0
    explorer._sqrt_button.click()
    assert explorer.controls["scale"].value == pytest.approx(math.sqrt(explorer.d_k))


def test_redraw_is_in_place(explorer):
    import matplotlib.pyplot as plt

    figures_before = plt.get_fignums()
    children, image = list(explorer.children), explorer._image
    first = image.value
    explorer.controls["scale"].value = 1.0
    second = image.value
    explorer.controls["sentence"].value = "eat the steak"
    assert list(explorer.children) == children  # same widgets, nothing appended
    assert explorer._image is image
    assert first != second != image.value  # the picture changed, in the same Image
    assert plt.get_fignums() == figures_before  # no pyplot figure for the inline backend


def pixels(png):
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(png)).convert("RGBA"))


@pytest.mark.parametrize("sentence", ["the cat sat on the mat", f"{DEFAULT_SENTENCE} and the dog"])
def test_quick_redraws_give_the_same_pixels_as_a_fresh_figure(sentence):
    explorer = attention_explorer(sentence)
    steps = [("scale", 1.0), ("scale", 30.0), ("query", 0), ("scale", 2.0), ("scale", 6.0)]
    steps += [("query", 2), ("query", 1), ("scale", 1.5)]
    for name, value in steps:
        explorer.controls[name].value = value
        quick = pixels(explorer.png)
        fresh = pixels(explorer._render_png(fresh=True))
        assert quick.shape == fresh.shape, (name, value)
        assert (quick != fresh).any(axis=-1).sum() == 0, (name, value)
    assert explorer._figure_parts["words"] == explorer.words


def test_lecture_mode_fonts_rebuild_the_figure(explorer):
    from course_lib.plotting import lecture_mode

    small = pixels(explorer.png).shape
    try:
        lecture_mode(True)
        explorer.controls["scale"].value = 3.0
        big = pixels(explorer.png)
        assert big.shape[0] > small[0] and big.shape[1] > small[1]  # room for bigger text
        assert (big != pixels(explorer._render_png(fresh=True))).any(axis=-1).sum() == 0
    finally:
        lecture_mode(False)


def test_query_dropdown_redraws_the_row_only(explorer):
    weights = explorer.weights.copy()
    before = explorer._image.value
    explorer.controls["query"].value = 0
    assert explorer.query_index == 0
    np.testing.assert_array_equal(explorer.weights, weights)
    assert explorer._image.value != before
    assert "font-weight: bold" in explorer._numbers.value.split("</tr>")[1]  # row 0 highlighted


def test_new_sentence_updates_words_and_query_choices(explorer):
    explorer.controls["query"].value = explorer.words.index("steak")
    explorer.controls["sentence"].value = "the cat eats steak"
    expected = emb.embed_sentence("the cat eats steak")
    assert explorer.words == list(expected.words)
    assert explorer.weights.shape == (len(expected.words),) * 2
    assert [i for _, i in explorer.controls["query"].options] == list(range(len(expected.words)))
    assert explorer.words[explorer.query_index] == "steak"  # the chosen word stays chosen
    assert all(word in explorer._words_line.value for word in expected.words)


def test_repeated_words_get_distinct_choices(explorer):
    explorer.controls["sentence"].value = "the cat and the dog"
    labels = [label for label, _ in explorer.controls["query"].options]
    assert len(set(labels)) == len(labels) == len(explorer.words)


def test_unknown_words_are_listed_not_dropped_silently(explorer):
    explorer.controls["sentence"].value = "I drink zzqxj coke"
    assert explorer.missing == ["zzqxj"]
    assert "zzqxj" not in explorer.words
    assert "zzqxj" in explorer.status
    assert any("zzqxj" in value for value in html_values(explorer))


# -- AttentionExplorer: bad input ----------------------------------------------------------

BAD_SENTENCES = {
    "empty": "",
    "blank": "   ",
    "punctuation": "?! ... ,;",
    "no known word": "zzqxj qqxzv",
    "thousands of words": " ".join(["steak"] * 3000),
}


@pytest.mark.parametrize("name", BAD_SENTENCES)
def test_bad_input_keeps_the_last_good_view(explorer, name):
    explorer.controls["scale"].value = 3.0
    before = snapshot(explorer)
    text = BAD_SENTENCES[name]
    explorer.controls["sentence"].value = text  # must not raise
    assert explorer.status  # a message is shown ...
    assert any(explorer.status[:40] in value for value in html_values(explorer))
    assert_same_view(before, snapshot(explorer))  # ... and the last good view stays
    assert explorer.controls["sentence"].value == text  # what the student typed stays
    # and the explorer still works afterwards
    explorer.controls["sentence"].value = "eat the steak"
    assert explorer.status == "" and "steak" in explorer.words


def test_too_many_words_message_names_the_limit(explorer):
    explorer.controls["sentence"].value = BAD_SENTENCES["thousands of words"]
    assert "3000" in explorer.status and str(explorer.max_words) in explorer.status


def test_bad_first_sentence_does_not_raise():
    explorer = attention_explorer("?!")
    assert explorer.words == [] and explorer.status
    explorer.controls["sentence"].value = "eat steak"
    assert explorer.words and explorer.status == ""


def test_html_in_the_sentence_is_escaped(explorer):
    explorer.controls["sentence"].value = "<script>alert(1)</script> <b>eat</b> steak"
    for value in html_values(explorer):
        assert "<script" not in value and "<b>eat" not in value


def test_html_reaching_the_messages_is_escaped(explorer, monkeypatch):
    # A tokenizer that keeps the markup, so the raw text really reaches the status line.
    real_embed = emb.embed_sentence
    monkeypatch.setattr(emb, "tokenize", lambda sentence: sentence.split())

    def embed(sentence, embeddings=None):
        kept = [w for w in sentence.split() if not w.startswith("<")]
        found = real_embed(" ".join(kept), embeddings)
        missing = [w for w in sentence.split() if w.startswith("<")]
        return dataclasses.replace(found, missing=missing, tokens=sentence.split())

    monkeypatch.setattr(emb, "embed_sentence", embed)
    explorer.controls["sentence"].value = "eat <img/src=x/onerror=alert(1)> steak"
    assert explorer.missing == ["<img/src=x/onerror=alert(1)>"]
    shown = " ".join(html_values(explorer))
    assert "<img" not in shown
    assert "&lt;img/src=x/onerror=alert(1)&gt;" in shown


# -- display: live widget plus a static picture --------------------------------------------


def test_mimebundle_has_widget_view_and_current_png(explorer):
    explorer.controls["scale"].value = 2.0
    data = explorer._repr_mimebundle_()
    assert data["application/vnd.jupyter.widget-view+json"]["model_id"] == explorer.model_id
    png = base64.b64decode(data["image/png"])
    assert png == explorer._image.value and png.startswith(PNG_SIGNATURE)
    assert "steak" in data["text/plain"]


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


# -- DkExplorer ------------------------------------------------------------------------------


@pytest.fixture
def dk():
    return dk_explorer()


def test_dk_explorer_controls_and_defaults(dk):
    assert isinstance(dk, DkExplorer) and isinstance(dk, widgets.VBox)
    slider = dk.controls["d_k"]
    assert isinstance(slider, widgets.IntSlider)
    assert slider.min == 1 and slider.max >= 512 and slider.continuous_update is False
    assert dk.d_k == 64 and dk.status == ""
    assert bytes(dk._image.value).startswith(PNG_SIGNATURE)


@pytest.mark.parametrize("d_k", [1, 4, 16, 64, 256, 512])
def test_raw_score_spread_grows_like_sqrt_dk_and_scaled_stays_near_one(dk, d_k):
    dk.controls["d_k"].value = d_k
    assert dk.score_std / math.sqrt(d_k) == pytest.approx(1.0, rel=0.1)
    assert dk.scaled_score_std == pytest.approx(1.0, rel=0.1)


def test_unscaled_entropy_collapses_while_scaled_entropy_stays(dk):
    unscaled, scaled = [], []
    for d_k in [1, 16, 128, 512]:
        dk.controls["d_k"].value = d_k
        unscaled.append(dk.entropy_unscaled)
        scaled.append(dk.entropy_scaled)
        assert 0 <= dk.entropy_unscaled <= dk.max_entropy
    assert all(b < a for a, b in zip(unscaled, unscaled[1:], strict=False)), unscaled
    assert max(scaled) - min(scaled) < 0.2, scaled  # roughly constant
    assert scaled[-1] - unscaled[-1] > 1.0  # side by side: very different at d_k = 512
    assert dk.max_weight_unscaled > dk.max_weight_scaled


def test_dk_explorer_is_seeded_and_redraws(dk):
    first = (dk.score_std, dk.entropy_unscaled, dk._image.value)
    dk.controls["d_k"].value = 128
    assert dk._image.value != first[2]
    dk.controls["d_k"].value = 64
    assert (dk.score_std, dk.entropy_unscaled) == first[:2]
    assert (dk_explorer().score_std, dk_explorer(seed=1).score_std)[0] == first[0]
    assert dk_explorer(seed=1).score_std != first[0]


def test_seq_len_changes_the_weights_shape(dk):
    dk.controls["seq_len"].value = 5
    assert dk.weights_unscaled.shape == dk.weights_scaled.shape == (5, 5)
    np.testing.assert_allclose(dk.weights_scaled.sum(axis=-1), 1.0)
    assert dk.max_entropy == pytest.approx(math.log(5))
