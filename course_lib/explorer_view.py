"""The explorers' picture machinery: heatmaps and bars as HTML, a status line, a saved PNG.

The live picture is HTML, not an image: each heatmap cell is a box coloured by
:func:`course_lib.plotting.cell_colours` with its number as real text, and the bars are boxes
whose heights are the weights. Sizes are in ``em``, so the picture keeps its proportions at
any page width or browser zoom, its text is the notebook's own text size (it follows
JupyterLab's ``--jp-content-font-size1``, 14 px elsewhere), and when the page is narrow the
pieces wrap below each other instead of being squeezed. Redrawing is building a string: no
figure, no PNG, a few milliseconds.

The saved picture (for GitHub and nbviewer, which run no kernel) is a matplotlib PNG drawn by
:func:`course_lib.plotting.plot_attention` only when the notebook asks for the output, with
the same colours and labels (both come from :mod:`course_lib.plotting`).

:class:`Explorer` is the base of both explorers: the status line, the coalesced redraw (many
changes in a burst give one drawing, of the newest state) and the display bundle (the live
widget plus the PNG). Works with ipywidgets 7.7 (Colab) and 8.x.
"""

from __future__ import annotations

import asyncio
import base64
import html
import io
import sys

import ipywidgets as widgets
import numpy as np

from course_lib import plotting

__all__ = ["Explorer", "heatmap_html", "bars_html", "table_html", "shorten", "status_html"]

_WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
_IPYWIDGETS_7 = not hasattr(widgets.Widget, "_repr_mimebundle_")
PNG_DPI = 100

# One style sheet, scoped by class names. It sits in a widget of its own, set once: a <style>
# inside every new picture would make the browser restyle the whole page at every redraw.
STYLE = """<style>
.course-view {font-size: var(--jp-content-font-size1, 14px); line-height: 1.3;
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
</style>"""


def shorten(text, limit=40):
    """``text`` cut to ``limit`` characters, saying how long it was (for echoing input).

    Examples
    --------
    >>> shorten("steak")
    'steak'
    >>> shorten("x" * 100, limit=5)
    'xxxxx… (100 characters)'
    """
    text = str(text)
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text)} characters)"


def status_html(message):
    """The status line: empty when all is well, else the (escaped) message in a box."""
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


def colourbar_html(limits, label, width_em, row):
    """A horizontal colour bar: the colormap from limits[0] to limits[1], ticks, label."""
    low, high = limits
    stops = np.linspace(low, high, 11)
    gradient = ", ".join(plotting.hex_colour(c) for c in plotting.cell_colours(stops, limits))
    ticks = "".join(f"<span>{value:.2f}</span>" for value in np.linspace(low, high, 5))
    return (
        f'<div class="course-colourbar" style="width: {width_em:.2f}em; grid-row: {row};">'
        f'<div class="course-strip" style="background: linear-gradient(to right, {gradient});">'
        f'</div><div class="course-ticks">{ticks}</div>'
        f'<div class="course-xlabel">{html.escape(label)}</div></div>'
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

    Returns
    -------
    str
        HTML; the cells block is ``n_cols * w`` by ``n_rows * h`` em, whatever the page width.
    """
    weights = np.asarray(weights, dtype=np.float64)
    n_rows, n_cols = weights.shape
    if numbers is None:
        numbers = max(n_rows, n_cols) <= plotting.ANNOTATE_MAX
    width, height = _cell_size(n_rows, n_cols, numbers)
    colours = plotting.cell_colours(weights, limits).reshape(-1, 4)  # (n_rows * n_cols, 4)
    text = plotting.text_colours(colours)
    parts = [
        f'<div class="course-figure course-heatmap" data-rows="{n_rows}" data-cols="{n_cols}" '
        f'style="grid-template-columns: auto auto repeat({n_cols}, {width}em); '
        f'grid-template-rows: auto repeat({n_rows}, {height}em) auto auto auto;">',
        f'<div class="course-title" style="grid-row: 1;">{html.escape(title)}</div>',
        f'<div class="course-ylabel" style="grid-row: 2 / span {n_rows}; grid-column: 1;">'
        f"{plotting.QUERY_AXIS}</div>",
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
        f'grid-template-columns: repeat({n_cols}, {width}em); grid-auto-rows: {height}em;">'
    )
    hexes = [plotting.hex_colour(colour) for colour in colours]
    for value, background, ink in zip(weights.ravel(), hexes, text, strict=True):
        if numbers:
            parts.append(f'<div style="background:{background};color:{ink}">{value:.2f}</div>')
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
        f"{plotting.KEY_AXIS}</div>"
    )
    parts.append(colourbar_html(limits, colour_label, n_cols * width, row=n_rows + 4))
    parts.append("</div>")
    return "".join(parts)


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
        '<div class="course-figure course-barchart" '
        'style="grid-template-columns: auto auto auto; grid-template-rows: auto 11em auto auto;">'
        f'<div class="course-title">{html.escape(title)}</div>'
        f'<div class="course-ylabel">{plotting.WEIGHT_LABEL}</div>'
        '<div class="course-yticks"><span>1.0</span><span>0.5</span><span>0</span></div>'
        f'<div class="course-bars">{"".join(slots)}</div>'
        f'<div></div><div></div><div style="display: flex;">{labels_html}</div>'
        f'<div></div><div></div><div class="course-xlabel">{plotting.KEY_AXIS}</div>'
        "</div>"
    )


def table_html(header, rows, *, highlight=None, note=""):
    """A small numbers table; every cell is escaped. ``highlight`` is a row index (bold)."""
    head = "".join(f"<th>{html.escape(str(cell))}</th>" for cell in header)
    body = []
    for i, row in enumerate(rows):
        style = ' class="course-query-row"' if i == highlight else ""
        cells = "".join(f"<td>{html.escape(str(cell))}</td>" for cell in row)
        body.append(f"<tr{style}>{cells}</tr>")
    small = f'<div class="course-note">{html.escape(note)}</div>' if note else ""
    return (
        f'<div class="course-explorer-numbers"><table class="course-numbers"><thead><tr>{head}'
        f"</tr></thead><tbody>{''.join(body)}</tbody></table>{small}</div>"
    )


def view_html(pictures, numbers=""):
    """The whole live view: the pictures side by side (wrapping), then the numbers.

    Styled by ``STYLE``, which the page must hold once (``Explorer`` shows it).
    """
    return (
        f'<div class="course-view"><div class="course-explorer-picture">'
        f"{''.join(pictures)}</div>{numbers}</div>"
    )


def figure_png(draw, size):
    """PNG bytes of a matplotlib Figure (outside pyplot) that ``draw(fig)`` fills."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=size, dpi=PNG_DPI, layout="constrained")
    FigureCanvasAgg(fig)
    draw(fig)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=PNG_DPI)
    return buffer.getvalue()


def _running_loop():
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


class Explorer(widgets.VBox):
    """What both explorers share: status line, coalesced redraws, the display bundle.

    A subclass provides ``_view_html()`` (the live picture of its current state),
    ``_png_figure()`` (the saved picture) and ``_plain_text()``.

    Redraws are coalesced. Inside a running kernel (an asyncio loop is running while a
    message from the browser is handled) a change only records that the picture is stale and
    asks the loop to draw once it is free: a burst of slider messages gives one drawing, of
    the newest state, so a drag never builds a queue of stale pictures. Without a running
    loop (scripts, tests) the picture is drawn at once. The numbers (``.weights`` and the
    rest) are always updated at once; ``view_html`` and the display bundle draw any pending
    picture first.
    """

    draw_count = 0  # how many pictures were drawn (the benchmark and tests read it)

    def _setup_view(self, root_class):
        self.add_class(root_class)
        self._status = widgets.HTML().add_class("course-explorer-status")
        self._style = widgets.HTML(STYLE, layout=widgets.Layout(display="none"))
        self._view = widgets.HTML(layout=widgets.Layout(width="100%")).add_class(
            "course-explorer-view"
        )
        self._stale = False
        self._draw_scheduled = None  # the event loop that will draw, if one will
        self._png_cache = (None, b"")
        self.status = ""

    # -- status ------------------------------------------------------------------------------

    def _set_status(self, message):
        self.status = message
        self._status.value = status_html(message)

    # -- drawing -----------------------------------------------------------------------------

    def _request_draw(self):
        self._stale = True
        loop = _running_loop()
        if loop is None:
            self._draw_now()
        elif self._draw_scheduled is not loop:  # one pending drawing per loop at most
            self._draw_scheduled = loop
            loop.call_soon(self._draw_now)

    def _draw_now(self):
        self._draw_scheduled = None
        if not self._stale:
            return
        self._stale = False
        try:
            picture = self._view_html()
        except Exception as err:  # noqa: BLE001 - any failure becomes a message
            self._set_status(f"Could not draw this view ({type(err).__name__}: {shorten(err)}).")
            return
        self._view.value = picture
        self.draw_count += 1

    @property
    def view_html(self):
        """The live picture's HTML as it is now (draws first if a redraw is pending)."""
        self._draw_now()
        return self._view.value

    # -- the static picture and the display bundle -------------------------------------------

    @property
    def png(self):
        """The current view drawn by matplotlib, as PNG bytes (what the saved notebook shows).

        Drawn on request and kept until the state changes.
        """
        key = self._png_key()
        if self._png_cache[0] != key:
            self._png_cache = (key, self._png_figure())
        return self._png_cache[1]

    def _plain_text(self):
        return f"<{type(self).__name__}>"

    def _repr_mimebundle_(self, **kwargs):
        """The widget view, plus an image/png of the current view for kernel-less viewers.

        JupyterLab and Notebook draw the live widget (their widget renderer ranks first);
        nbconvert/nbviewer drop the widget mimetype when no widget state was saved and fall
        back to the PNG, and GitHub shows the PNG. Inside Colab the PNG is left out: Colab
        notebooks are not the ones committed with outputs, and the live widget must win there.
        """
        self._draw_now()
        data = {"text/plain": self._plain_text()}
        if self._view_name is not None:
            data[_WIDGET_VIEW] = {"version_major": 2, "version_minor": 0, "model_id": self.model_id}
        if "google.colab" not in sys.modules:
            try:
                data["image/png"] = base64.b64encode(self.png).decode("ascii")
            except Exception:  # noqa: BLE001 - the live widget still shows; say why in text
                data["text/plain"] += " (no static picture could be drawn)"
        handle_displayed = getattr(self, "_handle_displayed", None)  # ipywidgets 7 only
        if handle_displayed is not None and self._view_name is not None:
            handle_displayed(**kwargs)
        return data

    if _IPYWIDGETS_7:  # ipywidgets 7 displays through _ipython_display_, which wins over repr

        def _ipython_display_(self, **kwargs):
            from IPython.display import display

            display(self._repr_mimebundle_(**kwargs), raw=True)
