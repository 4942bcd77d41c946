"""Tests of course_lib.plotting on the Agg backend: labels, ticks, colour bar, errors."""

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


# -- one module decides colours and labels (the live HTML explorers use these) ----------------


def test_cell_colours_are_the_colours_seaborn_draws():
    from course_lib.plotting import cell_colours

    weights = _weights(6)
    for vmax in (1.0, float(weights.max())):
        ax = plot_attention(weights, [f"w{i}" for i in range(6)], vmax=vmax)
        drawn = ax.collections[0].get_facecolors()  # (36, 4), row-major
        # the same colormap entry; a tolerance of half a 256-level step of the lookup table
        np.testing.assert_allclose(
            cell_colours(weights, (0.0, vmax)).reshape(-1, 4), drawn, atol=2e-3
        )
        plt.close(ax.figure)


def test_text_colours_follow_seaborns_annotations():
    from course_lib.plotting import cell_colours, text_colours

    weights = np.linspace(0.0, 1.0, 16).reshape(4, 4)
    ax = plot_attention(weights, list("abcd"), vmax=1.0)
    drawn = [matplotlib.colors.to_hex(t.get_color()) for t in ax.texts]
    assert text_colours(cell_colours(weights)) == drawn
    assert len(set(drawn)) == 2  # both dark and light text occur on this range


def test_colour_limits_and_their_label():
    from course_lib.plotting import colour_bar_label, colour_limits

    weights = np.array([[0.3, 0.7], [0.45, 0.55]])
    assert colour_limits(weights) == (0.0, 1.0)
    assert colour_limits(weights, "stretch") == (0.0, 0.7)
    assert "fixed 0–1" in colour_bar_label("fixed")
    assert "stretched 0–0.70" in colour_bar_label("stretch", (0.0, 0.7))
    with pytest.raises(ValueError, match="fixed"):
        colour_limits(weights, "rainbow")
    with pytest.raises(ValueError, match="stretch"):
        colour_limits(np.zeros((2, 2)), "stretch")
