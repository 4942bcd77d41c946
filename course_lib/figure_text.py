"""What a figure shows, in words and numbers: the text alternative and the tables of values.

:func:`describe_figure` writes one sentence about a figure from the figure itself: the kind
of each panel (heatmap, bar chart, line chart), its title, axis labels, row words and
colour-bar label. :func:`figure_tables` reads every number a panel plots, and
:func:`numbers_table` writes one such table as HTML (caption, row and column headers) and as
plain text. :func:`course_lib.figures.show_figure` puts all of it beside the picture.
"""

import html

import numpy as np

__all__ = ["describe_figure", "figure_tables", "numbers_table", "as_figure", "panels"]


def as_figure(figure):
    """Return the Figure of a Figure, an Axes, or a list or array of Axes."""
    from matplotlib.figure import Figure

    if isinstance(figure, Figure):
        return figure
    if isinstance(figure, (list, tuple, np.ndarray)):
        return np.ravel(figure)[0].figure  # the Axes of heatmap_grid or plt.subplots
    return figure.figure  # one Axes


def _colour_bars(fig):
    """Return {colour-bar Axes: its label} for every colour bar of the figure."""
    bars = {}
    for ax in fig.axes:
        for artist in ax.collections + ax.images:
            bar = getattr(artist, "colorbar", None)
            if bar is not None:
                bars[bar.ax] = bar.ax.get_ylabel() or bar.ax.get_xlabel()
    return bars


def panels(fig):
    """Return (kind, Axes) of each panel: "heatmap", "bar chart" or "line chart"."""
    bars = _colour_bars(fig)
    found = []
    for ax in fig.axes:
        if ax in bars or not ax.get_visible():
            continue
        if any(getattr(c, "colorbar", None) for c in ax.collections + ax.images):
            found.append(("heatmap", ax))
        elif ax.patches:
            found.append(("bar chart", ax))
        elif ax.lines or ax.collections:
            found.append(("line chart", ax))
    return found


def _labels(axis):
    return [t.get_text() for t in axis.get_ticklabels()]


def describe_figure(figure):
    """Return a one-sentence description of a figure from its titles, axes and colour bars.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from course_lib.plotting import plot_attention
    >>> ax = plot_attention(np.eye(2), ["eat", "steak"], title="Self")
    >>> print(describe_figure(ax))  # doctest: +NORMALIZE_WHITESPACE
    Heatmap 'Self' (rows: query word, 2: eat, steak; columns: attended-to word; colour:
    attention weight).
    """
    fig = as_figure(figure)
    bars, parts = _colour_bars(fig), []
    for kind, ax in panels(fig):
        title = f" {ax.get_title()!r}" if ax.get_title() else ""
        if kind == "heatmap":
            rows = _labels(ax.yaxis)
            artist = next(a for a in ax.collections + ax.images if getattr(a, "colorbar", None))
            detail = (
                f"rows: {ax.get_ylabel()}, {len(rows)}: {', '.join(rows)}; "
                f"columns: {ax.get_xlabel()}; colour: {bars[artist.colorbar.ax]}"
            )
        elif kind == "bar chart":
            detail = f"bars: {ax.get_xlabel()}, {', '.join(_labels(ax.xaxis))}; height: "
            detail += ax.get_ylabel()
        else:
            curves = [line.get_label() for line in ax.lines if not line.get_label()[:1] == "_"]
            scale = {"log": ", log scale"}
            detail = (
                f"x: {ax.get_xlabel()}{scale.get(ax.get_xscale(), '')}; "
                f"y: {ax.get_ylabel()}{scale.get(ax.get_yscale(), '')}; "
                f"curves: {', '.join(curves) or 'one, unlabelled'}"
            )
        parts.append(f"{kind}{title} ({detail})")
    if not parts:
        return "An empty figure."
    count = f"{len(parts)} panels: " if len(parts) > 1 else ""
    text = count + "; ".join(parts)
    return text[0].upper() + text[1:] + "."


def figure_tables(fig):
    """Return (caption, column labels, row labels, values) of the numbers of each panel."""
    tables = []
    for kind, ax in panels(fig):
        caption = ax.get_title() or kind
        if kind == "heatmap":
            rows, cols = _labels(ax.yaxis), _labels(ax.xaxis)
            artist = next(a for a in ax.collections + ax.images if getattr(a, "colorbar", None))
            values = np.ma.filled(np.ma.asarray(artist.get_array(), dtype=float), np.nan)
            tables.append((caption, cols, rows, values.reshape(len(rows), len(cols))))
        elif kind == "bar chart":
            heights = np.array([[p.get_height()] for p in ax.patches])
            tables.append((caption, [ax.get_ylabel()], _labels(ax.xaxis), heights))
        else:
            lines = [line for line in ax.lines if not line.get_label()[:1] == "_"] or ax.lines
            x = np.asarray(lines[0].get_xdata(), dtype=float) if lines else np.array([])
            if any(len(line.get_xdata()) != len(x) for line in lines):
                continue  # curves of different lengths: no common table
            values = np.column_stack([line.get_ydata() for line in lines]) if lines else x
            rows = [f"{v:.4g}" for v in x]
            tables.append((caption, [line.get_label() for line in lines], rows, values))
    return tables


def numbers_table(caption, columns, rows, values, *, corner=""):
    """Return a table of numbers as HTML (with headers and a caption) and as plain text.

    Parameters
    ----------
    caption : str
    columns, rows : sequence of str
        Column and row headers.
    values : array_like of shape (len(rows), len(columns))
    corner : str, optional
        The header above the row headers.

    Returns
    -------
    html : str
    text : str

    Examples
    --------
    >>> _, text = numbers_table("weights", ["eat", "steak"], ["eat"], [[0.25, 0.75]])
    >>> print(text)
    weights
          eat  steak
    eat  0.25   0.75
    """
    cells = np.asarray(values, dtype=float).reshape(len(rows), len(columns))
    shown = [["" if np.isnan(v) else f"{v:.3g}" for v in row] for row in cells]
    esc = html.escape
    head = "".join(f'<th scope="col">{esc(str(c))}</th>' for c in columns)
    body = "".join(
        f'<tr><th scope="row">{esc(str(r))}</th>' + "".join(f"<td>{v}</td>" for v in row) + "</tr>"
        for r, row in zip(rows, shown, strict=True)
    )
    table = (
        f"<table><caption>{esc(caption)}</caption><thead><tr><th>{esc(corner)}</th>{head}</tr>"
        f"</thead><tbody>{body}</tbody></table>"
    )
    grid = [[corner, *map(str, columns)]] + [
        [str(r), *row] for r, row in zip(rows, shown, strict=True)
    ]
    widths = [max(len(line[i]) for line in grid) for i in range(len(grid[0]))]
    lines = [
        "  ".join(
            c.ljust(w) if i == 0 else c.rjust(w)
            for i, (c, w) in enumerate(zip(line, widths, strict=True))
        )
        for line in grid
    ]
    return table, "\n".join([caption, *(line.rstrip() for line in lines)])
