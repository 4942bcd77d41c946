"""The colours of every weight picture (course_lib.colours) and their contrast (WCAG 2.1 AA).

The live explorers (HTML) and the saved figures (PNG, course_lib.plotting) both take their
cell colours from ``cell_colours`` and the colour of the numbers written on the cells from
``text_colours``. Every number must be readable: at least 4.5:1 against its cell
(WCAG 1.4.3; the numbers are 14 px in the explorers, 10 pt in the figures), on every colour
of the colormap and under both colour scales ("fixed" 0-1 and "stretch" 0-max).
"""

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from course_lib import colours, plotting
from course_lib.colours import (
    cell_colours,
    colour_bar_label,
    colour_limits,
    contrast_ratio,
    hex_colour,
    relative_luminance,
    text_colours,
)
from course_lib.plotting import plot_attention

matplotlib.use("Agg")
TEXT_MIN, GRAPHICS_MIN = 4.5, 3.0  # WCAG 2.1 AA: 1.4.3 text, 1.4.11 graphics and focus


def _weights(n, seed=0):
    scores = np.random.default_rng(seed).normal(size=(n, n))
    return np.exp(scores) / np.exp(scores).sum(axis=-1, keepdims=True)


def _number_contrast(cells):
    """Contrast of each number against its cell, as the screen shows them (8-bit hex)."""
    cells = np.asarray(cells).reshape(-1, 4)
    inks = text_colours(cells)
    return np.array(
        [contrast_ratio(ink, hex_colour(cell))[0] for ink, cell in zip(inks, cells, strict=True)]
    )


# -- the contrast formula itself ------------------------------------------------------------


def test_contrast_ratio_matches_published_values():
    # WCAG's own end points, and WebAIM's checker: #767676 is the lightest grey with 4.5:1
    # on white, #777777 just fails.
    assert contrast_ratio("#000000", "#ffffff")[0] == pytest.approx(21.0)
    assert contrast_ratio("#ffffff", "#ffffff")[0] == pytest.approx(1.0)
    assert contrast_ratio("#767676", "#ffffff")[0] == pytest.approx(4.54, abs=0.005)
    assert contrast_ratio("#777777", "#ffffff")[0] < 4.5
    assert contrast_ratio("#ffffff", "#767676")[0] == contrast_ratio("#767676", "#ffffff")[0]
    # floats are rounded to the 8-bit steps a screen shows, so both spellings agree
    assert relative_luminance([(1.0, 0.5, 0.0, 1.0)])[0] == relative_luminance("#ff8000")[0]
    with pytest.raises(ValueError, match="rrggbb"):
        relative_luminance("#fff")


# -- numbers on cells -----------------------------------------------------------------------


def test_every_colour_of_the_colormap_gets_readable_numbers():
    lut = matplotlib.colormaps[colours.CMAP](np.arange(256))  # every colour it can draw
    ratios = _number_contrast(lut)
    assert ratios.min() >= 4.6, (ratios.argmin(), ratios.min())
    # both inks are used, and black (not a grey) where the cell is light
    assert set(text_colours(lut)) == {"#000000", "#ffffff"}


@pytest.mark.parametrize("colour_scale", ["fixed", "stretch"])
def test_numbers_are_readable_under_both_colour_scales(colour_scale):
    rng = np.random.default_rng(0)
    for n, top in [(6, None), (10, 0.35), (4, 0.9), (12, 0.12)]:
        weights = _weights(n, seed=n)
        if top is not None:  # a flatter or sharper picture: rows still sum to 1
            weights = weights * (top / weights.max())
        weights = np.concatenate([weights.ravel(), rng.uniform(0, weights.max(), 500)])
        limits = colour_limits(weights, colour_scale)
        ratios = _number_contrast(cell_colours(weights, limits))
        assert ratios.min() >= TEXT_MIN, (colour_scale, n, ratios.min())


def test_the_old_seaborn_rule_would_fail_mid_viridis():
    # The case this guards against: seaborn's ".15" text switch left white on 0.45-0.71.
    cell = cell_colours([0.6])[0]
    assert contrast_ratio("#ffffff", hex_colour(cell))[0] < TEXT_MIN
    assert text_colours([cell]) == ["#000000"]
    assert _number_contrast([cell])[0] >= TEXT_MIN


@given(st.tuples(*[st.integers(0, 255)] * 3))
def test_the_chosen_ink_is_the_better_one_on_any_colour(rgb):
    cell = np.array([*(np.array(rgb) / 255), 1.0])
    ink = text_colours([cell])[0]
    other = "#ffffff" if ink == "#000000" else "#000000"
    chosen, rejected = (
        contrast_ratio(ink, hex_colour(cell))[0],
        contrast_ratio(other, hex_colour(cell))[0],
    )
    assert chosen >= rejected
    assert chosen >= 4.58  # the worst case of black-or-white, on a cell of luminance 0.179


def test_saved_heatmaps_write_their_numbers_in_the_readable_colour():
    """The PNG path: seaborn's numbers on plot_attention's cells, both colour scales."""
    values = np.linspace(0.0, 1.0, 100).reshape(10, 10)  # a sweep of the whole colormap
    words = [f"w{i}" for i in range(10)]
    for vmax in (1.0, 0.5):  # fixed, and stretched to a smaller maximum
        ax = plot_attention(values, words, vmax=vmax, annotate=True)
        try:
            mesh = ax.collections[0]
            cells = [hex_colour(c) for c in mesh.get_facecolors()]
            inks = [matplotlib.colors.to_hex(t.get_color()) for t in ax.texts]
            assert len(inks) == len(cells) == 100
            ratios = [contrast_ratio(i, c)[0] for i, c in zip(inks, cells, strict=True)]
            assert min(ratios) >= TEXT_MIN, min(ratios)
            assert inks == text_colours(mesh.get_facecolors())  # one rule for HTML and PNG
        finally:
            plt.close(ax.figure)


def test_bars_stand_out_from_the_page():
    for colour in (colours.BAR_COLOUR, colours.TOP_BAR_COLOUR):
        assert contrast_ratio(colour, "#ffffff")[0] >= GRAPHICS_MIN, colour


def test_focus_ring_and_selected_state_colours():
    # The explorers' style sheet draws these; the browser test measures them as drawn.
    light_page, light_button, dark_page = "#ffffff", "#eeeeee", "#111111"  # JupyterLab's
    for around in (light_page, light_button, dark_page):
        assert contrast_ratio(colours.FOCUS_COLOUR, around)[0] >= GRAPHICS_MIN, around
    selected = colours.SELECTED_BACKGROUND
    assert contrast_ratio(selected, light_button)[0] >= GRAPHICS_MIN  # vs. unselected
    assert contrast_ratio(colours.SELECTED_TEXT, selected)[0] >= TEXT_MIN
    dark_button = "#424242"  # JupyterLab's dark theme (--jp-layout-color2)
    selected = colours.SELECTED_BACKGROUND_DARK
    assert contrast_ratio(selected, dark_button)[0] >= GRAPHICS_MIN
    assert contrast_ratio(colours.SELECTED_TEXT_DARK, selected)[0] >= TEXT_MIN


def test_plotting_re_exports_the_colours():
    for name in ("cell_colours", "text_colours", "colour_limits", "colour_bar_label", "CMAP"):
        assert getattr(plotting, name) is getattr(colours, name)


# -- one module decides colours and labels (the live HTML explorers use these) ---------------


def test_cell_colours_are_the_colours_seaborn_draws():
    weights = _weights(6)
    for vmax in (1.0, float(weights.max())):
        ax = plot_attention(weights, [f"w{i}" for i in range(6)], vmax=vmax)
        drawn = ax.collections[0].get_facecolors()  # (36, 4), row-major
        # the same colormap entry; a tolerance of half a 256-level step of the lookup table
        np.testing.assert_allclose(
            cell_colours(weights, (0.0, vmax)).reshape(-1, 4), drawn, atol=2e-3
        )
        plt.close(ax.figure)


def test_colour_limits_and_their_label():
    weights = np.array([[0.3, 0.7], [0.45, 0.55]])
    assert colour_limits(weights) == (0.0, 1.0)
    assert colour_limits(weights, "stretch") == (0.0, 0.7)
    assert "fixed 0–1" in colour_bar_label("fixed")
    assert "stretched 0–0.70" in colour_bar_label("stretch", (0.0, 0.7))
    with pytest.raises(ValueError, match="fixed"):
        colour_limits(weights, "rainbow")
    with pytest.raises(ValueError, match="stretch"):
        colour_limits(np.zeros((2, 2)), "stretch")
