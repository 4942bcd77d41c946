"""The colours of the course's pictures, and the contrast that keeps them readable.

One place decides how a weight becomes a colour and how the number written on it is
coloured, for the saved figures (:mod:`course_lib.plotting`, which re-exports these names)
and the live explorers (:mod:`course_lib.explorer_view`) alike. Every colour here is checked
against WCAG 2.1 AA by ``tests/test_plotting_colours.py``: numbers on cells at least 4.5:1
(1.4.3), bars, the selected state of a control and the keyboard focus ring at least 3:1
against what surrounds them (1.4.11). Imports only numpy (matplotlib inside the functions
that need its colormaps).
"""

import numpy as np

__all__ = [
    "colour_limits",
    "colour_bar_label",
    "cell_colours",
    "text_colours",
    "hex_colour",
    "relative_luminance",
    "contrast_ratio",
]

#: The colormap of every weight picture, static or live.
CMAP = "viridis"
WEIGHT_LABEL = "attention weight"  # what the colours of a weight picture mean
# Bars on a white page: both at least 3:1 against white (WCAG 1.4.11, graphics).
BAR_COLOUR = "#3b528b"  # a viridis blue, 7.6:1
TOP_BAR_COLOUR = "#21918c"  # viridis teal, 3.8:1: the arg-max bar (it is also the tallest)
# Numbers on heatmap cells: black or white, whichever contrasts more with the cell. On
# every viridis colour that gives at least 4.6:1 (WCAG 1.4.3 asks 4.5:1 for 14 px text);
# seaborn's own rule (".15" on cells lighter than 0.408) gives 2.3:1 on mid-viridis.
DARK_TEXT, LIGHT_TEXT = "#000000", "#ffffff"
# The explorers' controls (their style sheet uses these). The focus ring is 4.5:1 on a white
# page, 3.9:1 on a light-grey button and 4.2:1 on JupyterLab's dark page; a selected toggle
# button is filled with the viridis blue (white text 7.6:1; 6.5:1 against an unselected one);
# in JupyterLab's dark theme with a light blue (black text; 5.8:1 against a dark button).
FOCUS_COLOUR = "#1a73e8"
SELECTED_BACKGROUND, SELECTED_TEXT = BAR_COLOUR, "#ffffff"
SELECTED_BACKGROUND_DARK, SELECTED_TEXT_DARK = "#a6c8ff", "#000000"


def colour_limits(weights, colour_scale="fixed"):
    """Return the colour range of a weight picture.

    Parameters
    ----------
    weights : array_like
        The weights drawn (only their largest value is used, for ``"stretch"``).
    colour_scale : {"fixed", "stretch"}, default "fixed"
        ``"fixed"``: 0 to 1, so a colour means the same weight in every picture.
        ``"stretch"``: 0 to the largest weight, to read the shape of a flat row.

    Returns
    -------
    tuple of two floats

    Examples
    --------
    >>> colour_limits([[0.2, 0.4]]), colour_limits([[0.2, 0.4]], "stretch")
    ((0.0, 1.0), (0.0, 0.4))
    """
    if colour_scale == "fixed":
        return (0.0, 1.0)
    if colour_scale == "stretch":
        top = float(np.max(weights))
        if not np.isfinite(top) or top <= 0.0:
            raise ValueError(f"cannot stretch the colours to a largest weight of {top}")
        return (0.0, top)
    raise ValueError(f'colour_scale must be "fixed" or "stretch", got {colour_scale!r}')


def colour_bar_label(colour_scale="fixed", limits=(0.0, 1.0)):
    """Return the colour bar's label, saying whether the colours are fixed or stretched.

    Examples
    --------
    >>> colour_bar_label("fixed")
    'attention weight (colours fixed 0–1)'
    >>> colour_bar_label("stretch", (0.0, 0.4))
    'attention weight (colours stretched 0–0.40 = max)'
    """
    if colour_scale == "fixed":
        return f"{WEIGHT_LABEL} (colours fixed 0–1)"
    return f"{WEIGHT_LABEL} (colours stretched 0–{limits[1]:.2f} = max)"


def cell_colours(values, limits=(0.0, 1.0), cmap=CMAP):
    """Return the RGBA colours of heatmap cells, as matplotlib colours them.

    Parameters
    ----------
    values : array_like of shape (...)
    limits : (float, float), default (0, 1)
        Values at or below ``limits[0]`` get the colormap's first colour, at or above
        ``limits[1]`` its last.
    cmap : str, default "viridis"

    Returns
    -------
    ndarray of shape (..., 4), floats in [0, 1]

    Examples
    --------
    >>> cell_colours([0.0, 1.0]).round(3).tolist()
    [[0.267, 0.005, 0.329, 1.0], [0.993, 0.906, 0.144, 1.0]]
    """
    import matplotlib

    low, high = limits
    scaled = (np.asarray(values, dtype=np.float64) - low) / (high - low)  # 0..1 on the range
    return matplotlib.colormaps[cmap](np.clip(scaled, 0.0, 1.0))


def hex_colour(rgba):
    """Return an RGBA colour (floats in [0, 1]) as "#rrggbb" for HTML.

    Examples
    --------
    >>> hex_colour((1.0, 0.5, 0.0, 1.0))
    '#ff8000'
    """
    red, green, blue = (int(round(255 * float(c))) for c in rgba[:3])
    return f"#{red:02x}{green:02x}{blue:02x}"


def _as_rgb(colours):
    """Colours (hex strings, or RGB/RGBA floats in [0, 1]) as (n, 3) floats of 8-bit steps."""
    if isinstance(colours, str):
        colours = [colours]
    if len(colours) and isinstance(colours[0], str):
        for colour in colours:
            if len(colour.lstrip("#")) != 6:
                raise ValueError(f'a hex colour must look like "#rrggbb", got {colour!r}')
        rgb = [[int(c.lstrip("#")[i : i + 2], 16) for i in (0, 2, 4)] for c in colours]
        return np.asarray(rgb, dtype=np.float64) / 255  # (n, 3)
    floats = np.asarray(colours, dtype=np.float64)
    return np.round(floats.reshape(-1, floats.shape[-1])[:, :3] * 255) / 255  # as on screen


def relative_luminance(colours):
    """Return the W3C relative luminance of each colour (0 = black, 1 = white).

    Parameters
    ----------
    colours : str or sequence
        One hex colour ``"#rrggbb"``, or a sequence of hex colours or of RGB/RGBA tuples
        (floats in [0, 1], rounded to the 8-bit steps a screen shows).

    Returns
    -------
    ndarray of shape (n,)

    Examples
    --------
    >>> relative_luminance(["#000000", "#ffffff"]).tolist()
    [0.0, 1.0]
    """
    rgb = _as_rgb(colours)  # (n, 3)
    linear = np.where(rgb <= 0.03928, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    return linear @ np.array([0.2126, 0.7152, 0.0722])


def contrast_ratio(first, second):
    """Return the WCAG contrast ratio of two colours, from 1 (same) to 21 (black on white).

    WCAG 2.1 AA asks at least 4.5 for text of normal size and 3 for large text, for
    graphics and for the outline that shows keyboard focus.

    Parameters
    ----------
    first, second : str or sequence
        Colours as :func:`relative_luminance` takes them; equal numbers of each, or one of
        either (it is compared with every colour of the other).

    Returns
    -------
    ndarray of shape (n,)

    Examples
    --------
    >>> float(contrast_ratio("#000000", "#ffffff")[0])
    21.0
    >>> round(float(contrast_ratio("#767676", "#ffffff")[0]), 2)
    4.54
    """
    a, b = relative_luminance(first), relative_luminance(second)
    return (np.maximum(a, b) + 0.05) / (np.minimum(a, b) + 0.05)


def text_colours(rgba):
    """Return the text colour for numbers written on cells of the given colours.

    Black or white, whichever contrasts more with the cell: at least 4.58:1 on any colour,
    at least 4.6:1 on viridis (WCAG 2.1 AA asks 4.5:1). The live explorers and the saved
    figures both colour their numbers with this.

    Parameters
    ----------
    rgba : array_like of shape (..., 4)
        Cell colours, e.g. from :func:`cell_colours`.

    Returns
    -------
    list of str
        ``DARK_TEXT`` or ``LIGHT_TEXT`` for each cell, in row-major order.

    Examples
    --------
    >>> text_colours(cell_colours([0.0, 0.5, 1.0]))
    ['#ffffff', '#000000', '#000000']
    """
    cells = np.asarray(rgba, dtype=np.float64).reshape(-1, 4)  # (n_cells, 4)
    luminance = relative_luminance(cells)
    black = (luminance + 0.05) / 0.05  # contrast of black text on each cell
    white = 1.05 / (luminance + 0.05)  # contrast of white text
    return [DARK_TEXT if b > w else LIGHT_TEXT for b, w in zip(black, white, strict=True)]


def _colour_numbers(ax, texts_before=0):
    """Colour the numbers written on the heatmap of ``ax`` with :func:`text_colours`.

    The heatmap is ``ax``'s last collection (a QuadMesh, cells in row-major order) and its
    numbers are the texts added after the first ``texts_before``: one per finite cell, in
    the same order.
    """
    mesh = ax.collections[-1]
    values = mesh.get_array()
    shown = ~np.ma.getmaskarray(values).ravel() & np.isfinite(np.ma.filled(values, np.nan)).ravel()
    inks = np.asarray(text_colours(mesh.get_facecolors()))[shown]  # (n_numbers,)
    numbers = ax.texts[texts_before:]
    if len(numbers) != len(inks):
        raise RuntimeError(f"{len(numbers)} numbers written on {len(inks)} finite cells")
    for text, ink in zip(numbers, inks, strict=True):
        text.set_color(str(ink))
