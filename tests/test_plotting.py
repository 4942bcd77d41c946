"""Tests of course_lib.plotting on the Agg backend: labels, ticks, colour bar, errors.

The colours (cell colours, number colours, contrast) are tested in test_plotting_colours.py.
"""

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest

from course_lib.plotting import lecture_mode, plot_attention, plot_attention_row, plot_similarity

WORDS = ["I", "drink", "coke", "eat", "steak"]


def _weights(n, m=None, seed=0):
    scores = np.random.default_rng(seed).normal(size=(n, m or n))
    return np.exp(scores) / np.exp(scores).sum(axis=-1, keepdims=True)


def _tick_texts(labels):
    return [t.get_text() for t in labels]


def test_attention_heatmap_is_labelled_for_people():
    ax = plot_attention(_weights(5), WORDS, title="self-attention")
    assert ax.get_ylabel() == "query word"
    assert ax.get_xlabel() == "attended-to word"
    assert ax.get_title() == "self-attention"
    assert _tick_texts(ax.get_yticklabels()) == WORDS
    assert _tick_texts(ax.get_xticklabels()) == WORDS
    mesh = ax.collections[0]
    assert mesh.colorbar.ax.get_ylabel() == "attention weight"
    assert mesh.get_cmap().name == "viridis"


def test_rows_are_queries_and_columns_are_keys():
    weights = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])  # "eat" looks at "steak"
    ax = plot_attention(weights, ["drink", "eat"], ["drink", "coke", "steak"])
    assert _tick_texts(ax.get_yticklabels()) == ["drink", "eat"]
    assert _tick_texts(ax.get_xticklabels()) == ["drink", "coke", "steak"]
    data = np.asarray(ax.collections[0].get_array()).reshape(2, 3)
    np.testing.assert_array_equal(data, weights)


def test_small_matrices_are_annotated_and_large_ones_are_not():
    small = plot_attention(_weights(3), WORDS[:3])
    cells = [t.get_text() for t in small.texts]
    assert len(cells) == 9 and all(len(c) == 4 for c in cells)  # "0.xx"
    big_words = [f"w{i}" for i in range(12)]
    assert len(plot_attention(_weights(12), big_words).texts) == 0
    assert len(plot_attention(_weights(12), big_words, annotate=True).texts) == 144


def test_draws_on_the_given_axes():
    fig, (left, right) = plt.subplots(1, 2)
    ax = plot_attention(_weights(2), ["a", "b"], ax=right)
    assert ax is right and len(fig.axes) == 3  # two panels and one colour bar
    assert not left.collections


def test_length_mismatch_is_a_value_error_naming_both_shapes():
    with pytest.raises(ValueError, match=r"shape \(5, 5\).*4 row labels.*\(4, 5\)"):
        plot_attention(_weights(5), WORDS[:4], WORDS)
    with pytest.raises(ValueError, match="2-D"):
        plot_attention(np.ones(3), WORDS[:3])


def test_similarity_heatmap_labels():
    ax = plot_similarity(np.eye(3), WORDS[:3], cbar_label="dot product")
    assert ax.collections[0].colorbar.ax.get_ylabel() == "dot product"
    assert _tick_texts(ax.get_xticklabels()) == WORDS[:3]
    with pytest.raises(ValueError, match="shape"):
        plot_similarity(np.eye(3), WORDS[:2])


def test_attention_row_bars():
    ax = plot_attention_row([0.1, 0.7, 0.2], ["eat", "steak", "coke"], query_word="eat")
    heights = [p.get_height() for p in ax.patches]
    assert heights == [0.1, 0.7, 0.2]
    assert _tick_texts(ax.get_xticklabels()) == ["eat", "steak", "coke"]
    assert ax.get_ylabel() == "attention weight"
    assert ax.patches[1].get_facecolor() != ax.patches[0].get_facecolor()  # arg-max stands out
    with pytest.raises(ValueError, match=r"shape \(3,\).*2 words"):
        plot_attention_row([0.1, 0.7, 0.2], ["a", "b"])


def test_plotting_does_not_change_global_style():
    before = dict(matplotlib.rcParams)
    plot_attention(_weights(3), WORDS[:3])
    plot_attention_row([0.5, 0.5], ["a", "b"])
    after = dict(matplotlib.rcParams)
    assert {k for k in before if before[k] != after[k]} == set()


def test_lecture_mode_is_explicit_and_reversible():
    before = matplotlib.rcParams["font.size"]
    try:
        assert lecture_mode()["font.size"] == 16
        assert matplotlib.rcParams["figure.figsize"] == [10.0, 7.0]
        lecture_mode()  # calling twice must still restore the original settings
    finally:
        lecture_mode(False)
    assert matplotlib.rcParams["font.size"] == before


# -- figures that size themselves (lecture mode scales them; see test_lecture_mode.py) --------


def test_curves_get_a_marker_and_colour_each_and_grey_references():
    from course_lib.plotting import REFERENCE_COLOUR, plot_curves

    x = [1, 2, 4, 8]
    ax = plot_curves(
        x,
        {"a": [1, 2, 3, 4], "b": [2, 3, 4, 5], "c": [0, 1, 0, 1]},
        reference={"law": [1, 2, 4, 8], "level": 2.0},
        xlabel="d_k",
        ylabel="value",
        title="t",
        logx=2,
    )
    measured, laws = ax.lines[:3], ax.lines[3:]
    assert len({line.get_marker() for line in measured}) == 3
    assert len({line.get_color() for line in measured}) == 3
    assert all(line.get_marker() in ("None", "", None) for line in laws)
    assert all(line.get_color() == REFERENCE_COLOUR for line in laws)
    assert list(laws[1].get_ydata()) == [2.0] * 4  # a level is a horizontal line
    assert ax.get_xscale() == "log" and ax.get_xlabel() == "d_k" and ax.get_title() == "t"
    legend = ax.get_legend()
    assert [t.get_text() for t in legend.get_texts()] == ["a", "b", "c", "law", "level"]
    assert legend.get_bbox_to_anchor().x0 > ax.get_window_extent().x1 - 1  # outside, right


def test_curves_with_the_wrong_length_are_a_value_error():
    from course_lib.plotting import plot_curves

    with pytest.raises(ValueError, match=r"curve 'a' has shape \(3,\); x has shape \(4,\)"):
        plot_curves([1, 2, 3, 4], {"a": [1, 2, 3]}, xlabel="x", ylabel="y")
    with pytest.raises(ValueError, match="curve 'a'"):
        plot_curves([1, 2], {"a": 3.0}, xlabel="x", ylabel="y")  # a level is for references


def test_heatmap_grid_sizes_panels_for_their_words_and_wraps():
    from course_lib.plotting import heatmap_grid

    fig, axes = heatmap_grid(2, WORDS)
    assert len(axes) == 2 and len(fig.axes) == 2
    one, _ = heatmap_grid(1, WORDS)
    long_words, _ = heatmap_grid(1, [w * 4 for w in WORDS])
    assert fig.get_size_inches()[0] > 1.8 * one.get_size_inches()[0]  # side by side
    assert long_words.get_size_inches()[0] > one.get_size_inches()[0]  # room for labels
    many, axes = heatmap_grid(7, WORDS)
    assert many.get_size_inches()[0] <= 13.0 and len(axes) == 7 and len(many.axes) == 7
    assert heatmap_grid(4, WORDS, ncols=1)[0].get_size_inches()[1] > 3.5 * one.get_size_inches()[1]


def test_long_column_labels_are_written_vertically_short_ones_flat():
    short = plot_attention(_weights(3), ["a", "b", "c"])
    long_ = plot_attention(_weights(3), ["internationalisation", "b", "counterrevolution"])
    assert {t.get_rotation() for t in short.get_xticklabels()} == {0.0}
    assert {t.get_rotation() for t in long_.get_xticklabels()} == {90.0}


def test_a_long_colour_bar_label_is_wrapped_to_the_height_of_the_rows():
    label = "attention weight (colours stretched 0–0.34 = max)"
    ax = plot_attention(_weights(2), ["a", "b"], cbar_label=label)
    shown = ax.collections[0].colorbar.ax.get_ylabel()
    assert shown.replace("\n", " ") == label and "\n" in shown
