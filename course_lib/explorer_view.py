"""The explorers' pictures as HTML: heatmaps, bars, tables, a status line; a saved PNG.

Pure functions, no widgets (this module imports without ipywidgets): each builds a string.
The live picture is HTML, not an image: each heatmap cell is a box coloured by
:func:`course_lib.plotting.cell_colours` with its number as real text, and the bars are boxes
whose heights are the weights. Sizes are in ``em``, so the picture keeps its proportions at
any page width or browser zoom, its text is the notebook's own text size (it follows
JupyterLab's ``--jp-content-font-size1``, 14 px elsewhere), and when the page is narrow the
pieces wrap below each other instead of being squeezed. Redrawing is building a string: no
figure, no PNG, a few milliseconds.

The saved picture (for GitHub and nbviewer, which run no kernel) is a matplotlib PNG, drawn
by :mod:`course_lib.explorer_png` with the same colours and labels. The widget that shows
these pictures is :class:`course_lib.explorer_base.Explorer`.
"""

from __future__ import annotations

import html

import numpy as np

from course_lib import plotting
from course_lib.explorer_a11y import A11Y_CSS, style_with_script

__all__ = [
    "STYLE",
    "attention_html",
    "bars_html",
    "heatmap_html",
    "narrow_style",
    "status_html",
    "table_html",
    "view_html",
    "weights_table_html",
]


# One style sheet, scoped by class names. It sits in a widget of its own, set once: a <style>
# inside every new picture would make the browser restyle the whole page at every redraw.
# Its load handler runs the explorers' accessibility script (course_lib.explorer_a11y).
CSS = """
.course-view {font-size: var(--jp-content-font-size1, 14px); line-height: 1.3;
  container-type: inline-size; width: 100%;
  color: var(--jp-content-font-color1, #111); display: flex; flex-wrap: wrap;
  gap: 1em 2.5em; align-items: flex-start; white-space: normal; max-width: 100%;}
.course-explorer-picture {display: flex; flex-wrap: wrap; gap: 1em 2.5em;
  align-items: flex-start; max-width: 100%; overflow-x: auto;}
.course-figure {display: grid; margin: 0; flex: none;}
.course-figure .course-title {grid-column: 1 / -1; text-align: center; font-weight: bold;
  padding-bottom: 0.3em;}
.course-figure .course-ylabel {writing-mode: vertical-rl; transform: rotate(180deg);
  text-align: center; padding-right: 0.3em;}
.course-figure .course-xlabel {text-align: center; padding-top: 0.2em;}
.course-figure .course-rowlabel {text-align: right; padding-right: 0.4em; white-space: nowrap;
  align-self: center;}
.course-figure .course-collabel {writing-mode: vertical-rl; transform: rotate(180deg);
  white-space: nowrap; justify-self: center; padding-bottom: 0.3em; text-align: right;}
.course-cells {display: grid;}
.course-cells > div {box-sizing: border-box; display: flex; align-items: center;
  justify-content: center; font-variant-numeric: tabular-nums; box-shadow: inset 0 0 0 1px #fff;}
.course-query-row {font-weight: bold;}
.course-colourbar {grid-column: 3 / -1; margin-top: 0.6em;}
.course-colourbar .course-strip {height: 0.9em;}
.course-colourbar .course-ticks {display: flex; justify-content: space-between;}
.course-bars {display: flex; align-items: flex-end; border-left: 1px solid #888;
  border-bottom: 1px solid #888;
  background: linear-gradient(to top, transparent calc(50% - 1px), #ddd 50%, transparent
  calc(50% + 1px));}
.course-bar-slot {display: flex; flex-direction: column; justify-content: flex-end;
  align-items: center; height: 100%;}
.course-bar-value {font-variant-numeric: tabular-nums;}
.course-yticks {display: flex; flex-direction: column; justify-content: space-between;
  text-align: right; padding-right: 0.3em;}
.course-numbers {border-collapse: collapse;}
.course-numbers td, .course-numbers th {padding: 0.1em 0.6em; text-align: left;}
.course-numbers th {border-bottom: 1px solid #888;}
.course-note {max-width: 36em;}
.course-explorer-numbers {max-width: 100%; min-width: 0;}
.course-table-scroll {max-width: 100%; overflow-x: auto;}
.course-numbers caption {text-align: left;}
"""

STYLE = style_with_script(CSS + A11Y_CSS)


def status_html(message):
    """Return the status line: empty when all is well, else the (escaped) message in a box."""
    if not message:
        return ""
    return (
        '<div style="border-left: 4px solid #d95f02; padding: 2px 8px; margin: 2px 0; '
        'font-size: var(--jp-content-font-size1, 14px); line-height: 1.4;">'
        f"{html.escape(message)}</div>"
    )


def _cell_size(n_rows, n_cols, numbers):
    """(width, height) of one cell in em: wide enough for "0.00" when numbers are written."""
    if numbers:
        return 3.2, 2.0
    side = 2.0 if max(n_rows, n_cols) <= 20 else 1.3
    return side, side


def colourbar_html(limits, label, width, row):
    """Build a horizontal colour bar: the colormap from limits[0] to limits[1], ticks, label.

    ``width`` is a CSS length (the cells' width); ``row`` the grid row it sits in.
    """
    low, high = limits
    stops = np.linspace(low, high, 11)
    gradient = ", ".join(plotting.hex_colour(c) for c in plotting.cell_colours(stops, limits))
    ticks = "".join(f"<span>{value:.2f}</span>" for value in np.linspace(low, high, 5))
    return (
        f'<div class="course-colourbar" style="width: {width}; grid-row: {row};">'
        f'<div class="course-strip" style="background: linear-gradient(to right, {gradient});">'
        f'</div><div class="course-ticks">{ticks}</div>'
        f'<div class="course-xlabel">{html.escape(label)}</div></div>'
    )


def narrow_style(root_class, below_em, cell_em, gap_em=1.2):
    """Return a style that shrinks the heatmaps of ``root_class`` when its view is narrow.

    When the view (``.course-view``, a CSS container) is narrower than ``below_em`` em, the
    heatmap cells become ``cell_em`` em squares, their printed numbers are hidden from sight
    (still in the page: screen readers and the cells' tooltips give them) and the gap
    between pictures narrows to ``gap_em``, so that pictures meant to be compared stay side
    by side at 150% zoom. Set it once per explorer, like ``STYLE``.
    """
    scope = f".{root_class} .course-view"
    return (
        f"<style>@container (max-width: {below_em:.2f}em) {{"
        f"{scope} .course-heatmap {{--course-cell-w: {cell_em}em; --course-cell-h: {cell_em}em;}}"
        f" {scope} .course-cells > div {{font-size: 0;}}"
        f" {scope} .course-explorer-picture {{column-gap: {gap_em}em;}}}}</style>"
    )


def heatmap_html(
    weights,
    row_labels,
    col_labels,
    *,
    limits=(0.0, 1.0),
    colour_label=plotting.WEIGHT_LABEL,
    title="",
    highlight_row=None,
    numbers=None,
    cell=None,
    axes=(plotting.QUERY_AXIS, plotting.KEY_AXIS),
):
    """One heatmap as HTML: rows = query words, columns = the words attended to.

    Parameters
    ----------
    weights : ndarray of shape (n_rows, n_cols)
    row_labels, col_labels : sequence of str
        Shown as text (escaped).
    limits : (float, float), default (0, 1)
        The colour range (see :func:`course_lib.plotting.colour_limits`).
    colour_label : str
        The colour bar's label.
    title : str
    highlight_row : int, optional
        This row's label is bold and marked with ▸ (the query word of the bars).
    numbers : bool, optional
        Write each weight in its cell; default when both sides have at most 10 entries.
    cell : (float, float), optional
        Width and height of one cell in em; default 3.2 by 2.0 with numbers, else squares.
    axes : (str, str), default ("query word", "attended-to word")
        What the rows and the columns are ("query", "key" for random vectors).

    Returns
    -------
    str
        HTML; the cells block is ``n_cols * w`` by ``n_rows * h`` em, whatever the page width.
        The drawing is hidden from assistive technology, which reads the same weights from
        a table that is not drawn (:func:`weights_table_html`): every number, at any size.
    """
    weights = np.asarray(weights, dtype=np.float64)
    n_rows, n_cols = weights.shape
    if numbers is None:
        numbers = max(n_rows, n_cols) <= plotting.ANNOTATE_MAX
    # sizes in em, through CSS variables that a narrowing style (narrow_style) can change
    width, height = cell or _cell_size(n_rows, n_cols, numbers)
    width, height = f"var(--course-cell-w, {width}em)", f"var(--course-cell-h, {height}em)"
    colours = plotting.cell_colours(weights, limits).reshape(-1, 4)  # (n_rows * n_cols, 4)
    text = plotting.text_colours(colours)
    parts = [
        f'<div class="course-figure course-heatmap" aria-hidden="true" data-rows="{n_rows}" '
        f'data-cols="{n_cols}" '
        f'style="grid-template-columns: auto auto repeat({n_cols}, {width}); '
        f'grid-template-rows: auto repeat({n_rows}, {height}) auto auto auto;">',
        f'<div class="course-title" style="grid-row: 1;">{html.escape(title)}</div>',
        f'<div class="course-ylabel" style="grid-row: 2 / span {n_rows}; grid-column: 1;">'
        f"{html.escape(axes[0])}</div>",
    ]
    for i in range(n_rows):
        mark = "▸ " if i == highlight_row else ""
        bold = " course-query-row" if i == highlight_row else ""
        parts.append(
            f'<div class="course-rowlabel{bold}" style="grid-row: {i + 2}; grid-column: 2;">'
            f"{mark}{html.escape(str(row_labels[i]))}</div>"
        )
    # the cells: an inner grid filled in row-major order; short markup (60 words = 3600 cells)
    parts.append(
        f'<div class="course-cells" style="grid-area: 2 / 3 / span {n_rows} / span {n_cols}; '
        f'grid-template-columns: repeat({n_cols}, {width}); grid-auto-rows: {height};">'
    )
    hexes = [plotting.hex_colour(colour) for colour in colours]
    for value, background, ink in zip(weights.ravel(), hexes, text, strict=True):
        if numbers:
            parts.append(
                f'<div style="background:{background};color:{ink}" title="{value:.2f}">'
                f"{value:.2f}</div>"
            )
        else:
            parts.append(f'<div style="background:{background}" title="{value:.2f}"></div>')
    parts.append("</div>")
    for j in range(n_cols):
        parts.append(
            f'<div class="course-collabel" style="grid-row: {n_rows + 2}; grid-column: {j + 3};">'
            f"{html.escape(str(col_labels[j]))}</div>"
        )
    parts.append(
        f'<div class="course-xlabel" style="grid-row: {n_rows + 3}; grid-column: 3 / -1;">'
        f"{html.escape(axes[1])}</div>"
    )
    parts.append(colourbar_html(limits, colour_label, f"calc({n_cols} * {width})", n_rows + 4))
    parts.append("</div>")
    parts.append(weights_table_html(weights, row_labels, col_labels, title=title, axes=axes))
    return "".join(parts)


def weights_table_html(
    weights, row_labels, col_labels, *, title="", axes=(plotting.QUERY_AXIS, plotting.KEY_AXIS)
):
    """Build a heatmap's weights as a table for screen readers (drawn nowhere on screen).

    Parameters
    ----------
    weights : ndarray of shape (n_rows, n_cols)
    row_labels, col_labels : sequence of str
        The query words (row headers) and the attended-to words (column headers).
    title : str
        The heatmap's title, which starts the caption.
    axes : (str, str)
        What the rows and the columns are.

    Returns
    -------
    str
        A ``<table>`` with a caption, ``th scope="col"`` and ``th scope="row"`` headers and
        every weight to two decimals, in a box that is not drawn (class ``course-sr-table``).

    Examples
    --------
    >>> table = weights_table_html([[0.25, 0.75]], ["eat"], ["eat", "steak"], title="t")
    >>> '<th scope="row">eat</th><td>0.25</td><td>0.75</td>' in table
    True
    """
    weights = np.asarray(weights, dtype=np.float64)
    esc = html.escape
    caption = (
        f"{title + '. ' if title else ''}Attention weights: one row per {axes[0]} "
        f"(the one looking), one column per {axes[1]}; each row sums to 1."
    )
    head = "".join(f'<th scope="col">{esc(str(label))}</th>' for label in col_labels)
    rows = [
        f'<tr><th scope="row">{esc(str(label))}</th>'
        + "".join(f"<td>{value:.2f}</td>" for value in row)
        + "</tr>"
        for label, row in zip(row_labels, weights, strict=True)
    ]
    return (
        f'<div class="course-sr-table"><table><caption>{esc(caption)}</caption>'
        f"<thead><tr><th>{esc(axes[0])}</th>{head}</tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table></div>"
    )


def bars_html(row, labels, *, title="", numbers=True):
    """One query's weights as bars on a fixed 0-to-1 axis; the largest bar stands out."""
    row = np.asarray(row, dtype=np.float64)
    width = 2.4 if numbers else 1.3
    top = int(np.argmax(row))
    slots = []
    for j, value in enumerate(row):
        colour = plotting.TOP_BAR_COLOUR if j == top else plotting.BAR_COLOUR
        shown = f'<span class="course-bar-value">{value:.2f}</span>' if numbers else ""
        slots.append(
            f'<div class="course-bar-slot" style="width: {width}em;">{shown}'
            f'<div style="width: 70%; height: {100 * min(max(value, 0.0), 1.0):.2f}%; '
            f'background: {colour};" title="{value:.3f}"></div></div>'
        )
    labels_html = "".join(
        f'<div style="width: {width}em; display: flex; justify-content: center;">'
        f'<div class="course-collabel">{html.escape(str(label))}</div></div>'
        for label in labels
    )
    return (
        '<div class="course-figure course-barchart" aria-hidden="true" '
        'style="grid-template-columns: auto auto auto; grid-template-rows: auto 11em auto auto;">'
        f'<div class="course-title">{html.escape(title)}</div>'
        f'<div class="course-ylabel">{plotting.WEIGHT_LABEL}</div>'
        '<div class="course-yticks"><span>1.0</span><span>0.5</span><span>0</span></div>'
        f'<div class="course-bars">{"".join(slots)}</div>'
        f'<div></div><div></div><div style="display: flex;">{labels_html}</div>'
        f'<div></div><div></div><div class="course-xlabel">{plotting.KEY_AXIS}</div>'
        "</div>"
    )


def table_html(header, rows, *, highlight=None, note="", caption=""):
    """Build a small numbers table, every cell escaped; ``highlight`` is a row index (bold).

    The header cells are column headers and each row's first cell its row header; the
    ``caption`` (for screen readers: it is not drawn) says what the table holds. A table
    wider than the page scrolls sideways in its own box.
    """
    esc = html.escape
    head = "".join(f'<th scope="col">{esc(str(cell))}</th>' for cell in header)
    body = []
    for i, (first, *rest) in enumerate(rows):
        style = ' class="course-query-row"' if i == highlight else ""
        cells = "".join(f"<td>{esc(str(cell))}</td>" for cell in rest)
        body.append(f'<tr{style}><th scope="row">{esc(str(first))}</th>{cells}</tr>')
    small = f'<div class="course-note">{esc(note)}</div>' if note else ""
    title = f'<caption class="course-sr-only">{esc(caption)}</caption>' if caption else ""
    return (
        f'<div class="course-explorer-numbers"><div class="course-table-scroll">'
        f'<table class="course-numbers">{title}<thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></div>{small}</div>"
    )


def view_html(pictures, numbers=""):
    """Build the whole live view: the pictures side by side (wrapping), then the numbers.

    Styled by ``STYLE``, which the page must hold once (``Explorer`` shows it).
    """
    return (
        f'<div class="course-view"><div class="course-explorer-picture">'
        f"{''.join(pictures)}</div>{numbers}</div>"
    )


def attention_html(weights, words, *, query_index, title, limits=(0.0, 1.0), colour_label=""):
    """Build the attention explorer's picture: heatmap, one query's row as bars, numbers.

    Parameters
    ----------
    weights : ndarray of shape (n, n)
        Attention weights, rows = query words (each row sums to 1).
    words : sequence of str
        The n words (escaped when shown).
    query_index : int
        The row drawn as bars and highlighted.
    title : str
        The heatmap's title.
    limits : (float, float), default (0, 1)
        The colour range.
    colour_label : str
        The colour bar's label.

    Returns
    -------
    str
        HTML: the heatmap and the bars side by side, then a table giving each word's
        entropy, its weight on itself and the word it looks at most besides itself.
    """
    from course_lib.attention import attention_entropy

    n, q = len(words), query_index
    heat = heatmap_html(
        weights, words, words, limits=limits, colour_label=colour_label, title=title,
        highlight_row=q,
    )  # fmt: skip
    bars = bars_html(weights[q], words, title=f"where {words[q]!r} looks")
    entropy = attention_entropy(weights)  # (n,)
    others = np.where(np.eye(n, dtype=bool), -1.0, weights)  # (n, n), itself left out
    rows = []
    for i, word in enumerate(words):
        j = int(np.argmax(others[i]))
        looks = [words[j], f"{weights[i, j]:.2f}"] if n > 1 else ["–", "–"]
        rows.append([word, f"{entropy[i]:.2f}", f"{weights[i, i]:.2f}", *looks])
    header = ["query", "entropy", "on itself", "looks most at (besides itself)", "weight"]
    note = f"Entropy in nats: 0 = all weight on one word, ln {n} = {np.log(n):.2f} = even."
    caption = "Each query word's entropy, its weight on itself, and the word it looks at most"
    numbers = table_html(header, rows, highlight=q, note=note, caption=caption + " besides itself")
    return view_html([heat, bars], numbers)
