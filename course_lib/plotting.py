"""Figures for the course: attention heatmaps, similarity heatmaps and one row as bars.

Each function draws on one matplotlib Axes and returns it (like seaborn): pass ``ax=`` to
place the figure in your own layout. Nothing here calls ``plt.show()`` or ``savefig``, and
importing the module changes no global style; ``lecture_mode()`` does, when you call it.

Conventions in every heatmap: rows are the query words (the word that is looking), columns
are the words attended to, the colour bar is labelled, and the colormap is ``viridis``
(perceptually uniform and readable with the common forms of colour blindness).

This module is also the one place that decides the colours and labels of a weight picture:
the live explorers (:mod:`course_lib.explorer_view`, which draws them as HTML) take their cell
colours, text colours, bar colours, axis names and colour-bar labels from the constants and
functions below, so the live view and the saved figure cannot drift apart.
"""

import numpy as np

__all__ = [
    "plot_attention",
    "plot_similarity",
    "plot_attention_row",
    "lecture_mode",
    "colour_limits",
    "colour_bar_label",
    "cell_colours",
    "text_colours",
    "hex_colour",
]

#: Values are written in the cells of matrices up to this many rows and columns.
ANNOTATE_MAX = 10

#: The colormap of every weight picture, static or live.
CMAP = "viridis"
QUERY_AXIS = "query word"  # rows
KEY_AXIS = "attended-to word"  # columns
WEIGHT_LABEL = "attention weight"
BAR_COLOUR = "#3b528b"  # a viridis blue
TOP_BAR_COLOUR = "#5ec962"  # a viridis green: the arg-max bar
DARK_TEXT, LIGHT_TEXT = "#262626", "#ffffff"  # seaborn's ".15" and "w"
_LUMINANCE_SPLIT = 0.408  # seaborn's rule: dark text on cells lighter than this


def colour_limits(weights, colour_scale="fixed"):
    """The colour range of a weight picture.

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
    """The colour bar's label, saying whether the colours are fixed or stretched.

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
    """RGBA colours of heatmap cells, as matplotlib/seaborn colour them.

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
    """An RGBA colour (floats in [0, 1]) as "#rrggbb" for HTML.

    Examples
    --------
    >>> hex_colour((1.0, 0.5, 0.0, 1.0))
    '#ff8000'
    """
    red, green, blue = (int(round(255 * float(c))) for c in rgba[:3])
    return f"#{red:02x}{green:02x}{blue:02x}"


def text_colours(rgba):
    """Dark or light text for cells of the given colours (seaborn's luminance rule).

    Examples
    --------
    >>> text_colours(cell_colours([0.0, 1.0]))
    ['#ffffff', '#262626']
    """
    rgb = np.asarray(rgba, dtype=np.float64).reshape(-1, 4)[:, :3]
    linear = np.where(rgb <= 0.03928, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    luminance = linear @ np.array([0.2126, 0.7152, 0.0722])  # W3C relative luminance
    return [DARK_TEXT if value > _LUMINANCE_SPLIT else LIGHT_TEXT for value in luminance]


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
}
_saved_rc = None


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


def _heatmap(
    matrix,
    row_words,
    col_words,
    *,
    ax,
    annotate,
    cmap,
    title,
    cbar_label,
    vmin,
    vmax,
    xlabel,
    ylabel,
):
    import matplotlib.pyplot as plt
    import seaborn as sns

    if ax is None:
        n_rows, n_cols = matrix.shape
        size = (max(4.5, 0.55 * n_cols + 2.5), max(3.5, 0.45 * n_rows + 1.5))
        _, ax = plt.subplots(figsize=size, layout="constrained")
    if annotate is None:
        annotate = max(matrix.shape) <= ANNOTATE_MAX
    sns.heatmap(
        matrix,
        ax=ax,
        cmap=cmap,
        vmin=vmin,
        vmax=vmax,
        annot=bool(annotate),
        fmt=".2f",
        square=False,
        xticklabels=col_words,
        yticklabels=row_words,
        cbar_kws={"label": cbar_label},
        linewidths=0.5,
        linecolor="white",
    )
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.tick_params(axis="x", labelrotation=45)
    ax.tick_params(axis="y", labelrotation=0)
    for label in ax.get_xticklabels():
        label.set_horizontalalignment("right")
    if title:
        ax.set_title(title)
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
        Where to draw. A new figure is made when omitted.
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
    return _heatmap(
        matrix,
        query_words,
        key_words,
        ax=ax,
        annotate=annotate,
        cmap=cmap,
        title=title,
        cbar_label=cbar_label,
        vmin=vmin,
        vmax=vmax,
        xlabel=KEY_AXIS,
        ylabel=QUERY_AXIS,
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
    return _heatmap(
        matrix,
        words,
        words,
        ax=ax,
        annotate=annotate,
        cmap=cmap,
        title=title,
        cbar_label=cbar_label,
        vmin=vmin,
        vmax=vmax,
        xlabel="word",
        ylabel="word",
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
    if ax is None:
        _, ax = plt.subplots(
            figsize=(max(4.5, 0.55 * len(key_words) + 2), 3.2), layout="constrained"
        )
    positions = np.arange(len(key_words))
    bars = ax.bar(positions, row, color=BAR_COLOUR)
    bars[int(np.argmax(row))].set_color(TOP_BAR_COLOUR)  # the arg-max stands out
    ax.set_xticks(positions, key_words, rotation=45, ha="right")
    ax.set_ylim(0.0, 1.0)
    ax.set_ylabel(WEIGHT_LABEL)
    ax.set_xlabel(KEY_AXIS)
    if query_word is not None:
        ax.set_title(f"where {query_word!r} looks")
    return ax


def lecture_mode(enabled=True):
    """Make figures and fonts readable on a projector, or undo it.

    Changes matplotlib's global settings (bigger fonts, bigger figures, thicker lines) for
    the rest of the session. Call it once at the top of a notebook when teaching from it.

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
