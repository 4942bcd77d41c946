"""The explorers' saved pictures: matplotlib PNGs for viewers that run no kernel.

GitHub and nbviewer show a notebook's saved outputs, where a live explorer is only a widget
reference. Each explorer therefore also saves a PNG of its view, drawn here when the
notebook asks for the output (never at each redraw), with the colours and labels of the live
HTML view (:mod:`course_lib.explorer_view`): both come from :mod:`course_lib.plotting`.
matplotlib is imported inside :func:`figure_png`, outside pyplot (no global state).
"""

from __future__ import annotations

from course_lib import plotting

__all__ = ["attention_png", "figure_png"]


def attention_png(weights, words, *, query_index, title, limits=(0.0, 1.0), colour_label=""):
    """Draw :func:`attention_html`'s heatmap and bars with matplotlib; return PNG bytes."""
    side = min(max(3.6, 0.45 * len(words) + 1.8), 12.0)

    def draw(fig):
        heat_ax, bar_ax = fig.subplots(1, 2, width_ratios=[1.25, 1])
        plotting.plot_attention(
            weights, words, ax=heat_ax, vmin=limits[0], vmax=limits[1],
            cbar_label=colour_label, title=title,
        )  # fmt: skip
        row, query = weights[query_index], words[query_index]
        plotting.plot_attention_row(row, words, query_word=query, ax=bar_ax)

    return figure_png(draw, (2.1 * side + 1.5, side))


def figure_png(draw, size):
    """PNG bytes of a matplotlib Figure (outside pyplot) that ``draw(fig)`` fills."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from course_lib.figures import DPI, png_bytes  # 256 colours: a third of the bytes

    fig = Figure(figsize=size, dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    draw(fig)
    return png_bytes(fig)
