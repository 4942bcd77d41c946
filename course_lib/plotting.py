"""Figures for the course: attention heatmaps, similarity heatmaps and one row as bars.

Each function draws on one matplotlib Axes and returns it (like seaborn): pass ``ax=`` to
place the figure in your own layout, e.g. the panels of :func:`heatmap_grid`. A figure made
here sizes itself from the font size (:mod:`course_lib.sizing`), so ``lecture_mode()`` makes
it bigger and it stays legible. Nothing here calls ``plt.show()`` or ``savefig``, and
importing the module changes no global style; ``lecture_mode()`` does, when you call it.
:func:`course_lib.figures.show_figure` shows a figure with its text alternative.

Conventions in every heatmap: rows are the query words (the word that is looking), columns
are the words attended to, the colour bar is labelled, and the colormap is ``viridis``
(perceptually uniform and readable with the common forms of colour blindness).

The colours and labels of a weight picture are decided in one place, :mod:`course_lib.colours`
(re-exported here) and the axis names below: the live explorers (:mod:`course_lib.explorer_view`,
which draws them as HTML) take theirs from there too, so the live view and the saved figure
cannot drift apart.
"""

import numpy as np

from course_lib import sizing

# The colours and colour-bar labels (shared with the live explorers), re-exported from here.
from course_lib.colours import (
    BAR_COLOUR,
    CMAP,
    TOP_BAR_COLOUR,
    WEIGHT_LABEL,
    _colour_numbers,
    cell_colours,
    colour_bar_label,
    colour_limits,
    contrast_ratio,
    hex_colour,
    relative_luminance,
    text_colours,
)
from course_lib.sizing import heatmap_grid, heatmap_layout, lecture_mode, points, text_width

__all__ = [
    "plot_attention",
    "plot_similarity",
    "plot_attention_row",
    "plot_curves",
    "heatmap_grid",
    "lecture_mode",
    "colour_limits",
    "colour_bar_label",
    "cell_colours",
    "text_colours",
    "hex_colour",
    "relative_luminance",
    "contrast_ratio",
]

ANNOTATE_MAX = sizing.ANNOTATE_MAX  # values are written in matrices up to this many rows

QUERY_AXIS = "query word"  # rows
KEY_AXIS = "attended-to word"  # columns


# -- the plot functions: each figure sizes itself from the font size (course_lib.sizing) --
_MARKERS = ("o", "s", "^", "D", "v", "P")
_DASHES = ("-", "--", "-.", ":")
# Okabe and Ito's colour-blind-safe palette (its blue, vermillion, green, purple, orange, sky)
_LINE_COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9")
REFERENCE_COLOUR = "0.45"  # grey reference lines, 4.8:1 on white


def _check_labels(matrix, row_words, col_words, what):
    matrix = np.asarray(matrix, dtype=np.float64)
    if matrix.ndim != 2:
        raise ValueError(f"{what} must be a 2-D matrix (rows, columns), got shape {matrix.shape}")
    row_words, col_words = list(row_words), list(col_words)
    if matrix.shape != (len(row_words), len(col_words)):
        raise ValueError(
            f"{what} has shape {matrix.shape} but {len(row_words)} row labels and "
            f"{len(col_words)} column labels were given, i.e. shape "
            f"({len(row_words)}, {len(col_words)}); label the axes with the words that were "
            "kept (e.g. SentenceEmbedding.words), not the raw sentence"
        )
    return matrix, row_words, col_words


def _heatmap(matrix, row_words, col_words, *, ax, annotate, labels, **style):
    """Draw a heatmap as seaborn's ``heatmap`` does, without its full-figure draw per call."""
    if annotate is None:
        annotate = max(matrix.shape) <= ANNOTATE_MAX
    if ax is None:
        _, (ax,) = heatmap_grid(1, row_words, col_words, annotate=annotate)
    _, _, rotation = heatmap_layout(row_words, col_words, annotate)
    n_rows, n_cols = matrix.shape
    mesh = ax.pcolormesh(
        matrix,
        cmap=style["cmap"],
        vmin=style["vmin"],
        vmax=style["vmax"],
        edgecolors="white",
        linewidth=0.5,
    )
    ax.set(xlim=(0, n_cols), ylim=(n_rows, 0))  # row 0 at the top, as a matrix is written
    for spine in ax.spines.values():
        spine.set_visible(False)
    (_, cell_h), _, _ = heatmap_layout(row_words, col_words, annotate)
    label = sizing.wrap(style["cbar_label"], 0.95 * cell_h * n_rows)  # as tall as the rows
    ax.figure.colorbar(mesh, ax=ax, label=label).outline.set_linewidth(0)
    ax.set_xticks(np.arange(n_cols) + 0.5, col_words, rotation=rotation)
    ax.set_yticks(np.arange(n_rows) + 0.5, row_words, rotation=0, va="center")
    if annotate:
        texts_before = len(ax.texts)
        mesh.update_scalarmappable()  # the cell colours, for the colour of each number
        for (row, col), value in np.ndenumerate(np.ma.filled(mesh.get_array(), np.nan)):
            if np.isfinite(value):
                ax.text(col + 0.5, row + 0.5, f"{value:.2f}", ha="center", va="center")
        _colour_numbers(ax, texts_before)
    ax.set_xlabel(labels[0])
    ax.set_ylabel(labels[1])
    if style["title"]:
        ax.set_title(style["title"])
    return ax


def plot_attention(
    weights,
    query_words,
    key_words=None,
    *,
    ax=None,
    annotate=None,
    cmap=CMAP,
    title=None,
    cbar_label=WEIGHT_LABEL,
    vmin=0.0,
    vmax=None,
):
    """Draw attention weights as a heatmap: one row per query word.

    Parameters
    ----------
    weights : array_like of shape (seq_q, seq_k)
        Attention weights, e.g. the second value returned by
        :func:`course_lib.attention.scaled_dot_product_attention`.
    query_words : sequence of str, length seq_q
        Row labels: the words doing the looking.
    key_words : sequence of str, length seq_k, optional
        Column labels: the words attended to. Defaults to ``query_words`` (self-attention).
    ax : matplotlib Axes, optional
        Where to draw. A new figure, sized for these words, is made when omitted.
    annotate : bool, optional
        Write each weight in its cell. Default: only when both sides have at most 10 words.
    cmap : str, default="viridis"
        A colour-blind-safe sequential colormap.
    title : str, optional
    cbar_label : str, default="attention weight"
    vmin, vmax : float, optional
        Colour range. ``vmin`` defaults to 0; ``vmax`` to the largest weight.

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    ValueError
        If ``weights`` is not 2-D, or its shape does not match the number of words.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> ax = plot_attention(np.array([[0.9, 0.1], [0.3, 0.7]]), ["drink", "coke"])
    >>> ax.get_ylabel(), ax.get_xlabel()
    ('query word', 'attended-to word')
    >>> [t.get_text() for t in ax.get_xticklabels()]
    ['drink', 'coke']
    """
    if key_words is None:
        key_words = query_words
    matrix, query_words, key_words = _check_labels(weights, query_words, key_words, "weights")
    style = dict(cmap=cmap, title=title, cbar_label=cbar_label, vmin=vmin, vmax=vmax)
    labels = (KEY_AXIS, QUERY_AXIS)
    return _heatmap(
        matrix, query_words, key_words, ax=ax, annotate=annotate, labels=labels, **style
    )


def plot_similarity(
    matrix,
    words,
    *,
    ax=None,
    annotate=None,
    cbar_label="cosine similarity",
    title=None,
    cmap=CMAP,
    vmin=None,
    vmax=None,
):
    """Draw a word-by-word similarity matrix (cosine or dot product) as a heatmap.

    Parameters
    ----------
    matrix : array_like of shape (n, n)
        ``matrix[i, j]`` is the similarity of ``words[i]`` and ``words[j]``.
    words : sequence of str, length n
    ax : matplotlib Axes, optional
        Where to draw; a new figure sized for these words when omitted.
    annotate : bool, optional
        Write the values in the cells; default only for at most 10 words.
    cbar_label : str, default="cosine similarity"
        Say what was measured, e.g. ``"dot product"``.
    title : str, optional
    cmap : str, default="viridis"
    vmin, vmax : float, optional
        Colour range; by default the data's range.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> ax = plot_similarity(np.eye(2), ["eat", "steak"])
    >>> ax.collections[0].colorbar.ax.get_ylabel()
    'cosine similarity'
    """
    matrix, words, _ = _check_labels(matrix, words, words, "matrix")
    style = dict(cmap=cmap, title=title, cbar_label=cbar_label, vmin=vmin, vmax=vmax)
    return _heatmap(
        matrix, words, words, ax=ax, annotate=annotate, labels=("word", "word"), **style
    )


def plot_attention_row(weights_row, key_words, *, query_word=None, ax=None):
    """Draw one query's attention weights as bars, one bar per attended-to word.

    Parameters
    ----------
    weights_row : array_like of shape (seq_k,)
        One row of an attention matrix.
    key_words : sequence of str, length seq_k
    query_word : str, optional
        Used in the title ("where 'eat' looks").
    ax : matplotlib Axes, optional
        Where to draw; a new figure sized for these words when omitted.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> ax = plot_attention_row([0.2, 0.8], ["eat", "steak"], query_word="eat")
    >>> ax.get_title(), [float(y) for y in ax.get_ylim()]
    ("where 'eat' looks", [0.0, 1.0])
    """
    import matplotlib.pyplot as plt

    row = np.asarray(weights_row, dtype=np.float64)
    key_words = list(key_words)
    if row.ndim != 1 or row.shape[0] != len(key_words):
        raise ValueError(
            f"weights_row has shape {row.shape} but {len(key_words)} words were given, "
            f"i.e. shape ({len(key_words)},)"
        )
    tick = points("xtick.labelsize")
    label = text_width(key_words, "xtick.labelsize") + 0.8 * tick
    vertical = label > sizing.MAX_HORIZONTAL_LABEL * tick
    if ax is None:
        bar = max(2.4 * tick, 1.8 * tick if vertical else label)
        size = (len(key_words) * bar + 10 * tick, 16 * tick + (label if vertical else 0))
        _, ax = plt.subplots(figsize=(size[0] / 72, size[1] / 72), layout="constrained")
    elif not vertical:  # an Axes made elsewhere: do the words fit side by side in its width?
        # Its width before the figure's layout, which is at most the width it ends up with
        # under "constrained" (smaller margins than the default subplot parameters).
        width = ax.get_position().width * ax.figure.get_figwidth() * 72  # points
        vertical = label > width / len(key_words)
    positions = np.arange(len(key_words))
    bars = ax.bar(positions, row, color=BAR_COLOUR)
    bars[int(np.argmax(row))].set_color(TOP_BAR_COLOUR)  # the arg-max stands out
    ax.set_xticks(positions, key_words, rotation=90 if vertical else 0)
    ax.set_ylim(0.0, 1.0)
    ax.set_ylabel(WEIGHT_LABEL)
    ax.set_xlabel(KEY_AXIS)
    if query_word is not None:
        ax.set_title(f"where {query_word!r} looks")
    return ax


def plot_curves(
    x,
    curves,
    *,
    xlabel,
    ylabel,
    title=None,
    reference=None,
    logx=None,
    logy=None,
    ylim=None,
    ax=None,
):
    """Draw measured curves against ``x``, each with its own marker, and a legend beside them.

    The legend sits outside the plotting area, to the right, so it never covers data.

    Parameters
    ----------
    x : array_like of shape (n,)
    curves : dict of str to array_like of shape (n,)
        Legend label -> measured values: drawn with markers and a line.
    xlabel, ylabel : str
    title : str, optional
    reference : dict of str to array_like of shape (n,) or float, optional
        Legend label -> a law or a level to compare with (a float is a horizontal line):
        drawn as grey lines with no markers.
    logx, logy : int, optional
        Logarithmic axis of this base (e.g. 2 for d_k = 1, 2, 4, ...).
    ylim : (float, float), optional
    ax : matplotlib Axes, optional
        Where to draw; a new figure when omitted.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> ax = plot_curves([1, 2, 4], {"measured": [1.1, 1.9, 4.2]}, xlabel="d_k",
    ...                  ylabel="variance", reference={"d_k": [1, 2, 4]}, logx=2)
    >>> [t.get_text() for t in ax.get_legend().get_texts()]
    ['measured', 'd_k']
    """
    import matplotlib.pyplot as plt

    x = np.asarray(x, dtype=np.float64)
    reference = reference or {}
    for label, values in {**curves, **reference}.items():
        shape = np.shape(values)
        if shape not in ((), x.shape) or (shape == () and label in curves):
            raise ValueError(f"curve {label!r} has shape {shape}; x has shape {x.shape}")
    if ax is None:
        font = points()
        legend = text_width([*curves, *reference], "legend.fontsize") + 4 * font
        size = (34 * font + legend, 24 * font)
        _, ax = plt.subplots(figsize=(size[0] / 72, size[1] / 72), layout="constrained")
    for i, (label, values) in enumerate(curves.items()):
        style = dict(marker=_MARKERS[i % 6], linestyle=_DASHES[i // 6 % 4])
        values = np.asarray(values, dtype=np.float64)
        ax.plot(x, values, color=_LINE_COLOURS[i % 6], label=label, **style)
    for i, (label, values) in enumerate(reference.items()):
        level = np.broadcast_to(np.asarray(values, dtype=np.float64), x.shape)
        style = dict(color=REFERENCE_COLOUR, linestyle=_DASHES[1:][i % 3], zorder=1.5)
        ax.plot(x, level, label=label, **style)  # under the measured curves
    if logx:
        ax.set_xscale("log", base=logx)
    if logy:
        ax.set_yscale("log", base=logy)
    ax.set(xlabel=xlabel, ylabel=ylabel)
    if ylim is not None:
        ax.set_ylim(*ylim)
    if title:
        ax.set_title(title)
    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0)
    return ax
