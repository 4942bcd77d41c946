"""The attention explorer: type a sentence, drag the divisor, watch attention sharpen and flatten.

Self-attention over one sentence's word vectors X. The queries and keys are X itself or X
projected by W_Q and W_K (random, shared, or trained ones you pass in); the scores Q K^T are
divided by the number on the "scores ÷" slider and each row goes through a softmax. There is
no maths here beyond that: the weights come from :mod:`course_lib.attention`, the vectors
from :mod:`course_lib.embeddings`, the checks from :mod:`course_lib.explorer_inputs`, the
picture from :mod:`course_lib.explorer_view`, the update path from
:class:`course_lib.explorer_base.Explorer`.
"""

from __future__ import annotations

import html
import math

import ipywidgets as widgets
import numpy as np
import traitlets

from course_lib import plotting
from course_lib.attention import attention_entropy, scaled_dot_product_attention
from course_lib.explorer_a11y import looks_most_at
from course_lib.explorer_base import Checked, Explorer, Number, Whole
from course_lib.explorer_inputs import (
    PROJECTIONS,
    InputProblem,
    check_attention_arguments,
    check_choice,
    check_divisor,
    check_whole,
    default_query,
    divisor_range,
    embed_text,
    embedding_tables,
    find_query,
    missing_note,
    project,
)
from course_lib.explorer_png import attention_png
from course_lib.explorer_view import attention_html

__all__ = ["AttentionExplorer", "attention_explorer", "DEFAULT_SENTENCE", "MAX_WORDS"]

DEFAULT_SENTENCE = "I drink coke, but eat steak"
MAX_WORDS = 60  # more rows than this make an unreadable heatmap
COLOUR_SCALES = ("fixed", "stretch")


class AttentionExplorer(Explorer):
    """Self-attention of a sentence, with the divisor, query word and projection as controls.

    Type a sentence (press Enter), drag the number the scores are divided by (the picture
    follows while you drag), choose what the queries and keys are, pick the query word whose
    row is drawn as bars. The heatmap's colours mean the same weight at every divisor (0 to 1)
    unless you stretch them; the table gives each word's weight on itself and the word it
    looks at most besides itself. Every state attribute can be read and set; setting one
    redraws and moves its control (``explorer.divisor = 32``).

    Parameters
    ----------
    sentence : str, default "I drink coke, but eat steak"
        A sentence without a known word is shown as a message, not refused.
    embeddings : None, str or table of word vectors, default None
        None or a source name for :func:`course_lib.embeddings.lookup_table` (None means
        "bundled"); or your own gensim KeyedVectors (then there is no source choice).
    projections : (w_q, w_k), optional
        Two arrays of shape (d, d_k), e.g. the trained ones of notebook 04; they add the
        "trained" choice of ``projection``.
    divisor : float, optional
        The first divisor; default sqrt(d_k).
    query : str or int, optional
        The first query word (or its index); default: the word that puts the largest weight
        on another word ("drink" in the default sentence).
    max_words : int, default 60
        Longer sentences are refused with a message.

    Attributes
    ----------
    sentence : str
        The sentence shown (the last one that worked; the box keeps what was typed).
    divisor : float
        The number the scores are divided by (> 0).
    query : str
        The query word, whose row is drawn as bars; set a word of the sentence or an index.
    query_index : int
        Its place in ``words`` (settable too; tells repeated words apart).
    colour_scale : {"fixed", "stretch"}
    projection : {"none", "random", "shared", "trained"}
        What the queries and keys are ("trained" only when projections were given).
    source : str or None
        The embedding source (None for your own table of vectors).
    words, missing : list of str
        Read-only: the words shown, and the sentence's words not in the vocabulary.
    weights : ndarray of shape (len(words), len(words))
        Read-only: row i is where word i looks (rows sum to 1).
    entropy : ndarray of shape (len(words),)
        Read-only: each row's entropy in nats.
    d_k : int
        Read-only: size of the queries and keys.
    colour_limits : (float, float)
        Read-only: (0.0, 1.0) when the colour scale is fixed, else (0.0, largest weight).
    status : str
        Read-only: the message now shown ("" when all is well).
    controls : dict of ipywidgets
        ``"sentence"`` (Text, on Enter), ``"query"`` (Dropdown), ``"divisor"``
        (FloatLogSlider "scores ÷"), ``"divisor_one"`` and ``"divisor_sqrt_dk"`` (Buttons),
        ``"colour_scale"`` (ToggleButtons), ``"projection"`` (Dropdown), ``"source"``
        (Dropdown, when more than one embedding source is available).

    Raises
    ------
    TypeError
        For a ``sentence`` that is not a str, or ``embeddings``, ``divisor``, ``query`` or
        ``max_words`` of the wrong kind.
    ValueError
        For a non-positive or NaN ``divisor``, malformed ``projections``, ``max_words`` below
        1, an unknown source, or a ``query`` that is not a word of the sentence.
    """

    sentence = traitlets.Unicode("").tag(state=True)
    source = Checked(None).tag(state=True)  # None: your own table of vectors
    projection = traitlets.Unicode("none").tag(state=True)
    divisor = Number(8.0).tag(state=True)
    query_index = Whole(0).tag(state=True)
    colour_scale = traitlets.Unicode("fixed").tag(state=True)

    words = traitlets.List(read_only=True).tag(result=True)
    missing = traitlets.List(read_only=True).tag(result=True)
    weights = traitlets.Any(np.zeros((0, 0)), read_only=True).tag(result=True)
    entropy = traitlets.Any(np.zeros(0), read_only=True).tag(result=True)
    d_k = traitlets.Int(0, read_only=True).tag(result=True)
    colour_limits = traitlets.Tuple((0.0, 1.0), read_only=True).tag(result=True)

    def __init__(
        self,
        sentence=DEFAULT_SENTENCE,
        *,
        embeddings=None,
        projections=None,
        divisor=None,
        query=None,
        max_words=MAX_WORDS,
    ):
        from course_lib import embeddings as emb

        self._trained, divisor, self.max_words = check_attention_arguments(
            sentence, embeddings, projections, divisor, query, max_words
        )
        source, self._tables, self._sources = embedding_tables(embeddings)
        self._emb, self._embedded = emb, None
        super().__init__("course-attention-explorer")
        self._build_controls(self._sources)
        d = int(self._tables[source].vector_size)
        self.set_trait("d_k", d)
        self.start(sentence=sentence, source=source, divisor=divisor or math.sqrt(d), query_index=0)
        self.start_at_query(query)

    # -- checks, one per state value (traitlets validators) ---------------------------------------

    @traitlets.validate("divisor")
    def _check_divisor(self, proposal):
        return check_divisor(proposal["value"])

    @traitlets.validate("query_index")
    def _check_query_index(self, proposal):
        last = len(self.words) - 1 if self.words and not self._quiet else None  # quiet: computing
        return check_whole(proposal["value"], "query_index", 0, last)

    @traitlets.validate("colour_scale")
    def _check_colour_scale(self, proposal):
        return check_choice(proposal["value"], COLOUR_SCALES, "colour_scale")

    @traitlets.validate("projection")
    def _check_projection(self, proposal):
        choices = list(PROJECTIONS) if self._trained is not None else list(PROJECTIONS)[:-1]
        return check_choice(proposal["value"], choices, "projection")

    @traitlets.validate("source")
    def _check_source(self, proposal):
        if proposal["value"] not in self._sources:
            raise InputProblem(f"source must be one of {self._sources}, not {proposal['value']!r}")
        return proposal["value"]

    @property
    def query(self):
        """The query word (None when there are no words); set a word or an index."""
        return self.words[self.query_index] if self.words else None

    @query.setter
    def query(self, value):
        self.query_index = find_query(value, self.words)

    # -- controls ---------------------------------------------------------------------------------

    def _build_controls(self, sources):
        wide = {"description_width": "initial"}
        options = [(label, key) for key, label in PROJECTIONS.items()]
        c = self.controls = {
            "sentence": widgets.Text(
                description="Sentence:",
                placeholder="type a sentence, then press Enter",
                continuous_update=False,
                layout=widgets.Layout(width="min(100%, 36em)"),
                style=wide,
            ),
            "query": widgets.Dropdown(description="query word:", options=[], style=wide),
            "divisor": widgets.FloatLogSlider(
                value=8.0,
                base=2,
                min=-2.0,
                max=6.0,
                step=0.02,
                description="scores ÷",
                readout_format=".2f",
                continuous_update=True,
                # 16 to 30em: on one row with its two buttons, also at 150% zoom
                layout=widgets.Layout(flex="1 1 16em", max_width="30em"),
                style=wide,
            ),
            "divisor_one": widgets.Button(
                description="÷ 1", tooltip="the plain dot product", layout={"width": "auto"}
            ),
            "divisor_sqrt_dk": widgets.Button(
                description="÷ √d_k", tooltip="the Transformer's choice", layout={"width": "auto"}
            ),
            "colour_scale": widgets.ToggleButtons(
                options=[("colours fixed 0–1", "fixed"), ("stretch 0–max", "stretch")],
                description="colours:",
                style=wide,
            ),
            "projection": widgets.Dropdown(
                options=options if self._trained is not None else options[:-1],
                description="queries, keys:",
                style=wide,
            ),
        }
        if len(sources) > 1:
            c["source"] = widgets.Dropdown(options=sources, description="vectors:", style=wide)
            self.link("source", c["source"])
        self.link("sentence", c["sentence"], keep_typed=True)
        self.link("query_index", c["query"], to_control=lambda i: i if self.words else None)
        for name in ("divisor", "colour_scale", "projection"):
            self.link(name, c[name])
        c["divisor_one"].on_click(lambda _: self.propose("divisor", 1.0))
        c["divisor_sqrt_dk"].on_click(lambda _: self.propose("divisor", math.sqrt(self.d_k)))
        self._note = widgets.HTML()
        self._words_line = widgets.HTML().add_class("course-explorer-words")
        wrap = widgets.Layout(flex_flow="row wrap", align_items="center")
        # The divisor's row sits right above the picture, so that both fit one screen at 150%
        # zoom: dragging it changes a picture in view.
        self.children = [
            widgets.HBox([c["sentence"], *([c["source"]] if "source" in c else [])], layout=wrap),
            widgets.HBox([c["query"], c["projection"], c["colour_scale"]], layout=wrap),
            self._note,
            self._words_line,
            widgets.HBox([c["divisor"], c["divisor_one"], c["divisor_sqrt_dk"]], layout=wrap),
            self._status,
            self._style,
            self._view,
        ]

    def _refresh(self):
        c, words = self.controls, self.words
        labels = [
            (f"{w} (word {i + 1})" if words.count(w) > 1 else w, i) for i, w in enumerate(words)
        ]
        if list(c["query"].options) != labels:
            c["query"].options = labels
        low, high = divisor_range(self.d_k, self.divisor)
        if (c["divisor"].min, c["divisor"].max) != (low, high):
            c["divisor"].max, c["divisor"].min = high, low
        root = math.sqrt(self.d_k)
        c["divisor_sqrt_dk"].description = f"÷ √d_k = {root:.2f}"
        self._note.value = (
            '<div style="font-size: var(--jp-content-font-size1, 14px); line-height: 1.4;">'
            "The scores are <b>divided</b> by the slider's number: 1 = the plain dot product; "
            f"√d_k = {root:.2f} (d_k = {self.d_k}) is the Transformer's choice. Larger "
            "divisors flatten the rows, smaller ones sharpen them.</div>"
        )
        self._words_line.value = f"<b>words:</b> {' · '.join(html.escape(w) for w in words)}"

    # -- the state, computed ----------------------------------------------------------------------

    def _embed(self):
        """Return (found, vectors) of the sentence, cached for the last sentence and source."""
        key = (self.source, self.sentence)
        if self._embedded is None or self._embedded[0] != key:
            if self.source not in self._tables:
                self._tables[self.source] = self._emb.lookup_table(self.source)
            self._embedded = (
                key,
                embed_text(self.sentence, self._tables[self.source], self.max_words),
            )
        return self._embedded[1]

    def _compute(self):
        found, vectors = self._embed()  # (n, d)
        words = list(found.words)
        queries, keys = project(self.projection, vectors, self._trained)  # (n, d_k) each
        d_k = int(queries.shape[1])
        if d_k != self.d_k:  # a new size: start from the Transformer's choice
            self.divisor = math.sqrt(d_k)
        _, weights = scaled_dot_product_attention(
            queries, keys, vectors, scale=1.0 / self.divisor
        )  # (n, n)
        if words != self.words:  # new words: keep the query word if it is still there
            old = self.query
            self.query_index = words.index(old) if old in words else default_query(words, weights)
        elif self.query_index >= len(words):
            raise InputProblem(f"Choose a query word from the list, not {self.query_index}.")
        return {
            "words": words,
            "missing": list(found.missing),
            "weights": weights,
            "entropy": attention_entropy(weights),
            "d_k": d_k,
            "colour_limits": plotting.colour_limits(weights, self.colour_scale),
            "status": missing_note(found.missing),
        }

    # -- the picture ------------------------------------------------------------------------------

    def _picture(self):
        label = plotting.colour_bar_label(self.colour_scale, self.colour_limits)
        title = f"scores ÷ {self.divisor:.2f}, {PROJECTIONS[self.projection]}"
        return dict(query_index=self.query_index, title=title, limits=self.colour_limits,
                    colour_label=label)  # fmt: skip

    def _view_html(self):
        return attention_html(self.weights, self.words, **self._picture()) if self.words else ""

    def _summary_text(self):
        if not self.words:
            return ""
        where = f"scores ÷ {self.divisor:.2f}"
        return looks_most_at(where, self.weights, self.words, self.query_index)

    def _alt_text(self):
        scale = "fixed 0 to 1" if self.colour_scale == "fixed" else "stretched 0 to the largest"
        return (
            f"Attention weights of the {len(self.words)} words of {self.sentence!r}, scores "
            f"divided by {self.divisor:.2f}, queries and keys {PROJECTIONS[self.projection]}: "
            f"a heatmap (rows = query word, columns = attended-to word, colours {scale}) "
            f"and bars of where {self.query!r} looks. {self._summary_text()}."
        )

    def _numbers(self):
        from course_lib.figures import numbers_table

        caption = f"Attention weights, scores ÷ {self.divisor:.2f} (rows: query word)"
        return numbers_table(caption, self.words, self.words, self.weights, corner="query")

    def _png_key(self):
        return (tuple(self.words), self.divisor, self.query_index, self.projection,
                self.colour_scale, self.source)  # fmt: skip

    def _png_figure(self):
        return attention_png(self.weights, self.words, **self._picture()) if self.words else b""

    def _plain_text(self):
        return (
            f"AttentionExplorer(words={self.words!r}, scores ÷ {self.divisor:.2f}; "
            "run the notebook to interact)"
        )


def attention_explorer(
    sentence=DEFAULT_SENTENCE,
    *,
    embeddings=None,
    projections=None,
    divisor=None,
    query=None,
    max_words=MAX_WORDS,
):
    """Build an interactive view of self-attention over one sentence.

    The arguments, attributes and errors are those of :class:`AttentionExplorer`.

    Examples
    --------
    >>> explorer = attention_explorer()
    >>> explorer.query, round(explorer.divisor, 2)
    ('drink', 8.0)
    >>> explorer.divisor = 1.0     # the plain dot product; the slider follows
    >>> explorer.controls["divisor"].value
    1.0
    >>> explorer.controls["sentence"].value = "?!"
    >>> explorer.status.startswith("No words found")
    True
    """
    options = dict(embeddings=embeddings, projections=projections, divisor=divisor)
    return AttentionExplorer(sentence, query=query, max_words=max_words, **options)
