"""Interactive explorers: type a sentence, drag the scaling, watch attention move.

Two explorers, one pattern. Each is an ``ipywidgets.VBox`` subclass that keeps its controls
in ``.controls`` (a dict by name) and its current numbers as attributes, so a test can set
``explorer.controls["scale"].value = 2.0`` and read ``explorer.weights`` without a browser.

- :func:`attention_explorer`: self-attention of one sentence's word vectors (Q = K = V).
- :func:`dk_explorer`: random unit-variance queries and keys; why Transformers divide by
  sqrt(d_k).

There is no maths here: the numbers come from :mod:`course_lib.attention`, the word vectors
from :mod:`course_lib.embeddings`, the figures from :mod:`course_lib.plotting`.

The figure is one PNG in an ``ipywidgets.Image`` that is replaced in place on every change
(no figures pile up under the widget). When the notebook is saved, the same PNG goes into
the output next to the widget, so GitHub and nbviewer (no kernel) show the last view as an
image instead of a dead control. Works with ipywidgets 7.7 (Colab) and 8.x.
"""

from __future__ import annotations

import base64
import html
import io
import math
import sys
import time

import ipywidgets as widgets
import numpy as np

__all__ = ["AttentionExplorer", "DkExplorer", "attention_explorer", "dk_explorer"]

DEFAULT_SENTENCE = "I drink coke, but eat steak"
MAX_WORDS = 60  # more rows than this make an unreadable heatmap and a slow redraw
DPI = 80  # figures in widgets: small PNGs, quick to draw and to send

_WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
_TABLE = (
    "<style>.course-explorer-table td, .course-explorer-table th "
    "{padding: 1px 8px; text-align: left;}</style>"
    '<table class="course-explorer-table" style="border-collapse: collapse; font-size: 90%;">'
)
_IPYWIDGETS_7 = not hasattr(widgets.Widget, "_repr_mimebundle_")


def _figure(width, height):
    """A matplotlib Figure outside pyplot: never shown by the inline backend on its own.

    No layout engine: the explorers place their axes in inches (see ``_label_inches``), which
    saves the extra text-measuring pass that constrained layout costs on every redraw.
    """
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=DPI)


def _label_inches(labels, rcparam="xtick.labelsize"):
    """Rough width in inches of the longest tick label (rotated 45 degrees: ~0.75 of it)."""
    import matplotlib
    from matplotlib.font_manager import FontProperties

    points = FontProperties(size=matplotlib.rcParams[rcparam]).get_size_in_points()
    longest = max((len(str(label)) for label in labels), default=1)
    return 0.58 * points * longest / 72.0


def _font_inches(rcparam="axes.labelsize"):
    import matplotlib
    from matplotlib.font_manager import FontProperties

    return FontProperties(size=matplotlib.rcParams[rcparam]).get_size_in_points() / 72.0


def _place(fig, left, bottom, width, height):
    """Add an Axes at a position given in inches from the figure's bottom-left corner."""
    fig_width, fig_height = fig.get_size_inches()
    return fig.add_axes(
        (left / fig_width, bottom / fig_height, width / fig_width, height / fig_height)
    )


def _png_bytes(fig):
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    if not isinstance(fig.canvas, FigureCanvasAgg):
        FigureCanvasAgg(fig)  # attach once; savefig then reuses its renderer
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, pil_kwargs={"compress_level": 1})
    return buffer.getvalue()


def _blit_png(figure, what):
    """PNG of a kept figure where only the artists ``figure["changing"](what)`` changed.

    The first call for ``what`` draws everything else once and keeps that picture (the
    background); each call then restores it and draws only the changing artists on top: the
    labels and tick labels, much of the text and so much of the drawing time, are not drawn
    again.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from PIL import Image

    fig = figure["fig"]
    canvas = fig.canvas if isinstance(fig.canvas, FigureCanvasAgg) else FigureCanvasAgg(fig)
    changing = figure["changing"](what)
    if what not in figure["backgrounds"]:
        visible = [artist.get_visible() for artist in changing]
        for artist in changing:
            artist.set_visible(False)  # left out of the background
        try:
            canvas.draw()
        finally:
            for artist, was_visible in zip(changing, visible, strict=True):
                artist.set_visible(was_visible)
        figure["backgrounds"][what] = canvas.copy_from_bbox(fig.bbox)
    canvas.restore_region(figure["backgrounds"][what])
    for artist in changing:
        fig.draw_artist(artist)
    image = Image.frombuffer("RGBA", canvas.get_width_height(), canvas.buffer_rgba(), "raw")
    buffer = io.BytesIO()
    image.save(buffer, format="png", compress_level=1)
    return buffer.getvalue()


def _axes_title(fig, ax, text):
    """A title above ``ax`` that can be redrawn on its own.

    ``ax.set_title`` places its text during a full draw of the Axes, so on some matplotlib
    versions (3.10) a title redrawn alone over a cached background lands out of view. This
    Text has a fixed place: centred, 6 points above the Axes.
    """
    import matplotlib
    from matplotlib.text import Text
    from matplotlib.transforms import offset_copy

    place = offset_copy(ax.transAxes, fig=fig, y=6, units="points")
    title = Text(
        0.5,
        1.0,
        text,
        transform=place,
        ha="center",
        va="baseline",
        fontsize=matplotlib.rcParams["axes.titlesize"],
    )
    return fig.add_artist(title)


def _font_key():
    """The rcParams that change text sizes (lecture_mode): a change means a new layout."""
    import matplotlib

    keys = ("font.size", "axes.titlesize", "axes.labelsize", "xtick.labelsize", "ytick.labelsize")
    return tuple(str(matplotlib.rcParams[key]) for key in keys)


def _status_html(message):
    if not message:
        return ""
    return (
        '<div style="border-left: 4px solid #d95f02; padding: 2px 8px; margin: 2px 0;">'
        f"{html.escape(message)}</div>"
    )


class _Explorer(widgets.VBox):
    """Shared display logic: the widget plus a static PNG of the current view."""

    _png = b""

    @property
    def png(self):
        """The figure now shown, as PNG bytes (also saved with the notebook's output)."""
        return self._png

    def _plain_text(self):
        return f"<{type(self).__name__}>"

    def _repr_mimebundle_(self, **kwargs):
        """The widget view, plus an image/png of the current view for kernel-less viewers.

        JupyterLab and Notebook draw the live widget (their widget renderer ranks first);
        nbconvert/nbviewer drop the widget mimetype when no widget state was saved and fall
        back to the PNG, and GitHub shows the PNG. Inside Colab the PNG is left out: Colab
        notebooks are not the ones committed with outputs, and the live widget must win there.
        """
        data = {"text/plain": self._plain_text()}
        if self._view_name is not None:
            data[_WIDGET_VIEW] = {"version_major": 2, "version_minor": 0, "model_id": self.model_id}
        if self._png and "google.colab" not in sys.modules:
            data["image/png"] = base64.b64encode(self._png).decode("ascii")
        handle_displayed = getattr(self, "_handle_displayed", None)  # ipywidgets 7 only
        if handle_displayed is not None and self._view_name is not None:
            handle_displayed(**kwargs)
        return data

    if _IPYWIDGETS_7:  # ipywidgets 7 displays through _ipython_display_, which wins over repr

        def _ipython_display_(self, **kwargs):
            from IPython.display import display

            display(self._repr_mimebundle_(**kwargs), raw=True)

    def _show_png(self, png):
        self._png = png
        self._image.value = png


class AttentionExplorer(_Explorer):
    """Self-attention of a sentence's word vectors, with the scaling on a slider.

    Build it with :func:`attention_explorer`. Queries, keys and values are the word vectors
    themselves (no learned projections yet), and the scores are divided by the slider value.

    Attributes
    ----------
    controls : dict
        ``"sentence"`` (Text, updates on Enter or when focus leaves), ``"scale"`` (FloatSlider:
        the number the scores are divided by), ``"query"`` (Dropdown: whose row is drawn as
        bars), and ``"source"`` (Dropdown) when more than one embedding source is available.
    words : list of str
        The words shown (those found in the vocabulary, in order).
    missing : list of str
        Words of the sentence not found in the vocabulary (listed in ``status``).
    weights : ndarray of shape (len(words), len(words))
        The attention weights now shown; row i is where word i looks.
    entropy : ndarray of shape (len(words),)
        Entropy of each row in nats (0 = all on one word, ln n = uniform).
    status : str
        The message now shown ("" when all is well). On bad input the message says what is
        wrong and everything else keeps the last good view.
    d_k : int
        The dimension of the word vectors.
    last_redraw_seconds : float
        Wall time of the last recompute and redraw (for the benchmark).
    """

    def __init__(self, sentence=DEFAULT_SENTENCE, *, embeddings=None, max_words=MAX_WORDS):
        from course_lib import embeddings as emb

        super().__init__()
        self._emb = emb
        self.max_words = max_words
        self.words, self.missing, self.tokens = [], [], []
        self.vectors = np.zeros((0, 0))
        self.weights = np.zeros((0, 0))
        self.entropy = np.zeros(0)
        self.status = ""
        self.last_redraw_seconds = float("nan")
        self._busy = False
        self._figure_parts = None  # the figure kept for in-place updates

        if embeddings is None or isinstance(embeddings, str):
            self._source = embeddings or "bundled"
            self._kv = emb.load_embeddings(self._source)
            sources = emb.available_sources()
        else:  # a KeyedVectors object given by the caller: no source choice
            self._source, self._kv, sources = None, embeddings, []
        self.d_k = int(self._kv.vector_size)

        wide = {"description_width": "initial"}
        self.controls = {
            "sentence": widgets.Text(
                value=sentence,
                description="Sentence:",
                placeholder="type a sentence, then press Enter",
                continuous_update=False,
                layout=widgets.Layout(width="min(100%, 640px)"),
                style=wide,
            ),
            "scale": widgets.FloatSlider(
                value=math.sqrt(self.d_k),
                min=1.0,
                max=self._slider_max(),
                step=0.05,
                description="divide scores by",
                readout=True,
                readout_format=".2f",
                continuous_update=False,
                layout=widgets.Layout(width="min(100%, 520px)"),
                style=wide,
            ),
            "query": widgets.Dropdown(description="query word:", options=[], style=wide),
        }
        if len(sources) > 1:
            self.controls["source"] = widgets.Dropdown(
                options=sources, value=self._source, description="vectors:", style=wide
            )
        self._sqrt_button = widgets.Button(tooltip="Transformers divide the scores by √d_k")
        self._sqrt_note = widgets.HTML()
        self._status = widgets.HTML().add_class("course-explorer-status")
        self._words_line = widgets.HTML().add_class("course-explorer-words")
        self._image = widgets.Image(format="png").add_class("course-explorer-image")
        self._numbers = widgets.HTML(
            layout=widgets.Layout(max_height="420px", overflow="auto")
        ).add_class("course-explorer-numbers")
        self._label_sqrt()

        top = [self.controls["sentence"]]
        if "source" in self.controls:
            top.append(self.controls["source"])
        self.children = [
            widgets.HBox(top),
            widgets.HBox([self.controls["scale"], self._sqrt_button]),
            self._sqrt_note,
            self.controls["query"],
            self._status,
            self._words_line,
            widgets.HBox([self._image, self._numbers]),
        ]

        self.controls["sentence"].observe(self._on_sentence, names="value")
        self.controls["scale"].observe(self._on_scale, names="value")
        self.controls["query"].observe(self._on_query, names="value")
        if "source" in self.controls:
            self.controls["source"].observe(self._on_source, names="value")
        self._sqrt_button.on_click(self._use_sqrt_dk)

        self._set_sentence(sentence)

    # -- state ---------------------------------------------------------------------------

    @property
    def divisor(self):
        """The number the scores are divided by (the "scale" slider)."""
        return float(self.controls["scale"].value)

    @property
    def query_index(self):
        """Index of the word whose row is drawn as bars (None when no words yet)."""
        return self.controls["query"].value

    def _slider_max(self):
        return round(3 * math.sqrt(self.d_k), 1)

    def _label_sqrt(self):
        root = math.sqrt(self.d_k)
        self._sqrt_button.description = f"use √d_k = {root:.2f}"
        self._sqrt_note.value = (
            f"<small>1 = plain dot product. <b>√d_k = {root:.2f}</b> (d_k = {self.d_k}) is the "
            "Transformer's choice. Larger divisors flatten the attention, smaller ones sharpen "
            "it.</small>"
        )

    def _set_status(self, message):
        self.status = message
        self._status.value = _status_html(message)

    def _reject(self, message):
        """Bad input: say so, keep the last good view (and the text the student typed)."""
        if self.words:
            message += " The view below is still the last sentence that worked."
        self._set_status(message)

    def _set_sentence(self, sentence):
        text = sentence or ""
        if not text.strip():
            self._reject("The sentence box is empty: type a sentence and press Enter.")
            return
        tokens = self._emb.tokenize(text)
        if not tokens:
            self._reject("No words found: type some words, not only punctuation.")
            return
        if len(tokens) > self.max_words:
            self._reject(
                f"That is {len(tokens)} words; the explorer shows at most {self.max_words}. "
                "Please shorten the sentence."
            )
            return
        try:
            sentence_embedding = self._emb.embed_sentence(text, self._kv)
        except ValueError as err:
            self._reject(f"No word of this sentence can be used: {err}")
            return

        previous = self._query_word()
        self.words = list(sentence_embedding.words)
        self.missing = list(sentence_embedding.missing)
        self.tokens = list(sentence_embedding.tokens)
        self.vectors = sentence_embedding.vectors
        if self.missing:
            listed = ", ".join(repr(w) for w in self.missing)
            self._set_status(f"Not in the vocabulary, so not shown: {listed}.")
        else:
            self._set_status("")
        self._words_line.value = "<b>words:</b> " + " · ".join(html.escape(w) for w in self.words)

        query = self.words.index(previous) if previous in self.words else len(self.words) - 1
        self._busy = True
        try:
            self.controls["query"].options = self._query_options()
            self.controls["query"].value = query
        finally:
            self._busy = False
        self._recompute()

    def _query_options(self):
        labels = []
        for i, word in enumerate(self.words):
            repeated = self.words.count(word) > 1
            labels.append((f"{word} (word {i + 1})" if repeated else word, i))
        return labels

    def _query_word(self):
        index = self.query_index
        if index is None or not self.words or index >= len(self.words):
            return None
        return self.words[index]

    def _recompute(self):
        from course_lib.attention import attention_entropy, scaled_dot_product_attention

        if not self.words:
            return
        start = time.perf_counter()
        # Q = K = V = the word vectors; scores are multiplied by 1/divisor.
        _, weights = scaled_dot_product_attention(
            self.vectors, self.vectors, self.vectors, scale=1.0 / self.divisor
        )  # (n, n)
        self.weights = weights
        self.entropy = attention_entropy(weights)  # (n,)
        self._redraw()
        self.last_redraw_seconds = time.perf_counter() - start

    def _redraw(self):
        self._numbers.value = self._numbers_html()
        try:
            png = self._render_png()
        except ValueError as err:  # e.g. a label matplotlib cannot typeset
            self._figure_parts = None  # start the next drawing from a new figure
            self._set_status(f"Could not draw this view: {err}")
            return
        self._show_png(png)

    def _render_png(self, fresh=False):
        """Draw the view as PNG bytes.

        A new sentence (or new font sizes) builds a new figure. A new divisor only updates the
        heatmap's colours, numbers and title and the bars' heights in place, then redraws just
        those over a cached picture of the rest (labels and ticks do not change). A new query
        word redraws the bars' axes. ``fresh=True`` forces a full rebuild; the tests check
        that every path gives the same pixels.
        """
        from course_lib.plotting import plot_attention_row

        figure = self._figure_parts
        reuse = (
            not fresh
            and figure is not None
            and figure["words"] == self.words
            and figure["fonts"] == _font_key()
        )
        new_figure = not (reuse and self._update_heatmap(figure["heat_ax"]))
        if new_figure:
            figure = self._figure_parts = self._build_figure()
        elif figure["query"] == self.query_index and self._update_bars(figure["bar_ax"]):
            return _blit_png(figure, "scale")
        else:
            figure["bar_ax"].cla()
        figure["backgrounds"].pop("scale", None)  # it holds the old bars' title and ticks
        query = figure["query"] = self.query_index
        plot_attention_row(
            self.weights[query], self.words, query_word=self.words[query], ax=figure["bar_ax"]
        )
        return _png_bytes(figure["fig"]) if new_figure else _blit_png(figure, "query")

    def _changing_artists(self, figure, what):
        """The artists a new divisor (``what="scale"``) or a new query word changes.

        In drawing order; everything else is in the cached background. A new divisor changes
        the heatmap's colours, numbers, title and colour bar and the bars' heights; a new
        query word changes the whole bar chart (title, colours, heights).
        """
        heat_ax, bar_ax = figure["heat_ax"], figure["bar_ax"]
        mesh = heat_ax.collections[0]
        ticks = heat_ax.xaxis.get_major_ticks() + heat_ax.yaxis.get_major_ticks()
        # tick marks touch the mesh's edge pixels, and are drawn after it
        parts = [mesh, *(tick.tick1line for tick in ticks), *heat_ax.texts, figure["title"]]
        if getattr(mesh, "colorbar", None) is not None:
            parts.append(mesh.colorbar.ax)  # its range follows the largest weight
        if what == "scale":
            return [*parts, *bar_ax.patches, *bar_ax.spines.values()]
        return [*parts, bar_ax]

    def _heatmap_title(self):
        return f"scores divided by {self.divisor:.2f}"

    def _build_figure(self):
        from course_lib.plotting import plot_attention

        n = len(self.words)
        text = _font_inches()  # one line of axis-label text
        ticks_x = 0.75 * _label_inches(self.words) + 0.1  # x labels are rotated 45 degrees
        ticks_y = _label_inches(self.words, "ytick.labelsize") + 0.1
        side = min(max(2.6, 0.34 * n), 9.0)  # the heatmap's square
        bars = min(max(2.6, 0.2 * n), 7.0)
        left, bottom, top = ticks_y + 2 * text, ticks_x + 2.2 * text, 2.4 * text
        colorbar = 0.35 * side + 3 * text  # seaborn takes its colour bar from the heatmap's box
        gap = 3.6 * text + 0.4
        width = left + side + colorbar + gap + bars + 0.2
        height = bottom + side + top
        fig = _figure(width, height)
        heat_ax = _place(fig, left, bottom, side + colorbar, side)
        bar_ax = _place(fig, left + side + colorbar + gap, bottom, bars, side)
        plot_attention(self.weights, self.words, ax=heat_ax)
        parts = {
            "fig": fig,
            "title": _axes_title(fig, heat_ax, self._heatmap_title()),
            "heat_ax": heat_ax,
            "bar_ax": bar_ax,
            "words": list(self.words),
            "fonts": _font_key(),
            "query": None,
            "backgrounds": {},  # "scale" / "query": the picture without what those change
            "changing": lambda what: self._changing_artists(parts, what),
        }
        return parts

    def _update_bars(self, bar_ax):
        """New heights for the same query's bars, keeping plot_attention_row's two colours."""
        bars = bar_ax.patches
        row = self.weights[self.query_index]
        if len(bars) != len(row):
            return False
        heights = [bar.get_height() for bar in bars]
        old_top, new_top = int(np.argmax(heights)), int(np.argmax(row))
        if old_top != new_top:  # the highlighted bar moves: swap the two bars' colours
            top_colour = bars[old_top].get_facecolor()
            bars[old_top].set_color(bars[new_top].get_facecolor())
            bars[new_top].set_color(top_colour)
        for bar, height in zip(bars, row, strict=True):
            bar.set_height(height)
        return True

    def _update_heatmap(self, heat_ax):
        """Put the current weights into the existing heatmap; False if its shape is unknown.

        Mirrors what ``plot_attention`` draws with its defaults (seaborn's heatmap: colour
        range 0 to the largest weight, two-decimal labels, dark text on light cells).
        """
        n = len(self.words)
        if len(heat_ax.collections) != 1 or len(heat_ax.texts) not in (0, n * n):
            return False
        mesh = heat_ax.collections[0]
        if np.size(mesh.get_array()) != n * n:
            return False
        mesh.set_array(self.weights)  # (n, n)
        mesh.set_clim(0.0, float(self.weights.max()))
        if heat_ax.texts:
            from seaborn.utils import relative_luminance

            colours = mesh.cmap(mesh.norm(self.weights.ravel()))  # (n * n, 4)
            for label, value, colour in zip(
                heat_ax.texts, self.weights.ravel(), colours, strict=True
            ):
                label.set_text(f"{value:.2f}")
                label.set_color(".15" if relative_luminance(colour) > 0.408 else "w")
        self._figure_parts["title"].set_text(self._heatmap_title())
        return True

    def _numbers_html(self):
        n = len(self.words)
        rows = []
        query = self.query_index
        for i, word in enumerate(self.words):
            top = int(np.argmax(self.weights[i]))
            style = ' style="font-weight: bold;"' if i == query else ""
            rows.append(
                f"<tr{style}><td>{html.escape(word)}</td><td>{self.entropy[i]:.2f}</td>"
                f"<td>{self.weights[i, top]:.2f}</td><td>{html.escape(self.words[top])}</td></tr>"
            )
        uniform = f"{math.log(n):.2f}" if n else "-"
        return (
            _TABLE
            + "<thead><tr><th>query</th><th>entropy</th><th>max weight</th><th>looks most at</th>"
            "</tr></thead><tbody>" + "".join(rows) + "</tbody></table>"
            f"<small>entropy in nats: 0 = all weight on one word, "
            f"ln {n} = {uniform} = spread evenly.</small>"
        )

    def _plain_text(self):
        return (
            f"AttentionExplorer(words={self.words!r}, divided by {self.divisor:.2f}; "
            "run the notebook to interact)"
        )

    # -- events --------------------------------------------------------------------------

    def _on_sentence(self, change):
        self._set_sentence(change["new"])

    def _on_scale(self, change):
        if not self._busy and self.words:
            self._recompute()

    def _on_query(self, change):
        if self._busy or change["new"] is None or not self.words:
            return
        self._redraw()

    def _on_source(self, change):
        if self._busy:
            return
        text = self.controls["sentence"].value
        try:
            kv = self._emb.load_embeddings(change["new"])
            self._emb.embed_sentence(text, kv)  # does the sentence work with these vectors?
        except (FileNotFoundError, ValueError) as err:
            self._busy = True
            try:
                self.controls["source"].value = change["old"]
            finally:
                self._busy = False
            self._reject(f"Could not switch to {change['new']!r}: {err}")
            return
        self._kv, self._source = kv, change["new"]
        self.d_k = int(kv.vector_size)
        scale = self.controls["scale"]
        self._busy = True  # one redraw below, not one per trait
        try:
            scale.max = max(self._slider_max(), scale.min)
            scale.value = math.sqrt(self.d_k)  # new d_k: start from the Transformer's choice
        finally:
            self._busy = False
        self._label_sqrt()
        self.words = []  # the old vectors belong to the old source
        self._set_sentence(text)

    def _use_sqrt_dk(self, _button=None):
        self.controls["scale"].value = math.sqrt(self.d_k)


class DkExplorer(_Explorer):
    """Why divide by sqrt(d_k): random queries and keys, scaled and unscaled side by side.

    Build it with :func:`dk_explorer`. Queries and keys have independent standard-normal
    entries (mean 0, variance 1), drawn from ``np.random.default_rng(seed)``, so a score
    q . k is a sum of d_k unit-variance terms: its spread grows like sqrt(d_k). Dividing by
    sqrt(d_k) brings the spread back to about 1 and keeps the softmax from saturating.

    Attributes
    ----------
    controls : dict
        ``"d_k"`` (IntSlider) and ``"seq_len"`` (IntSlider).
    d_k, seq_len : int
        The current values.
    score_std, scaled_score_std : float
        Standard deviation of the raw scores and of the scores divided by sqrt(d_k).
    entropy_unscaled, entropy_scaled : float
        Mean softmax entropy of a row, in nats, without and with the scaling
        (``max_entropy`` = ln(seq_len) means uniform).
    max_weight_unscaled, max_weight_scaled : float
        Mean of each row's largest weight (1 means all attention on one key).
    weights_unscaled, weights_scaled : ndarray of shape (seq_len, seq_len)
        The weights of the first sample, drawn side by side.
    status : str
        The message now shown ("" when all is well).
    """

    def __init__(self, d_k=64, *, seq_len=10, seed=0, max_d_k=512, max_seq_len=64):
        super().__init__()
        self.seed = seed
        self.status = ""
        self.last_redraw_seconds = float("nan")
        self.controls = {
            "d_k": widgets.IntSlider(
                value=d_k,
                min=1,
                max=max_d_k,
                description="d_k",
                continuous_update=False,
                layout=widgets.Layout(width="min(100%, 520px)"),
            ),
            "seq_len": widgets.IntSlider(
                value=seq_len,
                min=2,
                max=max_seq_len,
                description="seq_len",
                continuous_update=False,
                layout=widgets.Layout(width="min(100%, 520px)"),
            ),
        }
        self._status = widgets.HTML().add_class("course-explorer-status")
        self._image = widgets.Image(format="png").add_class("course-explorer-image")
        self._numbers = widgets.HTML().add_class("course-explorer-numbers")
        self.children = [
            self.controls["d_k"],
            self.controls["seq_len"],
            self._status,
            self._numbers,
            self._image,
        ]
        for control in self.controls.values():
            control.observe(self._on_change, names="value")
        self._recompute()

    @property
    def d_k(self):
        return int(self.controls["d_k"].value)

    @property
    def seq_len(self):
        return int(self.controls["seq_len"].value)

    def _samples(self):
        # enough independent (query, key) pairs for a steady estimate of the spread
        return max(8, math.ceil(4096 / self.seq_len**2))

    def _recompute(self):
        from course_lib.attention import (
            attention_entropy,
            dot_product_attention,
            scaled_dot_product_attention,
        )

        start = time.perf_counter()
        d_k, seq_len = self.d_k, self.seq_len
        rng = np.random.default_rng(self.seed)
        shape = (self._samples(), seq_len, d_k)
        queries = rng.standard_normal(shape)  # (samples, seq_len, d_k)
        keys = rng.standard_normal(shape)  # (samples, seq_len, d_k)
        root = math.sqrt(d_k)

        # the raw scores, only to measure their spread; attention itself comes from the library
        scores = queries @ np.swapaxes(keys, -1, -2)  # (samples, seq_q, seq_k)
        self.scores = scores
        self.score_std = float(scores.std())
        self.scaled_score_std = float((scores / root).std())

        _, unscaled = dot_product_attention(queries, keys, keys)  # (samples, seq_q, seq_k)
        _, scaled = scaled_dot_product_attention(queries, keys, keys)  # (samples, seq_q, seq_k)
        self.entropy_unscaled = float(attention_entropy(unscaled).mean())
        self.entropy_scaled = float(attention_entropy(scaled).mean())
        self.max_entropy = math.log(seq_len)
        self.max_weight_unscaled = float(unscaled.max(axis=-1).mean())
        self.max_weight_scaled = float(scaled.max(axis=-1).mean())
        self.weights_unscaled, self.weights_scaled = unscaled[0], scaled[0]

        self._numbers.value = self._numbers_html()
        try:
            png = self._render_png()
        except ValueError as err:
            self.status = f"Could not draw this view: {err}"
        else:
            self.status = ""
            self._show_png(png)
        self._status.value = _status_html(self.status)
        self.last_redraw_seconds = time.perf_counter() - start

    def _render_png(self):
        from course_lib.plotting import plot_attention

        every = max(1, self.seq_len // 16)  # label at most ~16 rows and columns
        query_labels = [f"q{i + 1}" if i % every == 0 else "" for i in range(self.seq_len)]
        key_labels = [f"k{i + 1}" if i % every == 0 else "" for i in range(self.seq_len)]
        text = _font_inches()
        side = min(max(2.8, 0.2 * self.seq_len), 6.0)  # each heatmap's square
        hist_left = _label_inches(["0.000"], "ytick.labelsize") + 2 * text
        heat_left = _label_inches(query_labels, "ytick.labelsize") + 2.2 * text + 0.3
        colorbar = 0.35 * side + 3 * text
        # the colour bar's tick labels and its label stand outside the heatmap's box
        colorbar_text = _label_inches(["0.0"], "ytick.labelsize") + 2 * text + 0.1
        bottom = 0.75 * _label_inches(key_labels) + 3.2 * text
        panel = heat_left + side + colorbar + colorbar_text  # one heatmap with its margins
        width = hist_left + 3.6 + 2 * panel
        fig = _figure(width, bottom + side + 2.4 * text)
        hist_ax = _place(fig, hist_left, bottom, 3.6, side)
        left_ax = _place(fig, hist_left + 3.6 + heat_left, bottom, side + colorbar, side)
        right_ax = _place(fig, hist_left + 3.6 + panel + heat_left, bottom, side + colorbar, side)
        root = math.sqrt(self.d_k)
        raw = self.scores.ravel()
        limit = 4.0 * max(1.0, self.score_std)  # the same axis for both: wide vs narrow
        bins = np.linspace(-limit, limit, 101)
        hist_ax.hist(raw, bins=bins, density=True, alpha=0.6, color="#0072b2", label="q·k (raw)")
        hist_ax.hist(
            raw / root, bins=bins, density=True, alpha=0.6, color="#e69f00", label="q·k / √d_k"
        )
        hist_ax.set_xlabel("score")
        hist_ax.set_ylabel("density")
        hist_ax.set_title(f"scores, d_k = {self.d_k}")
        hist_ax.legend(loc="upper right", fontsize="small")

        plot_attention(
            self.weights_unscaled,
            query_labels,
            key_labels,
            ax=left_ax,
            annotate=False,
            vmax=1.0,
            title=f"unscaled: entropy {self.entropy_unscaled:.2f}",
        )
        plot_attention(
            self.weights_scaled,
            query_labels,
            key_labels,
            ax=right_ax,
            annotate=False,
            vmax=1.0,
            title=f"÷ √d_k: entropy {self.entropy_scaled:.2f}",
        )
        return _png_bytes(fig)

    def _numbers_html(self):
        root = math.sqrt(self.d_k)
        return (
            _TABLE + "<thead><tr><th></th><th>unscaled</th><th>÷ √d_k</th></tr></thead><tbody>"
            f"<tr><td>spread (std) of scores</td><td>{self.score_std:.2f}</td>"
            f"<td>{self.scaled_score_std:.2f}</td></tr>"
            f"<tr><td>mean entropy (nats)</td><td>{self.entropy_unscaled:.2f}</td>"
            f"<td>{self.entropy_scaled:.2f}</td></tr>"
            f"<tr><td>mean max weight</td><td>{self.max_weight_unscaled:.2f}</td>"
            f"<td>{self.max_weight_scaled:.2f}</td></tr></tbody></table>"
            f"<small>√d_k = {root:.2f}; uniform attention over {self.seq_len} keys has "
            f"entropy ln {self.seq_len} = {self.max_entropy:.2f}.</small>"
        )

    def _plain_text(self):
        return (
            f"DkExplorer(d_k={self.d_k}, score std {self.score_std:.2f} unscaled, "
            f"{self.scaled_score_std:.2f} scaled; run the notebook to interact)"
        )

    def _on_change(self, change):
        self._recompute()


def attention_explorer(sentence=DEFAULT_SENTENCE, *, embeddings=None, max_words=MAX_WORDS):
    """An interactive view of self-attention over one sentence.

    Type a sentence (press Enter), drag the number the scores are divided by, pick a query
    word. The heatmap shows every word's attention row; the bars show the chosen word's row;
    the table gives each row's entropy and largest weight.

    Parameters
    ----------
    sentence : str, default "I drink coke, but eat steak"
        The first sentence shown.
    embeddings : None, str or gensim KeyedVectors, default None
        None or a source name for :func:`course_lib.embeddings.load_embeddings` (None means
        "bundled"); or your own KeyedVectors (then there is no source choice).
    max_words : int, default 60
        Longer sentences are refused with a message.

    Returns
    -------
    AttentionExplorer
        An ``ipywidgets.VBox``; display it (last line of a cell). Its ``.controls``,
        ``.words``, ``.weights``, ``.missing`` and ``.status`` are the live state.

    Examples
    --------
    >>> explorer = attention_explorer("I drink coke, but eat steak")
    >>> explorer.controls["scale"].value = 1.0   # plain dot product
    >>> explorer.weights.shape == (len(explorer.words), len(explorer.words))
    True
    >>> explorer.controls["sentence"].value = "?!"
    >>> explorer.status.startswith("No words found")
    True
    """
    return AttentionExplorer(sentence, embeddings=embeddings, max_words=max_words)


def dk_explorer(d_k=64, *, seq_len=10, seed=0):
    """An interactive view of why attention divides the scores by sqrt(d_k).

    Parameters
    ----------
    d_k : int, default 64
        Starting dimension of the random queries and keys (the slider goes 1 to 512).
    seq_len : int, default 10
        Starting number of queries and keys per sample (the slider goes 2 to 64).
    seed : int, default 0
        Seed of ``np.random.default_rng``; the same d_k always gives the same numbers.

    Returns
    -------
    DkExplorer
        An ``ipywidgets.VBox``; its ``.score_std``, ``.scaled_score_std``,
        ``.entropy_unscaled`` and ``.entropy_scaled`` follow the sliders.

    Examples
    --------
    >>> explorer = dk_explorer(d_k=256)
    >>> round(explorer.score_std / 16, 1), round(explorer.scaled_score_std, 1)
    (1.0, 1.0)
    >>> explorer.entropy_unscaled < explorer.entropy_scaled
    True
    """
    return DkExplorer(d_k, seq_len=seq_len, seed=seed)
