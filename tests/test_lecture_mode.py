"""lecture_mode() makes every figure bigger and still legible; the layout check can fail.

Every figure of the notebooks is checked in lecture mode when the notebooks run under nbval:
`make notebooks-test` sets COURSE_LECTURE_MODE=1 (lecture mode from the first figure on) and
COURSE_CHECK_FIGURES=1 (``show_figure`` raises on any problem that ``layout_problems``
finds); scripts/execute_notebooks.py sets COURSE_CHECK_FIGURES=1 for the saved, normal-size
figures. Here: the check itself, shown failing on figures made wrong on purpose, and every
plot function in both modes on short, long and awkward labels.
"""

import os
import subprocess
import sys

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest

from course_lib import sizing
from course_lib.figures import layout_problems
from course_lib.plotting import (
    heatmap_grid,
    lecture_mode,
    plot_attention,
    plot_attention_row,
    plot_curves,
    plot_similarity,
)

SIX = ["i", "drink", "coke", "but", "eat", "steak"]
TEN = "the cat sat on the mat because it was tired".split()
LONG = ["internationalisation", "a", "counterrevolutionary", "b"]
D_KS = 2 ** np.arange(10)


@pytest.fixture(params=["normal", "lecture"])
def mode(request):
    if request.param == "lecture":
        lecture_mode()
    yield request.param
    lecture_mode(False)


def _weights(n, m=None, seed=0):
    scores = np.random.default_rng(seed).normal(size=(n, m or n)) * 2
    return np.exp(scores) / np.exp(scores).sum(axis=-1, keepdims=True)


def _grid(words, n_panels):
    fig, axes = heatmap_grid(n_panels, words)
    for i, ax in enumerate(axes):
        plot_attention(_weights(len(words), seed=i), words, ax=ax, vmax=1.0, title=f"÷ {2**i}")
    return fig


FIGURES = {
    "heatmap, 2 words": lambda: plot_attention(_weights(2), ["a", "b"], title="two"),
    "heatmap, 6 words": lambda: plot_attention(_weights(6), SIX, title="Scores ÷ 8", vmax=1),
    "heatmap, 10 words": lambda: plot_attention(_weights(10), TEN, title="ten words"),
    "heatmap, 12 words": lambda: plot_attention(_weights(12), [f"w{i}" for i in range(12)]),
    "heatmap, long words": lambda: plot_attention(_weights(4), LONG, title="long labels"),
    "heatmap, 3 x 7": lambda: plot_attention(_weights(3, 7), SIX[:3], [*SIX, "because"]),
    "heatmap, long colour-bar label": lambda: plot_attention(
        _weights(2), ["a", "b"], cbar_label="attention weight (colours stretched 0–0.34 = max)"
    ),
    "similarity": lambda: plot_similarity(_weights(6) * 30, SIX, cbar_label="dot product"),
    "two panels": lambda: _grid(SIX, 2),
    "three panels": lambda: _grid(SIX, 3),
    "eight panels": lambda: _grid(TEN, 8),
    "bars, 10 words": lambda: plot_attention_row(_weights(1, 10)[0], TEN, query_word="it"),
    "bars, long words": lambda: plot_attention_row(_weights(1, 4)[0], LONG, query_word="a"),
    "curves": lambda: plot_curves(
        D_KS,
        {
            "variance of q·k, unscaled": D_KS * 1.01,
            "its std": np.sqrt(D_KS),
            "scaled": 1 + 0 * D_KS,
        },
        reference={"d_k (footnote 4)": D_KS, "√d_k": np.sqrt(D_KS)},
        xlabel="d_k (length of q and k)",
        ylabel="variance or std of the score",
        title="Var(q·k) grows like d_k, its spread like √d_k",
        logx=2,
        logy=2,
    ),
    "curves, a level": lambda: plot_curves(
        D_KS,
        {"÷ 1": np.linspace(1.8, 0.1, 10), "÷ √d_k": np.full(10, 1.75), "÷ d_k": np.full(10, 2.05)},
        reference={"uniform (ln 8)": np.log(8)},
        xlabel="d_k",
        ylabel="mean entropy of the weights (nats)",
        logx=2,
        ylim=(0, 2.3),
    ),
}


def _figure(made):
    return made if isinstance(made, matplotlib.figure.Figure) else made.figure


@pytest.mark.parametrize("name", sorted(FIGURES))
def test_every_kind_of_course_figure_is_legible(name, mode):
    fig = _figure(FIGURES[name]())
    assert layout_problems(fig) == [], f"{name} in {mode} mode"


@pytest.mark.parametrize("name", ["heatmap, 6 words", "bars, 10 words", "curves", "two panels"])
def test_lecture_mode_makes_the_figure_bigger_with_bigger_text(name):
    normal = _figure(FIGURES[name]()).get_size_inches()
    lecture_mode()
    try:
        big = _figure(FIGURES[name]())
        size = big.get_size_inches()
        fonts = [t.get_fontsize() for t in big.findobj(matplotlib.text.Text) if t.get_text()]
    finally:
        lecture_mode(False)
    assert (size >= 1.3 * normal).all() or (size.prod() > 2.0 * normal.prod()), (normal, size)
    assert min(fonts) >= 14


def _explorer_like(words, widen=2.1):
    """The explorers' snapshot layout: a heatmap and one row as bars, on a wide figure."""
    side = min(max(3.6, 0.45 * len(words) + 1.8), 12.0)  # as course_lib.explorer_png
    fig = plt.figure(figsize=(widen * side + 1.5, side), layout="constrained")
    heat_ax, bar_ax = fig.subplots(1, 2, width_ratios=[1.25, 1])
    plot_attention(_weights(len(words)), words, ax=heat_ax, vmax=1.0)
    plot_attention_row(_weights(len(words))[0], words, query_word=words[0], ax=bar_ax)
    return fig, bar_ax


@pytest.mark.parametrize("widen", [2.1, 1.6])
@pytest.mark.parametrize("words", [SIX, TEN], ids=["6 words", "10 words"])
def test_bars_on_an_axes_made_elsewhere_turn_their_words_when_they_do_not_fit(words, widen):
    fig, bar_ax = _explorer_like(words, widen)
    assert layout_problems(fig) == []
    upright = bar_ax.get_xticklabels()[0].get_rotation() == 0
    if widen == 2.1:  # the explorers' own width: six short words fit side by side, ten do not
        assert upright == (words is SIX)


def test_the_ten_words_upright_would_run_together():
    fig, bar_ax = _explorer_like(TEN, widen=1.6)
    for label in bar_ax.get_xticklabels():
        label.set_rotation(0)
    assert any("texts overlap" in problem for problem in layout_problems(fig))


def test_a_wide_grid_wraps_onto_more_rows():
    fig = _grid(TEN, 8)
    width, height = fig.get_size_inches()
    assert width <= sizing.MAX_WIDTH + 1e-9 and height > width / 4


# ------------------------------------------------------------------------- the check can fail
def test_numbers_that_run_into_each_other_are_caught():
    """A figure size fixed in the notebook, then lecture mode: "0.760.010.00"."""
    lecture_mode()
    try:
        fig, axes = plt.subplots(1, 3, figsize=(15, 4.6), dpi=100, layout="constrained")
        for ax in axes:  # notebook 03's old figure of ÷ 1, ÷ 8 and ÷ 32
            plot_attention(_weights(6), SIX, ax=ax, vmax=1.0)
        problems = layout_problems(fig)
    finally:
        lecture_mode(False)
    assert any(p.startswith("texts overlap: '0.") for p in problems), problems


def test_a_legend_over_the_data_is_caught():
    fig, ax = plt.subplots(layout="constrained")
    ax.plot(D_KS, D_KS, "o-", label="a measured curve with a long name")
    ax.plot(D_KS, D_KS[::-1], "s-", label="another one")
    ax.legend(loc="center")
    assert any("legend covers" in p for p in layout_problems(fig))
    ax.get_legend().remove()
    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0))
    assert layout_problems(fig) == []


def test_markers_under_a_legend_are_caught_without_a_line():
    fig, ax = plt.subplots(layout="constrained")
    ax.plot([0.0, 1.0, 0.5], [0.0, 1.0, 0.5], "o", label="points")  # one point mid-axes
    ax.legend(loc="center")
    assert any("legend covers" in p for p in layout_problems(fig))


def test_small_text_and_text_off_the_figure_are_caught():
    fig, ax = plt.subplots(layout="constrained")
    ax.set_title("tiny", fontsize=7)
    ax.text(1.4, 0.5, "far outside", transform=ax.transAxes)
    problems = layout_problems(fig)
    assert any("'tiny' is 7 pt" in p for p in problems), problems
    assert any("'far outside' is cut off" in p for p in problems), problems


def test_two_titles_on_top_of_each_other_are_caught():
    fig, ax = plt.subplots(layout="constrained")
    ax.set_title("left title", loc="center")
    fig.text(0.5, 0.5, "stray", ha="center")
    ax.text(0.5, 0.5, "stray too", ha="center", transform=fig.transFigure)
    assert any("texts overlap" in p for p in layout_problems(fig))


# ------------------------------------------------------------------------- switching it on
def test_lecture_mode_from_the_environment_applies_at_the_first_figure():
    code = (
        "import matplotlib; matplotlib.use('Agg')\n"
        "from course_lib.plotting import plot_attention\n"
        "before = matplotlib.rcParams['font.size']\n"
        "plot_attention([[1.0]], ['a'])\n"
        "print(before, matplotlib.rcParams['font.size'])\n"
    )
    env = {**os.environ, "COURSE_LECTURE_MODE": "1", "MPLBACKEND": "Agg"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.stdout.split() == ["10.0", "16.0"], out.stderr
    env["COURSE_LECTURE_MODE"] = "0"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.stdout.split() == ["10.0", "10.0"], out.stderr


def test_show_figure_raises_under_the_check_when_the_figure_is_hard_to_read(monkeypatch):
    from course_lib.figures import figure_bundle

    monkeypatch.setenv("COURSE_CHECK_FIGURES", "1")
    fig, ax = plt.subplots(layout="constrained")
    ax.plot([0, 1], [0, 1], label="data")
    ax.legend(loc="center")
    with pytest.raises(AssertionError, match="legend covers"):
        figure_bundle(fig, "A line under its legend.")
    monkeypatch.setenv("COURSE_CHECK_FIGURES", "0")
    assert figure_bundle(fig, "A line under its legend.")[0]["image/png"]
