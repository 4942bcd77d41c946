"""course_lib.explorer_heads: the trained model's heads, one at a time, without a browser.

The widget is driven as a student drives it (setting controls) and from code (setting
attributes); the state, the results and the picture are read back.
"""

from __future__ import annotations

import html

import numpy as np
import pytest

pytest.importorskip("ipywidgets")

from course_lib import plotting  # noqa: E402
from course_lib.explorer_heads import MAX_TOKENS, HeadExplorer, head_explorer  # noqa: E402
from course_lib.pretrained import load_pretrained  # noqa: E402

SENTENCE = "The animal didn't cross the street because it was tired."


@pytest.fixture(scope="module")
def model():
    return load_pretrained()


def test_shows_the_models_weights_for_the_chosen_head(model):
    explorer = head_explorer(SENTENCE, layer=2, head=5)
    run = model.run(SENTENCE)
    assert explorer.tokens == run.tokens
    np.testing.assert_allclose(explorer.weights, run.weights[2, 5], atol=1e-7)
    assert explorer.colour_limits == (0.0, 1.0)
    assert explorer.status == ""
    assert explorer.query == "the" and explorer.query_index == 1


def test_changing_layer_and_head_redraws_and_moves_the_controls(model):
    explorer = head_explorer(SENTENCE)
    before = explorer.draw_count
    explorer.layer, explorer.head = 0, 2
    assert explorer.controls["layer"].value == 0 and explorer.controls["head"].value == 2
    previous = np.diagonal(explorer.weights, offset=-1)  # (T - 1,): each token's previous one
    assert previous.mean() > 0.99  # layer 0, head 2 looks at the previous token
    explorer.controls["head"].value = 7
    assert explorer.head == 7
    np.testing.assert_allclose(explorer.weights, model.run(SENTENCE).weights[0, 7], atol=1e-7)
    assert explorer.draw_count > before
    html = explorer.view_html
    assert "layer 0, head 7" in html and "[CLS]" in html


def test_the_colour_scale_stays_fixed_between_heads():
    fixed = html.escape(plotting.colour_bar_label("fixed", (0.0, 1.0)))
    explorer = head_explorer(SENTENCE, layer=5, head=0)
    spread, drawn_spread = explorer.weights.max(), explorer.view_html
    explorer.layer, explorer.head = 0, 2
    sharp, drawn_sharp = explorer.weights.max(), explorer.view_html
    assert spread < 0.9 < sharp  # two very different heads ...
    for drawn in (drawn_spread, drawn_sharp):  # ... drawn on the same, fixed colour scale
        assert fixed in drawn and "stretched" not in drawn


def test_typing_a_sentence_gives_its_tokens_and_keeps_the_head():
    explorer = head_explorer(SENTENCE, layer=1, head=3)
    explorer.controls["sentence"].value = "Crème brûlée, s'il vous plaît!"
    assert explorer.tokens[0] == "[CLS]" and explorer.tokens[-1] == "[SEP]"
    assert explorer.tokens[1:3] == ["cr", "##eme"]  # accents stripped, then ## pieces
    assert (explorer.layer, explorer.head) == (1, 3)
    assert explorer.weights.shape == (len(explorer.tokens),) * 2
    np.testing.assert_allclose(explorer.weights.sum(axis=1), 1.0, atol=1e-6)


def test_a_sentence_too_long_is_a_message_and_the_typed_text_stays():
    explorer = head_explorer(SENTENCE)
    long = "word " * (MAX_TOKENS + 5)
    explorer.controls["sentence"].value = long
    assert f"at most {MAX_TOKENS}" in explorer.status
    assert explorer.sentence == SENTENCE and explorer.tokens[2] == "animal"
    assert explorer.controls["sentence"].value == long  # nothing typed is lost
    explorer.controls["sentence"].value = "Short again."
    assert explorer.status == "" and explorer.tokens[1:3] == ["short", "again"]


def test_html_of_the_tokens_is_escaped():
    explorer = head_explorer("<b>bold</b> & <script>")
    assert "<script>" not in explorer.view_html
    assert "&lt;" in explorer.view_html


@pytest.mark.parametrize(
    ("change", "error"),
    [
        (dict(layer=6), ValueError),
        (dict(head=-1), ValueError),
        (dict(head=12), ValueError),
        (dict(layer=1.5), TypeError),
        (dict(query="nope"), ValueError),
    ],
)
def test_bad_arguments_are_refused_clearly(change, error):
    with pytest.raises(error):
        HeadExplorer(SENTENCE, **change)


def test_bad_sentence_or_model_types():
    with pytest.raises(TypeError, match="sentence must be a str"):
        head_explorer(42)
    with pytest.raises(TypeError, match="load_pretrained"):
        head_explorer(SENTENCE, model="all-MiniLM-L6-v2")


def test_a_control_out_of_range_becomes_a_message():
    explorer = head_explorer(SENTENCE, layer=3, head=4)
    explorer.propose("layer", 9)
    assert "layer" in explorer.status and explorer.layer == 3


def test_query_token_row_and_saved_picture():
    explorer = head_explorer(SENTENCE, layer=0, head=2, query="street")
    assert explorer.query == "street"
    explorer.query = 3
    assert explorer.query == "didn"
    png = explorer.png
    assert png.startswith(b"\x89PNG")
    bundle = explorer._repr_mimebundle_()
    assert "image/png" in bundle and "HeadExplorer" in bundle["text/plain"]


def test_the_saved_picture_says_which_head_it_shows_and_holds_its_numbers(model):
    import re

    explorer = head_explorer("The cat sat.", layer=0, head=2)
    data = explorer._repr_mimebundle_()
    alt = re.search(r'<img [^>]*alt="([^"]*)"', data["text/html"]).group(1)
    assert "layer 0, head 2" in alt and "heatmap" in alt and "6 tokens" in alt
    assert "looks most at" in alt  # the one-line summary a screen reader also hears
    assert data["text/html"].count('<th scope="row">') == len(explorer.tokens)
    assert f"{explorer.weights[2, 1]:.3g}" in data["text/html"]
    explorer.head = 3
    assert "head 3" in re.search(r'alt="([^"]*)"', explorer._repr_mimebundle_()["text/html"])[1]


def test_a_query_index_beyond_the_tokens_is_refused_from_code(model):
    explorer = head_explorer("a cat", model=model)  # [CLS] a cat [SEP]
    with pytest.raises(ValueError, match="query_index must be from 0 to 3, not 4"):
        explorer.query_index = 4
    assert explorer.status == "" and explorer.query_index == 1
