"""The d_k explorer: why Transformers divide the scores by sqrt(d_k), and what it does not fix.

Random queries and keys with independent standard-normal entries: a score q . k is a sum of
d_k unit-variance terms, so its spread (standard deviation) grows like sqrt(d_k). The
explorer divides the scores by 1, sqrt(d_k) or d_k and shows, side by side, the weights
before and after, the entropy of the rows and the size of the gradient that reaches the
scores. The "keys = queries" box shows the case scaling does not fix: with K = Q each
query's score with itself is its squared length, about d_k, so after dividing by sqrt(d_k)
it still grows like sqrt(d_k) and the rows turn one-hot on the diagonal.

The weights come from :func:`course_lib.attention.scaled_dot_product_attention`. The size of
the gradient is *measured*, by differentiating the loss numerically (the complex step), not
computed from a formula: the formula is what notebooks 03 and 04 ask the student to derive.
"""

from __future__ import annotations

import math

import ipywidgets as widgets
import traitlets

from course_lib import plotting
from course_lib.dk_experiment import DIVIDE_BY, divisor, draw, measure
from course_lib.explorer_base import Explorer, Flag, Whole
from course_lib.explorer_inputs import InputProblem, check_choice, check_whole
from course_lib.explorer_png import figure_png
from course_lib.explorer_view import (
    STYLE,
    heatmap_html,
    narrow_style,
    table_html,
    view_html,
)

__all__ = ["DkExplorer", "dk_explorer", "D_K_CHOICES", "DIVIDE_BY"]

D_K_CHOICES = tuple(2**i for i in range(11))  # 1, 2, 4, ..., 1024
_DIVIDE_LABELS = {"1": "÷ 1", "sqrt(d_k)": "÷ √d_k", "d_k": "÷ d_k"}
_CELL = (2.7, 1.8)  # em: a heatmap cell with its number, small enough for two side by side
_NARROW_CELL = 1.2  # em: a cell without its number, when the page is narrow (150% zoom)
_AXES = ("query", "key")  # rows and columns: random vectors, not words
_LABELS_EM = 3.8  # em: a heatmap's axis label and row labels ("q10")


class DkExplorer(Explorer):
    """Random queries and keys: the divisor's effect on the weights and on the gradient.

    Build it with :func:`dk_explorer`. Every state attribute can be read and set; setting
    one redraws (``explorer.d_k = 256``) and moves its control.

    Each setting draws ``samples`` independent examples of ``seq_len`` queries, keys and
    values of size d_k (standard normal, from ``np.random.default_rng(seed)``; with
    ``same_qk`` the keys are the queries). The scores Q K^T are divided by the divisor and
    turned into weights A by a softmax.

    Attributes
    ----------
    d_k : int
        One of 1, 2, 4, ..., 1024.
    divide_by : {"1", "sqrt(d_k)", "d_k"}
    same_qk : bool
        Keys = queries.
    seed : int
        Seed of the random vectors (>= 0); "new random vectors" adds 1.
    divisor : float
        Read-only: the number the scores are divided by.
    weights : ndarray of shape (seq_len, seq_len)
        Read-only: the weights of the first example with the chosen divisor (the right
        heatmap); ``weights_unscaled`` is the same example divided by 1 (the left heatmap).
    entropy : float
        Read-only: mean entropy of the rows over all examples, in nats (ln seq_len = uniform).
    grad_norm : float
        Read-only: the size of the gradient that reaches the scores. Each example gets a loss
        through the attention output, L = sum(G * (A V)), with a fixed random upstream
        gradient G (standard normal, seeded) and random values V of size ``D_V`` = 8 (the
        same at every d_k, so only the softmax changes); grad_norm is the median, over every
        row of every example, of the Euclidean norm of dL/dS for that row, where S = the
        scores after division (the softmax's input), measured numerically. A saturated
        (one-hot) row passes almost nothing back, whatever G is: that is the vanishing
        gradient of unscaled scores.
    table : dict
        Read-only: for each of "1", "sqrt(d_k)", "d_k": (score std, entropy, mean largest
        weight, grad_norm) at the current d_k and same_qk, so the three can be compared.
    colour_limits : (0.0, 1.0)
        Both heatmaps always use the fixed colour scale.
    status : str
    controls : dict of ipywidgets
        ``"d_k"`` (SelectionSlider), ``"divide_by"`` (ToggleButtons), ``"same_qk"``
        (Checkbox), ``"resample"`` (Button: new random vectors).
    """

    colour_limits = (0.0, 1.0)

    d_k = Whole(64).tag(state=True)
    divide_by = traitlets.Unicode("sqrt(d_k)").tag(state=True)
    same_qk = Flag(False).tag(state=True)
    seed = Whole(0).tag(state=True)

    divisor = traitlets.Float(8.0, read_only=True).tag(result=True)
    weights = traitlets.Any(None, read_only=True).tag(result=True)
    weights_unscaled = traitlets.Any(None, read_only=True).tag(result=True)
    entropy = traitlets.Float(0.0, read_only=True).tag(result=True)
    grad_norm = traitlets.Float(0.0, read_only=True).tag(result=True)
    score_std = traitlets.Float(0.0, read_only=True).tag(result=True)
    table = traitlets.Dict(read_only=True).tag(result=True)

    def __init__(self, d_k=64, *, seq_len=10, seed=0, samples=None, divide_by="sqrt(d_k)"):
        _check_d_k(d_k)
        check_whole(seed, "seed", 0)
        check_choice(divide_by, DIVIDE_BY, "divide_by")
        self.seq_len = check_whole(seq_len, "seq_len", 2, 64)
        if samples is None:
            samples = max(8, math.ceil(4096 / self.seq_len**2))
        self.samples = check_whole(samples, "samples", 1, 4096)
        self._draws = {}  # (d_k, seed) -> (queries, keys, values, upstream)
        self._measured = {}  # (d_k, same_qk, seed) -> results for each divisor
        super().__init__("course-dk-explorer")
        c = self.controls = {
            "d_k": widgets.SelectionSlider(
                options=list(D_K_CHOICES),
                description="d_k",
                continuous_update=True,
                layout=widgets.Layout(width="min(100%, 30em)"),
            ),
            "divide_by": widgets.ToggleButtons(
                options=[(_DIVIDE_LABELS[key], key) for key in DIVIDE_BY], description="scores"
            ),
            "same_qk": widgets.Checkbox(description="keys = queries (K = Q)"),
            "resample": widgets.Button(
                description="new random vectors", layout=widgets.Layout(width="auto")
            ),
        }
        for name in ("d_k", "divide_by", "same_qk"):
            self.link(name, c[name])
        c["resample"].on_click(lambda _: self.propose("seed", self.seed + 1))
        wrap = widgets.Layout(flex_flow="row wrap", align_items="center")
        self.children = [
            widgets.HBox([c["d_k"], c["divide_by"]], layout=wrap),
            widgets.HBox([c["same_qk"], c["resample"]], layout=wrap),
            self._status,
            self._style,
            self._view,
        ]
        # both heatmaps side by side at 1366x768 and at 150% zoom: smaller cells when narrow
        sized = f"course-dk-seq{self.seq_len}"
        self.add_class(sized)
        wide = 2 * (_LABELS_EM + self.seq_len * _CELL[0]) + 2.5  # two heatmaps and the gap
        self._style.value = STYLE + narrow_style(sized, wide + 1.0, _NARROW_CELL)
        self.start(d_k=d_k, divide_by=divide_by, same_qk=False, seed=seed)

    @traitlets.validate("d_k")
    def _check_d_k(self, proposal):
        return _check_d_k(proposal["value"])

    @traitlets.validate("divide_by")
    def _check_divide_by(self, proposal):
        return check_choice(proposal["value"], DIVIDE_BY, "divide_by")

    @traitlets.validate("seed")
    def _check_seed(self, proposal):
        return check_whole(proposal["value"], "seed", 0)

    # -- the state, computed ----------------------------------------------------------------------

    def _measure(self):
        """Return the weights and numbers for each divisor at this d_k, same_qk and seed."""
        key = (self.d_k, self.same_qk, self.seed)
        if key not in self._measured:
            draw_key = (self.d_k, self.seed)
            if draw_key not in self._draws:  # keep one setting's vectors: 3 MB at d_k = 1024
                self._draws = {draw_key: draw(self.d_k, self.seq_len, self.samples, self.seed)}
            results = measure(*self._draws[draw_key], same_qk=self.same_qk)
            self._measured = {key: results}  # one setting kept: the divisor toggle is instant
        return self._measured[key]

    def _compute(self):
        results = self._measure()
        chosen = results[self.divide_by]
        return {
            "divisor": divisor(self.divide_by, self.d_k),
            "weights": chosen["weights"][0],
            "weights_unscaled": results["1"]["weights"][0],
            "entropy": chosen["entropy"],
            "grad_norm": chosen["grad_norm"],
            "score_std": chosen["score_std"],
            "table": {
                key: (r["score_std"], r["entropy"], r["max_weight"], r["grad_norm"])
                for key, r in results.items()
            },
        }

    # -- the picture ------------------------------------------------------------------------------

    def _labels(self):
        return [f"q{i + 1}" for i in range(self.seq_len)], [
            f"k{i + 1}" for i in range(self.seq_len)
        ]

    def _titles(self):
        chosen = _DIVIDE_LABELS[self.divide_by]
        right = chosen if self.divide_by == "1" else f"{chosen} = {self.divisor:.4g}"
        return f"scores ÷ 1, d_k = {self.d_k}", f"scores {right}"

    def _view_html(self):
        queries, keys = self._labels()
        label = plotting.colour_bar_label("fixed")
        left_title, right_title = self._titles()
        maps = [
            heatmap_html(
                w,
                queries,
                keys,
                limits=(0.0, 1.0),
                colour_label=label,
                title=t,
                cell=_CELL,
                axes=_AXES,
            )
            for w, t in ((self.weights_unscaled, left_title), (self.weights, right_title))
        ]
        rows = []
        for key in DIVIDE_BY:
            std, entropy, top, grad = self.table[key]
            rows.append([_DIVIDE_LABELS[key], f"{std:.2f}", f"{entropy:.2f}", f"{top:.2f}"])
            rows[-1].append(f"{grad:.3g}")
        header = ["scores", "spread (std)", "entropy", "largest weight", "gradient to scores"]
        kind = "K = Q" if self.same_qk else "independent Q, K"
        note = (
            f"d_k = {self.d_k}, {kind}, {self.samples} examples of {self.seq_len} words. "
            f"Entropy in nats, mean over rows (uniform = ln {self.seq_len} = "
            f"{math.log(self.seq_len):.2f}). Gradient to scores: median over rows of the norm "
            "of dL/dscores for a loss through the attention output."
        )
        highlight = DIVIDE_BY.index(self.divide_by)
        caption = f"The three divisors compared at d_k = {self.d_k}"
        numbers = table_html(header, rows, highlight=highlight, note=note, caption=caption)
        return view_html(maps, numbers)

    def _summary_text(self):
        if self.weights is None:
            return ""
        _, entropy, top, grad = self.table[self.divide_by]
        return (
            f"d_k = {self.d_k}, scores ÷ {self.divisor:.4g}: entropy {entropy:.2f} nats "
            f"(even = {math.log(self.seq_len):.2f}), largest weight {top:.2f} on average, "
            f"gradient to scores {grad:.3g}"
        )

    def _alt_text(self):
        kind = "keys = queries" if self.same_qk else "independent random queries and keys"
        left, right = self._titles()
        return (
            f"Two heatmaps of attention weights over {self.seq_len} {kind} of size d_k = "
            f"{self.d_k} (rows = query, columns = key, colours fixed 0 to 1): {left} and "
            f"{right}. {self._summary_text()}."
        )

    def _numbers(self):
        from course_lib.figures import numbers_table

        queries, keys = self._labels()
        parts = [
            numbers_table(f"Attention weights, {title}", keys, queries, weights, corner="query")
            for title, weights in zip(
                self._titles(), (self.weights_unscaled, self.weights), strict=True
            )
        ]
        return "".join(h for h, _ in parts), "\n\n".join(t for _, t in parts)

    def _png_key(self):
        return (self.d_k, self.divide_by, self.same_qk, self.seed)

    def _png_figure(self):
        from course_lib.plotting import plot_attention

        queries, keys = self._labels()
        titles = self._titles()

        def draw(fig):
            for ax, weights, title in zip(
                fig.subplots(1, 2), (self.weights_unscaled, self.weights), titles, strict=True
            ):
                plot_attention(
                    weights,
                    queries,
                    keys,
                    ax=ax,
                    vmax=1.0,
                    cbar_label=plotting.colour_bar_label("fixed"),
                    title=title,
                )
                ax.set_ylabel(_AXES[0])
                ax.set_xlabel(_AXES[1])

        return figure_png(draw, (12.0, 5.2))

    def _plain_text(self):
        return (
            f"DkExplorer(d_k={self.d_k}, scores ÷ {self.divisor:.4g}: entropy "
            f"{self.entropy:.2f}; run the notebook to interact)"
        )


def _check_d_k(value):
    value = check_whole(value, "d_k", 1, D_K_CHOICES[-1])
    if value not in D_K_CHOICES:
        raise InputProblem(f"d_k must be a power of two from 1 to 1024, not {value}")
    return value


def dk_explorer(d_k=64, *, seq_len=10, seed=0, samples=None, divide_by="sqrt(d_k)"):
    """Build an interactive view of why attention divides the scores by sqrt(d_k).

    Parameters
    ----------
    d_k : int, default 64
        The first d_k; a power of two from 1 to 1024.
    seq_len : int, default 10
        Queries and keys per example (2 to 64).
    seed : int, default 0
        Seed of ``np.random.default_rng`` (>= 0); "new random vectors" adds 1 to it.
    samples : int, optional
        Examples per setting (1 to 4096); default enough for about 4096 weights,
        at least 8.
    divide_by : {"1", "sqrt(d_k)", "d_k"}, default "sqrt(d_k)"
        The first divisor.

    Returns
    -------
    DkExplorer
        An ``ipywidgets.VBox``; its ``.entropy``, ``.grad_norm`` and ``.table`` follow the
        controls and the attributes.

    Raises
    ------
    TypeError
        For an argument that is not a whole number (``divide_by``: not a str).
    ValueError
        For a ``d_k`` that is not a power of two from 1 to 1024, ``seq_len`` outside 2-64,
        a negative ``seed``, ``samples`` outside 1-4096, or an unknown ``divide_by``.

    Examples
    --------
    >>> explorer = dk_explorer(d_k=256)
    >>> explorer.divide_by = "1"
    >>> unscaled = explorer.entropy
    >>> explorer.divide_by = "sqrt(d_k)"
    >>> unscaled < explorer.entropy
    True
    """
    return DkExplorer(d_k, seq_len=seq_len, seed=seed, samples=samples, divide_by=divide_by)
