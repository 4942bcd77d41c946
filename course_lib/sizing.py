"""How big a figure is: sizes in points that follow the font size, and lecture mode.

The course's plot functions (:mod:`course_lib.plotting`) ask this module how big to make a
figure. Every length is a multiple of the font size, or the measured width of the labels at
that size, so when :func:`lecture_mode` makes the fonts bigger, every figure grows by the
same factor and its numbers still fit in their cells. No notebook writes a ``figsize``.
"""

__all__ = ["heatmap_grid", "heatmap_layout", "lecture_mode", "points", "text_width", "wrap"]

_LECTURE_RC = {
    "font.size": 16,
    "axes.titlesize": 18,
    "axes.labelsize": 16,
    "xtick.labelsize": 14,
    "ytick.labelsize": 14,
    "legend.fontsize": 14,
    "figure.titlesize": 20,
    "figure.figsize": (10.0, 7.0),
    "lines.linewidth": 2.5,
    "lines.markersize": 9.0,
}
_saved_rc = None
_env_read = False  # whether COURSE_LECTURE_MODE has been looked at
_LECTURE_ENV = "COURSE_LECTURE_MODE"  # "1": lecture mode from the first figure on
MAX_WIDTH = 13.0  # inches: a grid of panels wraps onto more rows beyond this
MAX_HORIZONTAL_LABEL = 6.0  # in font sizes: longer column labels are written vertically
MIN_HEATMAP_HEIGHT = 9.0  # in font sizes: a colour bar's label wraps onto at most 3 lines
#: Values are written in the cells of matrices up to this many rows and columns.
ANNOTATE_MAX = 10


def points(kind="font.size"):
    """Return a font size from matplotlib's settings in points (resolving "medium" etc.)."""
    import matplotlib
    from matplotlib.font_manager import FontProperties

    _env_lecture_mode()
    return FontProperties(size=matplotlib.rcParams[kind]).get_size_in_points()


def text_width(texts, kind="font.size"):
    """Return the width in points of the widest of ``texts`` at a font size of the settings."""
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import TextToPath

    prop, measure = FontProperties(size=points(kind)), TextToPath()
    widths = [measure.get_text_width_height_descent(str(t), prop, ismath=False)[0] for t in texts]
    return max(widths, default=0.0)


def wrap(text, width, kind="axes.labelsize"):
    """Return ``text`` with line breaks so that no line is wider than ``width`` points.

    Examples
    --------
    >>> wrap("attention weight (colours fixed 0–1)", 120, "font.size").splitlines()
    ['attention weight', '(colours fixed 0–1)']
    """
    lines = []
    for word in text.split():
        if lines and text_width([f"{lines[-1]} {word}"], kind) <= width:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    return "\n".join(lines)


def heatmap_layout(row_words, col_words, annotate):
    """Return the cell size, panel size (points) and x-label rotation of a heatmap."""
    font, tick = points(), points("xtick.labelsize")
    number = text_width(["0.00"]) + font if annotate else 1.6 * tick
    label = text_width(col_words, "xtick.labelsize") + 0.8 * tick
    vertical = label > max(number, MAX_HORIZONTAL_LABEL * tick)
    cell_w = max(number, 1.8 * tick) if vertical else max(number, label)
    cell_h = max(1.9 * font if annotate else 0, 1.7 * tick)
    left = 2.2 * points("axes.labelsize") + text_width(row_words, "ytick.labelsize") + tick
    cell_h = max(cell_h, MIN_HEATMAP_HEIGHT * font / len(row_words))  # room for the bar's label
    right = 1.6 * tick + text_width(["0.00"], "ytick.labelsize") + 4 * font  # colour bar
    below = (label if vertical else 1.8 * tick) + 2.2 * points("axes.labelsize")
    width = left + 1.25 * cell_w * len(col_words) + right  # the bar takes 20% of the panel
    height = 2.4 * points("axes.titlesize") + cell_h * len(row_words) + below
    return (cell_w, cell_h), (width, height), 90 if vertical else 0


def heatmap_grid(n_panels, row_words, col_words=None, *, ncols=None, annotate=None):
    """Make a figure of ``n_panels`` Axes, each sized for a heatmap of these words.

    The panels sit side by side and wrap onto more rows when they would be wider than
    ``MAX_WIDTH`` inches. Draw on them with ``plot_attention(..., ax=axes[i])``.

    Parameters
    ----------
    n_panels : int
    row_words : sequence of str
        The row labels of the heatmaps (their number and length set the panel's height).
    col_words : sequence of str, optional
        The column labels; default ``row_words``.
    ncols : int, optional
        Panels per row; default as many as fit in ``MAX_WIDTH``.
    annotate : bool, optional
        Whether the values will be written in the cells (default: at most 10 words).

    Returns
    -------
    fig : matplotlib Figure
    axes : list of matplotlib Axes, length n_panels

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> fig, axes = heatmap_grid(3, ["drink", "coke"])
    >>> len(axes), len(fig.axes)
    (3, 3)
    """
    import matplotlib.pyplot as plt

    col_words = row_words if col_words is None else col_words
    if annotate is None:
        annotate = max(len(row_words), len(col_words)) <= ANNOTATE_MAX
    _, (width, height), _ = heatmap_layout(row_words, col_words, annotate)
    if ncols is None:
        ncols = max(1, min(n_panels, int(MAX_WIDTH * 72 // width)))
    nrows = -(-n_panels // ncols)  # ceiling division
    fig = plt.figure(figsize=(ncols * width / 72, nrows * height / 72), layout="constrained")
    axes = list(fig.subplots(nrows, ncols, squeeze=False).ravel())
    for extra in axes[n_panels:]:
        fig.delaxes(extra)
    return fig, axes[:n_panels]


def _env_lecture_mode():
    """Turn lecture mode on once if the environment asks for it (COURSE_LECTURE_MODE=1)."""
    import os

    global _env_read
    if not _env_read:
        _env_read = True
        if os.environ.get(_LECTURE_ENV) == "1":
            lecture_mode()


def lecture_mode(enabled=True):
    """Make figures and fonts readable on a projector, or undo it.

    Changes matplotlib's global settings (bigger fonts, thicker lines) for the rest of the
    session. The course's plot functions size every figure from the font size, so their
    figures grow with the fonts and the numbers still fit in their cells. Call it once at
    the top of a notebook when teaching from it; setting the environment variable
    ``COURSE_LECTURE_MODE=1`` before starting Jupyter does the same in every notebook.

    Parameters
    ----------
    enabled : bool, default=True
        ``False`` restores the settings that were in force before the first call.

    Returns
    -------
    dict
        The settings that are now in force for the keys lecture mode manages.

    Examples
    --------
    >>> import matplotlib
    >>> before = matplotlib.rcParams["font.size"]
    >>> lecture_mode()["font.size"]
    16.0
    >>> lecture_mode(False)["font.size"] == before
    True
    """
    import matplotlib

    global _saved_rc
    if enabled:
        if _saved_rc is None:
            _saved_rc = {key: matplotlib.rcParams[key] for key in _LECTURE_RC}
        matplotlib.rcParams.update(_LECTURE_RC)
    elif _saved_rc is not None:
        matplotlib.rcParams.update(_saved_rc)
        _saved_rc = None
    return {key: matplotlib.rcParams[key] for key in _LECTURE_RC}
