"""The layout check: what makes a figure hard to read on a screen or a projector.

:func:`layout_problems` draws a figure with the Agg renderer and lists two texts that
overlap or come closer than a quarter of their font size ("0.760.010.00"), a text cut off at
the figure's edge or smaller than 10 points, and a legend over a plotted line, marker, bar,
mesh or image. :func:`course_lib.figures.show_figure` runs it when the environment variable
``COURSE_CHECK_FIGURES=1`` is set (the notebook tests set it, at normal size and in lecture
mode).
"""

import numpy as np

from course_lib.figure_text import as_figure, panels

__all__ = ["layout_problems"]

MIN_POINTS = 10.0  # no text smaller than this (house style: legible on a projector)
GAP = 0.25  # two texts closer than this many font sizes run together ("0.760.010.00")


def _drawn_texts(fig):
    """Return every non-empty text the figure draws (tick labels of drawn ticks only)."""
    texts = list(fig.texts)
    for ax in fig.axes:
        if not ax.get_visible():
            continue
        for axis in (ax.xaxis, ax.yaxis) if ax.axison else ():
            if not axis.get_visible():
                continue
            for tick in axis._update_ticks():  # the ticks the next draw will draw
                texts += [tick.label1, tick.label2]
            texts += [axis.label, axis.get_offset_text()]
        texts += [ax.title, *ax.texts]
        legend = ax.get_legend()
        if legend is not None:
            texts += [*legend.get_texts(), legend.get_title()]
    for legend in fig.legends:
        texts += [*legend.get_texts(), legend.get_title()]
    if getattr(fig, "_suptitle", None) is not None:
        texts.append(fig._suptitle)
    return [t for t in texts if t.get_visible() and t.get_text().strip()]


def _overlap(a, b, slack=0.5):
    """Return whether two display boxes overlap by more than ``slack`` pixels both ways."""
    width = min(a.x1, b.x1) - max(a.x0, b.x0)
    height = min(a.y1, b.y1) - max(a.y0, b.y0)
    return width > slack and height > slack


def _data_under(legend, fig, renderer):
    """Return a description of the first plotted data a legend covers, or None."""
    box = legend.get_window_extent(renderer)
    for _, ax in panels(fig):
        for line in ax.lines:
            points = line.get_transform().transform(np.asarray(line.get_xydata(), dtype=float))
            points = points[np.isfinite(points).all(axis=1)]  # (n, 2) pixels
            if line.get_linestyle() not in ("", "None") and len(points) > 1:
                steps = np.linspace(0.0, 1.0, 25)[:, None, None]  # points along each segment
                along = points[:-1] + steps * (points[1:] - points[:-1])  # (25, n - 1, 2)
                points = np.vstack([points, along.reshape(-1, 2)])
            marked = line.get_marker() not in ("", "None", None)
            pad = (line.get_markersize() if marked else line.get_linewidth()) * fig.dpi / 144
            inside = (
                (points[:, 0] > box.x0 - pad)
                & (points[:, 0] < box.x1 + pad)
                & (points[:, 1] > box.y0 - pad)
                & (points[:, 1] < box.y1 + pad)
            )
            if inside.any():
                return f"line {line.get_label()!r}"
        for artist in [*ax.patches, *ax.collections, *ax.images]:
            if _overlap(box, artist.get_window_extent(renderer)):
                return f"{type(artist).__name__}"
    return None


def layout_problems(figure):
    """Return what makes a figure hard to read; an empty list when nothing does.

    Checks, on the figure as drawn by the Agg renderer: no two texts overlap or come closer
    than a quarter of their font size (titles, axis and tick labels, numbers in cells, legend
    entries, colour-bar labels); every text lies
    inside the figure and is at least 10 points; no legend covers a plotted line, marker,
    bar, mesh or image.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots()
    >>> ax.set_axis_off()
    >>> _ = ax.text(0.5, 0.5, "one"), ax.text(0.5, 0.5, "two")
    >>> layout_problems(fig)
    ["texts overlap: 'one' and 'two'"]
    """
    fig = as_figure(figure)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    texts = _drawn_texts(fig)
    boxes = [t.get_window_extent(renderer) for t in texts]
    problems = []
    frame = fig.bbox
    for text, box in zip(texts, boxes, strict=True):
        if text.get_fontsize() < MIN_POINTS - 1e-9:
            problems.append(f"text {text.get_text()!r} is {text.get_fontsize():g} pt")
        if (
            box.x0 < frame.x0 - 1
            or box.y0 < frame.y0 - 1
            or box.x1 > frame.x1 + 1
            or (box.y1 > frame.y1 + 1)
        ):
            problems.append(f"text {text.get_text()!r} is cut off at the edge of the figure")
    if boxes:
        # Each text keeps a margin of GAP times its font size: touching texts also collide.
        margin = np.array([GAP * t.get_fontsize() * fig.dpi / 72 / 2 for t in texts])
        corners = np.array([[b.x0, b.y0, b.x1, b.y1] for b in boxes])  # (n_texts, 4)
        corners += np.outer(margin, [-1, -1, 1, 1])
        low, high = corners[:, :2], corners[:, 2:]
        width = np.minimum.outer(high[:, 0], high[:, 0]) - np.maximum.outer(low[:, 0], low[:, 0])
        height = np.minimum.outer(high[:, 1], high[:, 1]) - np.maximum.outer(low[:, 1], low[:, 1])
        for i, j in zip(*np.nonzero(np.triu((width > 0) & (height > 0), k=1)), strict=True):
            problems.append(f"texts overlap: {texts[i].get_text()!r} and {texts[j].get_text()!r}")
    legends = [ax.get_legend() for ax in fig.axes if ax.get_legend() is not None]
    for legend in legends + list(fig.legends):
        covered = _data_under(legend, fig, renderer)
        if covered:
            problems.append(f"the legend covers plotted data ({covered})")
    return problems
