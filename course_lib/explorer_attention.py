"""The attention explorer: type a sentence, drag the divisor, watch attention sharpen and flatten.

Self-attention over one sentence's word vectors X. The queries and keys are X itself or X
projected by W_Q and W_K (random, shared, or trained ones you pass in); the scores Q K^T are
divided by the number on the "scores ÷" slider and each row goes through a softmax. There is
no maths here beyond that: the weights come from :mod:`course_lib.attention`, the vectors
from :mod:`course_lib.embeddings`, the checks of each input from
:mod:`course_lib.explorer_inputs`, the picture from :mod:`course_lib.explorer_view`.

Every change goes through one path: propose the new state from the controls, check it, and
either commit it (numbers at once, picture redrawn) or, on *any* failure, show a message and
put the controls back to the last state that worked. The sentence box keeps what was typed.
"""

from __future__ import annotations

import html
import math

import ipywidgets as widgets
import numpy as np

from course_lib import plotting
from course_lib.explorer_inputs import (
    PROJECTIONS,
    InputProblem,
    check_projections,
    default_query,
    divisor_range,
    embed_text,
    project,
    query_index,
)
from course_lib.explorer_view import (
    Explorer,
    bars_html,
    figure_png,
    heatmap_html,
    shorten,
    table_html,
    view_html,
)

__all__ = ["AttentionExplorer", "attention_explorer", "DEFAULT_SENTENCE"]

DEFAULT_SENTENCE = "I drink coke, but eat steak"
MAX_WORDS = 60  # more rows than this make an unreadable heatmap
_STATE = (
    "source words missing tokens vectors text projection d_k divisor query_index colour_scale "
    "weights entropy colour_limits"
).split()


class AttentionExplorer(Explorer):
    """Self-attention of a sentence, with the divisor, query word and projection as controls.

    Build it with :func:`attention_explorer`.

    Attributes
    ----------
    controls : dict of ipywidgets
        ``"sentence"`` (Text, on Enter), ``"query"`` (Dropdown: the row drawn as bars),
        ``"divisor"`` (FloatLogSlider "scores ÷"), ``"divisor_one"`` and ``"divisor_sqrt_dk"``
        (Buttons), ``"colour_scale"`` (ToggleButtons "fixed"/"stretch"), ``"projection"``
        (Dropdown "none"/"random"/"shared"/"trained"), ``"source"`` (Dropdown, when more than
        one embedding source is available).
    words, missing : list of str
        The words shown, and the sentence's words not in the vocabulary.
    weights : ndarray of shape (len(words), len(words))
        Row i is where word i looks (rows sum to 1).
    entropy : ndarray of shape (len(words),)
        Each row's entropy in nats.
    divisor : float
        The number the scores are divided by.
    query_index : int
        The highlighted row (drawn as bars).
    projection : str
        What the queries and keys are (see ``controls["projection"]``).
    d_k : int
        Size of the queries and keys.
    colour_limits : (float, float)
        (0.0, 1.0) when the colour scale is fixed, else (0.0, largest weight).
    status : str
        The message now shown ("" when all is well).
    """

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

        super().__init__()
        self._setup_view("course-attention-explorer")
        self._emb = emb
        self.max_words = max_words
        self._trained = check_projections(projections)
        if divisor is not None and not (math.isfinite(divisor) and divisor > 0):
            raise ValueError(f"divisor must be a positive number, got {divisor!r}")
        if embeddings is None or isinstance(embeddings, str):
            source = embeddings or "bundled"
            self._kvs = {source: emb.load_embeddings(source)}
            sources = list(emb.available_sources())
            if source not in sources:  # loaded above, so it works here
                sources.insert(0, source)
        else:  # the caller's own KeyedVectors: no source choice
            source, self._kvs, sources = None, {None: embeddings}, []
        self._busy = False
        self._build_controls(sources, source)

        d = int(self._kvs[source].vector_size)
        self._state = {
            "source": source,
            "words": [],
            "missing": [],
            "tokens": [],
            "vectors": np.zeros((0, d)),
            "text": "",
            "projection": "none",
            "d_k": d,
            "divisor": float(divisor) if divisor is not None else math.sqrt(d),
            "query_index": 0,
            "colour_scale": "fixed",
            "weights": np.zeros((0, 0)),
            "entropy": np.zeros(0),
            "colour_limits": (0.0, 1.0),
        }
        self._publish(self._state)
        self._busy = True
        self.controls["sentence"].value = sentence or ""
        self._busy = False
        try:
            new = self._propose(text=sentence)
        except InputProblem as err:
            self._fail(str(err))
            return
        if query is not None:  # a wrong word here is the caller's error: a ValueError
            new["query_index"] = query_index(query, new["words"])
        self._commit(new)

    # -- controls ------------------------------------------------------------------------------

    def _build_controls(self, sources, source):
        wide = {"description_width": "initial"}
        options = [(label, key) for key, label in PROJECTIONS.items()]
        if self._trained is None:
            options = options[:-1]
        low, high = divisor_range(64)
        self.controls = {
            "sentence": widgets.Text(
                value="",
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
                min=low,
                max=high,
                step=0.02,
                description="scores ÷",
                readout_format=".2f",
                continuous_update=True,
                layout=widgets.Layout(width="min(100%, 30em)"),
                style=wide,
            ),
            "divisor_one": widgets.Button(
                description="÷ 1", tooltip="the plain dot product", layout={"width": "auto"}
            ),
            "divisor_sqrt_dk": widgets.Button(
                description="÷ √d_k",
                tooltip="the Transformer's choice",
                layout={"width": "auto"},
            ),
            "colour_scale": widgets.ToggleButtons(
                options=[("colours fixed 0–1", "fixed"), ("stretch 0–max", "stretch")],
                value="fixed",
                description="colours:",
                style=wide,
            ),
            "projection": widgets.Dropdown(
                options=options, value="none", description="queries, keys:", style=wide
            ),
        }
        if len(sources) > 1:
            self.controls["source"] = widgets.Dropdown(
                options=sources, value=source, description="vectors:", style=wide
            )
        self._note = widgets.HTML()
        self._words_line = widgets.HTML().add_class("course-explorer-words")
        wrap = widgets.Layout(flex_flow="row wrap", align_items="center")
        c = self.controls
        first = [c["sentence"], *([c["source"]] if "source" in c else [])]
        self.children = [
            widgets.HBox(first, layout=wrap),
            widgets.HBox([c["divisor"], c["divisor_one"], c["divisor_sqrt_dk"]], layout=wrap),
            self._note,
            widgets.HBox([c["query"], c["projection"], c["colour_scale"]], layout=wrap),
            self._status,
            self._words_line,
            self._style,
            self._view,
        ]
        c["sentence"].observe(lambda ch: self._on("text", ch["new"]), names="value")
        c["query"].observe(lambda ch: self._on("query_index", ch["new"]), names="value")
        c["divisor"].observe(lambda ch: self._on("divisor", ch["new"]), names="value")
        c["colour_scale"].observe(lambda ch: self._on("colour_scale", ch["new"]), names="value")
        c["projection"].observe(lambda ch: self._on("projection", ch["new"]), names="value")
        if "source" in c:
            c["source"].observe(lambda ch: self._on("source", ch["new"]), names="value")
        c["divisor_one"].on_click(lambda _: self._on("divisor", 1.0))
        c["divisor_sqrt_dk"].on_click(lambda _: self._on("divisor", math.sqrt(self.d_k)))

    def _sync_controls(self):
        """Put every control (except the sentence box) on the committed state."""
        c, state = self.controls, self._state
        self._busy = True
        try:
            labels = self._query_options()
            if list(c["query"].options) != labels:
                c["query"].options = labels
            c["query"].value = state["query_index"] if state["words"] else None
            low, high = divisor_range(state["d_k"])
            if c["divisor"].max != high:
                c["divisor"].max = high
            c["divisor"].min = low
            c["divisor"].value = state["divisor"]
            c["colour_scale"].value = state["colour_scale"]
            c["projection"].value = state["projection"]
            if "source" in c:
                c["source"].value = state["source"]
        finally:
            self._busy = False
        root = math.sqrt(state["d_k"])
        c["divisor_sqrt_dk"].description = f"÷ √d_k = {root:.2f}"
        self._note.value = (
            '<div style="font-size: var(--jp-content-font-size1, 14px); line-height: 1.4;">'
            "The scores are <b>divided</b> by the slider's number: 1 = the plain dot product; "
            f"√d_k = {root:.2f} (d_k = {state['d_k']}) is the Transformer's choice. Larger "
            "divisors flatten the rows, smaller ones sharpen them.</div>"
        )

    def _query_options(self):
        words = self._state["words"]
        return [
            (f"{word} (word {i + 1})" if words.count(word) > 1 else word, i)
            for i, word in enumerate(words)
        ]

    # -- one path for every change --------------------------------------------------------------

    def _on(self, what, value):
        if self._busy:
            return
        try:
            if what == "source":
                new = self._propose(source=value)
            else:
                new = self._propose(**{what: value})
        except InputProblem as err:
            self._fail(str(err))
        except Exception as err:  # noqa: BLE001 - any failure: message, last good state
            self._fail(f"Could not update the view ({type(err).__name__}: {shorten(err, 200)}).")
        else:
            self._commit(new)

    def _kv(self, source):
        if source not in self._kvs:
            self._kvs[source] = self._emb.load_embeddings(source)
        return self._kvs[source]

    def _propose(self, *, source=None, text=None, **changes):
        """The state the controls ask for; raises on anything that cannot be shown."""
        from course_lib.attention import attention_entropy, scaled_dot_product_attention

        new = dict(self._state)
        new.update(changes)
        old_d_k = new["d_k"]
        if source is not None:
            new["source"] = source
            text = self._state["text"] if self._state["words"] else self.controls["sentence"].value
        kv = self._kv(new["source"])
        if text is not None:
            found, vectors = embed_text(text, kv, self.max_words)
            new.update(words=list(found.words), missing=list(found.missing), vectors=vectors)
            new.update(tokens=list(found.tokens), text=text)
        if not new["words"]:
            return new
        queries, keys = project(new["projection"], new["vectors"], self._trained)  # (n, d_k) each
        new["d_k"] = int(queries.shape[1])
        if new["d_k"] != old_d_k:  # a new size: start from the Transformer's choice
            new["divisor"] = math.sqrt(new["d_k"])
        divisor = new["divisor"]
        if divisor is None or not (math.isfinite(divisor) and divisor > 0):
            raise InputProblem(f"The divisor must be a positive number, not {shorten(divisor)}.")
        new["divisor"] = float(divisor)
        _, weights = scaled_dot_product_attention(
            queries, keys, new["vectors"], scale=1.0 / new["divisor"]
        )  # (n, n)
        new["weights"], new["entropy"] = weights, attention_entropy(weights)
        new["colour_limits"] = plotting.colour_limits(weights, new["colour_scale"])
        words, old_words = new["words"], self._state["words"]
        if text is not None:  # new words: keep the query word if it is still there
            old = old_words[self._state["query_index"]] if old_words else None
            new["query_index"] = words.index(old) if old in words else default_query(words, weights)
        new["query_index"] = query_index(new["query_index"], words)
        return new

    def _publish(self, state):
        for name in _STATE:
            setattr(self, name, state[name])

    def _commit(self, new):
        self._state = new
        self._publish(new)
        self._sync_controls()
        if new["missing"]:
            listed = ", ".join(repr(shorten(w)) for w in new["missing"][:10])
            more = f" and {len(new['missing']) - 10} more" if len(new["missing"]) > 10 else ""
            self._set_status(f"Not in the vocabulary, so not shown: {listed}{more}.")
        else:
            self._set_status("")
        words = " · ".join(html.escape(w) for w in self.words)
        self._words_line.value = f"<b>words:</b> {words}"
        self._request_draw()

    def _fail(self, message):
        self._sync_controls()
        if self._state["words"]:
            message += " The view shows the last setting that worked."
        self._set_status(message)

    # -- the picture ----------------------------------------------------------------------------

    def _title(self):
        return f"scores ÷ {self.divisor:.2f}, {PROJECTIONS[self.projection]}"

    def _view_html(self):
        if not self.words:
            return ""
        n, q, words = len(self.words), self.query_index, self.words
        label = plotting.colour_bar_label(self.colour_scale, self.colour_limits)
        heat = heatmap_html(
            self.weights,
            words,
            words,
            limits=self.colour_limits,
            colour_label=label,
            title=self._title(),
            highlight_row=q,
        )
        bars = bars_html(self.weights[q], words, title=f"where {words[q]!r} looks")
        rows = []
        for i, word in enumerate(words):
            others = np.where(np.arange(n) == i, -1.0, self.weights[i])  # itself left out
            j = int(np.argmax(others))
            rows.append(
                [word, f"{self.entropy[i]:.2f}", f"{self.weights[i, i]:.2f}"]
                + ([words[j], f"{self.weights[i, j]:.2f}"] if n > 1 else ["–", "–"])
            )
        header = ["query", "entropy", "on itself", "looks most at (besides itself)", "weight"]
        note = f"Entropy in nats: 0 = all weight on one word, ln {n} = {math.log(n):.2f} = even."
        return view_html([heat, bars], table_html(header, rows, highlight=q, note=note))

    def _png_key(self):
        return (tuple(self.words), self.divisor, self.query_index, self.projection,
                self.colour_scale, self.source)  # fmt: skip

    def _png_figure(self):
        from course_lib.plotting import plot_attention, plot_attention_row

        n = len(self.words)
        if not n:
            return b""
        side = min(max(3.6, 0.45 * n + 1.8), 12.0)

        def draw(fig):
            heat_ax, bar_ax = fig.subplots(1, 2, width_ratios=[1.25, 1])
            plot_attention(
                self.weights,
                self.words,
                ax=heat_ax,
                vmin=self.colour_limits[0],
                vmax=self.colour_limits[1],
                cbar_label=plotting.colour_bar_label(self.colour_scale, self.colour_limits),
                title=self._title(),
            )
            q = self.query_index
            plot_attention_row(self.weights[q], self.words, query_word=self.words[q], ax=bar_ax)

        return figure_png(draw, (2.1 * side + 1.5, side))

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
    """An interactive view of self-attention over one sentence.

    Type a sentence (press Enter), drag the number the scores are divided by (the picture
    follows while you drag), choose what the queries and keys are, pick the query word whose
    row is drawn as bars. The heatmap's colours mean the same weight at every divisor (0 to 1)
    unless you stretch them; the table gives each word's weight on itself and the word it
    looks at most besides itself.

    Parameters
    ----------
    sentence : str, default "I drink coke, but eat steak"
    embeddings : None, str or gensim KeyedVectors, default None
        None or a source name for :func:`course_lib.embeddings.load_embeddings` (None means
        "bundled"); or your own KeyedVectors (then there is no source choice).
    projections : (w_q, w_k), optional
        Two arrays of shape (d, d_k), e.g. the trained ones of notebook 04; they add the
        "trained" choice to ``controls["projection"]``.
    divisor : float, optional
        The first divisor; default sqrt(d_k).
    query : str or int, optional
        The first query word (or its index); default: the word that puts the largest weight
        on another word ("drink" in the default sentence).
    max_words : int, default 60
        Longer sentences are refused with a message.

    Returns
    -------
    AttentionExplorer
        An ``ipywidgets.VBox``; display it (last line of a cell).

    Raises
    ------
    ValueError
        For a non-positive or NaN ``divisor``, malformed ``projections``, or a ``query`` that
        is not a word of the sentence.

    Examples
    --------
    >>> explorer = attention_explorer()
    >>> explorer.words[explorer.query_index], round(explorer.divisor, 2)
    ('drink', 8.0)
    >>> explorer.controls["divisor"].value = 1.0     # the plain dot product
    >>> explorer.colour_limits
    (0.0, 1.0)
    >>> explorer.controls["sentence"].value = "?!"
    >>> explorer.status.startswith("No words found")
    True
    """
    return AttentionExplorer(
        sentence,
        embeddings=embeddings,
        projections=projections,
        divisor=divisor,
        query=query,
        max_words=max_words,
    )
