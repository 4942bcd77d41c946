"""The d_k explorer: why Transformers divide the scores by sqrt(d_k), and what it does not fix.

Random queries and keys with independent standard-normal entries: a score q . k is a sum of
d_k unit-variance terms, so its spread (standard deviation) grows like sqrt(d_k). The
explorer divides the scores by 1, sqrt(d_k) or d_k and shows, side by side, the weights
before and after, the entropy of the rows and the size of the gradient that reaches the
scores. The "keys = queries" box shows the case scaling does not fix: with K = Q each
query's score with itself is its squared length, about d_k, so after dividing by sqrt(d_k)
it still grows like sqrt(d_k) and the rows turn one-hot on the diagonal.
"""

from __future__ import annotations

import math

import ipywidgets as widgets
import numpy as np

from course_lib import plotting
from course_lib.explorer_view import Explorer, figure_png, heatmap_html, table_html, view_html

__all__ = ["DkExplorer", "dk_explorer", "D_K_CHOICES", "DIVIDE_BY"]

D_K_CHOICES = tuple(2**i for i in range(11))  # 1, 2, 4, ..., 1024
DIVIDE_BY = ("1", "sqrt(d_k)", "d_k")
D_V = 8  # size of the random values in the gradient measurement
_DIVIDE_LABELS = {"1": "÷ 1", "sqrt(d_k)": "÷ √d_k", "d_k": "÷ d_k"}


def _divisor(divide_by, d_k):
    return {"1": 1.0, "sqrt(d_k)": math.sqrt(d_k), "d_k": float(d_k)}[divide_by]


def score_gradient(weights, values, upstream):
    """dL/dscores for L = sum(upstream * (weights @ values)), through the softmax.

    Parameters
    ----------
    weights : ndarray of shape (..., seq_q, seq_k)
        softmax of the scores (the scores already divided by the divisor).
    values : ndarray of shape (..., seq_k, d_v)
    upstream : ndarray of shape (..., seq_q, d_v)
        dL/doutput.

    Returns
    -------
    ndarray of shape (..., seq_q, seq_k)
    """
    grad_weights = upstream @ np.swapaxes(values, -1, -2)  # (..., seq_q, seq_k)
    inner = (weights * grad_weights).sum(axis=-1, keepdims=True)  # (..., seq_q, 1)
    return weights * (grad_weights - inner)


class DkExplorer(Explorer):
    """Random queries and keys: the divisor's effect on the weights and on the gradient.

    Build it with :func:`dk_explorer`.

    Each setting draws ``samples`` independent examples of ``seq_len`` queries, keys and
    values of size d_k (standard normal, from ``np.random.default_rng(seed)``; with
    ``same_qk`` the keys are the queries). The scores Q K^T are divided by the divisor and
    turned into weights A by a softmax.

    Attributes
    ----------
    controls : dict of ipywidgets
        ``"d_k"`` (SelectionSlider over 1, 2, 4, ..., 1024), ``"divide_by"``
        (ToggleButtons "1", "sqrt(d_k)", "d_k"), ``"same_qk"`` (Checkbox: keys = queries),
        ``"resample"`` (Button: new random vectors).
    d_k : int
    divide_by : str
        "1", "sqrt(d_k)" or "d_k".
    divisor : float
        The number the scores are divided by.
    same_qk : bool
    weights : ndarray of shape (seq_len, seq_len)
        The weights of the first example with the chosen divisor (the right heatmap);
        ``weights_unscaled`` is the same example divided by 1 (the left heatmap).
    entropy : float
        Mean entropy of the rows over all examples, in nats (ln seq_len = uniform).
    grad_norm : float
        The size of the gradient that reaches the scores. Each example gets a loss through
        the attention output, L = sum(G * (A V)), with a fixed random upstream gradient G
        (standard normal, seeded) and random values V of size ``D_V`` = 8 (the same at every
        d_k, so only the softmax changes); grad_norm is the median, over every
        row of every example, of the Euclidean norm of dL/dS for that row, where S = the
        scores after division (the softmax's input). A saturated (one-hot) row passes almost
        nothing back, whatever G is: that is the vanishing gradient of unscaled scores.
    table : dict
        For each of "1", "sqrt(d_k)", "d_k": (score std, entropy, mean largest weight,
        grad_norm) at the current d_k and same_qk, so the three can be compared.
    colour_limits : (0.0, 1.0)
        Both heatmaps always use the fixed colour scale.
    status : str
    """

    colour_limits = (0.0, 1.0)

    def __init__(self, d_k=64, *, seq_len=10, seed=0, samples=None):
        super().__init__()
        if d_k not in D_K_CHOICES:
            raise ValueError(f"d_k must be one of {D_K_CHOICES}, got {d_k!r}")
        if not (isinstance(seq_len, (int, np.integer)) and 2 <= seq_len <= 64):
            raise ValueError(f"seq_len must be an integer from 2 to 64, got {seq_len!r}")
        self._setup_view("course-dk-explorer")
        self.seq_len, self.seed = int(seq_len), int(seed)
        self.samples = samples or max(8, math.ceil(4096 / self.seq_len**2))
        self._draws = {}  # (d_k, seed) -> (queries, keys, values, upstream)
        self._busy = False
        self.controls = {
            "d_k": widgets.SelectionSlider(
                options=list(D_K_CHOICES),
                value=d_k,
                description="d_k",
                continuous_update=True,
                layout=widgets.Layout(width="min(100%, 30em)"),
            ),
            "divide_by": widgets.ToggleButtons(
                options=[(_DIVIDE_LABELS[key], key) for key in DIVIDE_BY],
                value="sqrt(d_k)",
                description="scores",
            ),
            "same_qk": widgets.Checkbox(value=False, description="keys = queries (K = Q)"),
            "resample": widgets.Button(description="new random vectors"),
        }
        wrap = widgets.Layout(flex_flow="row wrap", align_items="center")
        c = self.controls
        self.children = [
            widgets.HBox([c["d_k"], c["divide_by"]], layout=wrap),
            widgets.HBox([c["same_qk"], c["resample"]], layout=wrap),
            self._status,
            self._style,
            self._view,
        ]
        for name in ("d_k", "divide_by", "same_qk"):
            c[name].observe(self._on_change, names="value")
        c["resample"].on_click(self._on_resample)
        self._good = None
        self._update()

    def _draw_vectors(self, d_k):
        key = (d_k, self.seed)
        if key not in self._draws:
            self._draws.clear()  # keep one setting's vectors: d_k = 1024 is 3 MB a tensor
            rng = np.random.default_rng(self.seed)
            shape = (self.samples, self.seq_len, d_k)
            queries, keys = rng.standard_normal((2, *shape))  # each (samples, seq, d_k)
            # values and dL/doutput have a fixed size D_V, so only the softmax changes with d_k
            values, upstream = rng.standard_normal((2, self.samples, self.seq_len, D_V))
            self._draws[key] = (queries, keys, values, upstream)
        return self._draws[key]

    def _measure(self, d_k, same_qk):
        """Weights and numbers for each divisor at this d_k (and the raw weights)."""
        from course_lib.attention import attention_entropy, softmax

        queries, keys, values, upstream = self._draw_vectors(d_k)
        if same_qk:
            keys = queries
        raw = queries @ np.swapaxes(keys, -1, -2)  # (samples, seq_q, seq_k)
        results = {}
        for divide_by in DIVIDE_BY:
            scores = raw / _divisor(divide_by, d_k)  # (samples, seq_q, seq_k)
            weights = softmax(scores, axis=-1)
            grad = score_gradient(weights, values, upstream)  # (samples, seq_q, seq_k)
            results[divide_by] = {
                "weights": weights,
                "score_std": float(scores.std()),
                "entropy": float(attention_entropy(weights).mean()),
                "max_weight": float(weights.max(axis=-1).mean()),
                "grad_norm": float(np.median(np.linalg.norm(grad, axis=-1))),
            }
        return results

    def _update(self):
        c = self.controls
        try:
            d_k, divide_by, same_qk = int(c["d_k"].value), c["divide_by"].value, c["same_qk"].value
            if divide_by not in DIVIDE_BY:
                raise ValueError(f"divide_by must be one of {DIVIDE_BY}, got {divide_by!r}")
            results = self._measure(d_k, bool(same_qk))
        except Exception as err:  # noqa: BLE001 - any failure: message, last good state
            self._restore_controls()
            self._set_status(
                f"Could not update the view ({type(err).__name__}: {str(err)[:200]}). "
                "The view shows the last setting that worked."
            )
            return
        chosen = results[divide_by]
        self.d_k, self.divide_by, self.same_qk = d_k, divide_by, bool(same_qk)
        self.divisor = _divisor(divide_by, d_k)
        self.weights = chosen["weights"][0]
        self.weights_unscaled = results["1"]["weights"][0]
        self.entropy, self.grad_norm = chosen["entropy"], chosen["grad_norm"]
        self.score_std = chosen["score_std"]
        self.table = {
            key: (r["score_std"], r["entropy"], r["max_weight"], r["grad_norm"])
            for key, r in results.items()
        }
        self._good = (d_k, divide_by, bool(same_qk))
        self._set_status("")
        self._request_draw()

    def _restore_controls(self):
        if self._good is None:
            return
        self._busy = True
        try:
            for name, value in zip(("d_k", "divide_by", "same_qk"), self._good, strict=True):
                self.controls[name].value = value
        finally:
            self._busy = False

    def _on_change(self, change):
        if not self._busy:
            self._update()

    def _on_resample(self, _button=None):
        self.seed += 1
        self._update()

    # -- the picture ----------------------------------------------------------------------------

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
            heatmap_html(w, queries, keys, limits=(0.0, 1.0), colour_label=label, title=t)
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
        return view_html(maps, table_html(header, rows, highlight=highlight, note=note))

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

        return figure_png(draw, (12.0, 5.2))

    def _plain_text(self):
        return (
            f"DkExplorer(d_k={self.d_k}, scores ÷ {self.divisor:.4g}: entropy "
            f"{self.entropy:.2f}; run the notebook to interact)"
        )


def dk_explorer(d_k=64, *, seq_len=10, seed=0):
    """An interactive view of why attention divides the scores by sqrt(d_k).

    Parameters
    ----------
    d_k : int, default 64
        The first d_k; a power of two from 1 to 1024.
    seq_len : int, default 10
        Queries and keys per example (2 to 64).
    seed : int, default 0
        Seed of ``np.random.default_rng``; "new random vectors" adds 1 to it.

    Returns
    -------
    DkExplorer
        An ``ipywidgets.VBox``; its ``.entropy``, ``.grad_norm`` and ``.table`` follow the
        controls.

    Examples
    --------
    >>> explorer = dk_explorer(d_k=256)
    >>> explorer.controls["divide_by"].value = "1"
    >>> unscaled = explorer.entropy
    >>> explorer.controls["divide_by"].value = "sqrt(d_k)"
    >>> unscaled < explorer.entropy
    True
    """
    return DkExplorer(d_k, seq_len=seq_len, seed=seed)
