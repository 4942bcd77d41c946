"""The head explorer: any head of the trained model (all-MiniLM-L6-v2) on your own sentence.

Type a sentence, pick a layer and a head: the heatmap shows that head's attention weights
over the sentence's tokens (``[CLS]`` and ``[SEP]`` included) on the fixed 0-1 colour scale,
so two heads can be compared by eye; the bars show one query token's row, and the table each
token's entropy and where it looks most. The weights come from
:meth:`course_lib.pretrained.PretrainedModel.run` (every head's attention computed by
:func:`course_lib.attention.scaled_dot_product_attention`); the picture and the update path
are the attention explorer's (:mod:`course_lib.explorer_view`,
:class:`course_lib.explorer_base.Explorer`).
"""

from __future__ import annotations

import html

import ipywidgets as widgets
import numpy as np
import traitlets

from course_lib import plotting
from course_lib.attention import attention_entropy
from course_lib.explorer_a11y import looks_most_at
from course_lib.explorer_base import Explorer, Whole
from course_lib.explorer_inputs import InputProblem, check_whole, find_query
from course_lib.explorer_png import attention_png
from course_lib.explorer_view import attention_html

__all__ = ["HeadExplorer", "head_explorer", "DEFAULT_SENTENCE", "MAX_TOKENS"]

DEFAULT_SENTENCE = "The animal didn't cross the street because it was tired."
MAX_TOKENS = 40  # more rows than this make an unreadable heatmap
LIMITS = (0.0, 1.0)  # every head on the same colour scale


class HeadExplorer(Explorer):
    """One head of the trained model on one sentence, with the layer and head as controls.

    Parameters
    ----------
    sentence : str, default "The animal didn't cross the street because it was tired."
        At most ``MAX_TOKENS`` (40) tokens with ``[CLS]`` and ``[SEP]``; a longer one is
        shown as a message, not refused.
    model : PretrainedModel, optional
        Default: :func:`course_lib.pretrained.load_pretrained`.
    layer, head : int, default 0
        The first head shown.
    query : str or int, optional
        The token whose row is drawn as bars (or its index); default the first word after
        ``[CLS]``.

    Attributes
    ----------
    sentence : str
        The sentence shown (the last one that worked; the box keeps what was typed).
    layer, head : int
        The head shown (0-5 and 0-11 for all-MiniLM-L6-v2).
    query_index : int
        The row drawn as bars; ``query`` reads the token (set a token or an index).
    tokens : list of str
        Read-only: the sentence's tokens.
    weights : ndarray of shape (T, T)
        Read-only: the head's attention weights (rows = queries, each sums to 1).
    entropy : ndarray of shape (T,)
        Read-only: each row's entropy in nats.
    colour_limits : (float, float)
        Read-only: always (0.0, 1.0).
    status : str
        Read-only: the message now shown ("" when all is well).
    controls : dict of ipywidgets
        ``"sentence"`` (Text, on Enter), ``"layer"`` and ``"head"`` (IntSliders), ``"query"``
        (Dropdown).

    Raises
    ------
    TypeError
        For a ``sentence`` that is not a str, or a ``layer``, ``head`` or ``query`` of the
        wrong kind.
    ValueError
        For a layer or head out of range, or a ``query`` that is not a token of the sentence.
    """

    sentence = traitlets.Unicode("").tag(state=True)
    layer = Whole(0).tag(state=True)
    head = Whole(0).tag(state=True)
    query_index = Whole(1).tag(state=True)

    tokens = traitlets.List(read_only=True).tag(result=True)
    weights = traitlets.Any(np.zeros((0, 0)), read_only=True).tag(result=True)
    entropy = traitlets.Any(np.zeros(0), read_only=True).tag(result=True)
    colour_limits = traitlets.Tuple(LIMITS, read_only=True).tag(result=True)

    def __init__(self, sentence=DEFAULT_SENTENCE, *, model=None, layer=0, head=0, query=None):
        if not isinstance(sentence, str):
            raise TypeError(f"sentence must be a str, not {type(sentence).__name__}")
        if model is None:
            from course_lib.pretrained import load_pretrained

            model = load_pretrained()
        if not hasattr(model, "run") or not hasattr(model, "n_heads"):
            raise TypeError(f"model must come from load_pretrained(), not {type(model).__name__}")
        self._model, self._run = model, None
        super().__init__("course-heads-explorer")
        wide = {"description_width": "initial"}
        self.controls = {
            "sentence": widgets.Text(
                description="Sentence:",
                placeholder="type a sentence, then press Enter",
                continuous_update=False,
                layout=widgets.Layout(width="min(100%, 36em)"),
                style=wide,
            ),
            "layer": widgets.IntSlider(min=0, max=model.n_layers - 1, description="layer"),
            "head": widgets.IntSlider(min=0, max=model.n_heads - 1, description="head"),
            "query": widgets.Dropdown(description="query token:", options=[], style=wide),
        }
        self.link("sentence", self.controls["sentence"], keep_typed=True)
        self.link("layer", self.controls["layer"])
        self.link("head", self.controls["head"])
        self.link("query_index", self.controls["query"], to_control=lambda i: i)
        self._tokens_line = widgets.HTML().add_class("course-explorer-words")
        wrap = widgets.Layout(flex_flow="row wrap", align_items="center")
        c = self.controls
        self.children = [
            c["sentence"],
            widgets.HBox([c["layer"], c["head"], c["query"]], layout=wrap),
            self._status,
            self._tokens_line,
            self._style,
            self._view,
        ]
        self.start(sentence=sentence, layer=layer, head=head, query_index=1)
        self.start_at_query(query)

    # -- checks, one per state value --------------------------------------------------------

    @traitlets.validate("layer")
    def _check_layer(self, proposal):
        return check_whole(proposal["value"], "layer", 0, self._model.n_layers - 1)

    @traitlets.validate("head")
    def _check_head(self, proposal):
        return check_whole(proposal["value"], "head", 0, self._model.n_heads - 1)

    @traitlets.validate("query_index")
    def _check_query_index(self, proposal):
        last = len(self.tokens) - 1 if self.tokens and not self._quiet else None  # quiet: computing
        return check_whole(proposal["value"], "query_index", 0, last)

    @property
    def query(self):
        """The token whose row is drawn as bars; set a token of the sentence or an index."""
        return self.tokens[self.query_index] if self.tokens else None

    @query.setter
    def query(self, value):
        self.query_index = find_query(value, self.tokens)

    # -- the state, computed ----------------------------------------------------------------

    def _model_run(self):
        """Return the model's run on the sentence (kept for the last sentence)."""
        if self._run is None or self._run[0] != self.sentence:
            tokens = self._model.tokenize(self.sentence)
            if len(tokens) > MAX_TOKENS:
                raise InputProblem(
                    f"This sentence gives {len(tokens)} tokens; at most {MAX_TOKENS} fit the "
                    "picture. Try a shorter one."
                )
            self._run = (self.sentence, self._model.run(self.sentence))
        return self._run[1]

    def _compute(self):
        run = self._model_run()
        tokens = list(run.tokens)
        if tokens != self.tokens:  # a new sentence: the first token after [CLS]
            self.query_index = min(1, len(tokens) - 1)
        elif self.query_index >= len(tokens):
            raise InputProblem(f"Choose a query token from the list, not {self.query_index}.")
        weights = np.asarray(run.weights[self.layer, self.head], dtype=np.float64)  # (T, T)
        return {"tokens": tokens, "weights": weights, "entropy": attention_entropy(weights)}

    def _refresh(self):
        labels = [
            (f"{t} (token {i})" if self.tokens.count(t) > 1 else t, i)
            for i, t in enumerate(self.tokens)
        ]
        if list(self.controls["query"].options) != labels:
            self.controls["query"].options = labels
        shown = " · ".join(html.escape(t) for t in self.tokens)
        self._tokens_line.value = f"<b>tokens:</b> {shown}"

    # -- the picture ------------------------------------------------------------------------

    def _picture(self):
        title = f"layer {self.layer}, head {self.head} (scores ÷ √{self._model.d_head})"
        label = plotting.colour_bar_label("fixed", LIMITS)
        return dict(query_index=self.query_index, title=title, limits=LIMITS, colour_label=label)

    def _view_html(self):
        return attention_html(self.weights, self.tokens, **self._picture()) if self.tokens else ""

    def _summary_text(self):
        if not self.tokens:
            return ""
        where = f"layer {self.layer}, head {self.head}"
        return looks_most_at(where, self.weights, self.tokens, self.query_index)

    def _alt_text(self):
        return (
            f"Attention weights of layer {self.layer}, head {self.head} of the trained model "
            f"over the {len(self.tokens)} tokens of {self.sentence!r}: a heatmap (rows = query "
            "token, columns = attended-to token, colours fixed 0 to 1) and bars of where "
            f"{self.query!r} looks. {self._summary_text()}."
        )

    def _numbers(self):
        from course_lib.figures import numbers_table

        caption = f"Attention weights, layer {self.layer}, head {self.head} (rows: query token)"
        return numbers_table(caption, self.tokens, self.tokens, self.weights, corner="query")

    def _png_key(self):
        return (self.sentence, self.layer, self.head, self.query_index)

    def _png_figure(self):
        return attention_png(self.weights, self.tokens, **self._picture()) if self.tokens else b""

    def _plain_text(self):
        return (
            f"HeadExplorer(layer {self.layer}, head {self.head}, tokens={self.tokens!r}; "
            "run the notebook to interact)"
        )


def head_explorer(sentence=DEFAULT_SENTENCE, *, model=None, layer=0, head=0, query=None):
    """Build an interactive view of one head of the trained model on one sentence.

    The arguments, attributes and errors are those of :class:`HeadExplorer`.

    Examples
    --------
    >>> explorer = head_explorer("The cat sat.", layer=0, head=2)
    >>> explorer.tokens
    ['[CLS]', 'the', 'cat', 'sat', '.', '[SEP]']
    >>> explorer.head = 3          # redraws; the slider follows
    >>> explorer.controls["head"].value
    3
    >>> explorer.colour_limits
    (0.0, 1.0)
    """
    return HeadExplorer(sentence, model=model, layer=layer, head=head, query=query)
