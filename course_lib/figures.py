"""Showing a figure for people: a text alternative, the numbers it plots, a layout check.

``show_figure(ax, "what it shows")`` is how every notebook of the course shows a figure. It
displays one output that carries:

- ``image/png``: the picture (100 dpi, 256 colours), with ``{"alt": ...}`` in the output's
  metadata (where IPython's ``Image(alt=...)`` and the Jupyter proposal for alt text put it);
- ``text/html``: the same picture as ``<img alt="...">`` (what JupyterLab, Notebook 7,
  Colab, nbconvert, nbviewer and GitHub render, so screen readers get the alt text there;
  none of them reads alt text from metadata), followed by a collapsed table of every number
  in the figure, with row and column headers and a caption;
- ``text/plain``: the alt text and the same table as text.

The alt text is the cell's sentence followed by a description built from the figure itself:
its kind, titles, axis labels and colour-bar label. Then the figure is closed, so the inline
backend does not show it a second time. :func:`image_bundle` builds the same output from PNG
bytes, for pictures drawn elsewhere (the explorers' snapshots).

:func:`layout_problems` lists what makes a figure hard to read: two texts that overlap, a
text outside the figure or smaller than 10 points, a legend over plotted data. With the
environment variable ``COURSE_CHECK_FIGURES=1`` (set by the notebook tests),
``show_figure`` raises when it finds any.

This module is the output; what a figure shows in words and numbers is
:mod:`course_lib.figure_text`, the layout check :mod:`course_lib.figure_layout`. Their public
names are importable from here too.
"""

import base64
import html
import io
import os

from course_lib.figure_layout import layout_problems
from course_lib.figure_text import as_figure, describe_figure, figure_tables, numbers_table

__all__ = [
    "png_bytes",
    "show_figure",
    "figure_bundle",
    "image_bundle",
    "compact_png",
    "numbers_table",
    "describe_figure",
    "layout_problems",
]

DPI = 100
CHECK_ENV = "COURSE_CHECK_FIGURES"
SUMMARY = "The numbers in this figure"


def image_bundle(png, alt, *, numbers_html="", numbers_text=""):
    """Return ``(data, metadata)`` of a display output: a PNG with alt text and its numbers.

    Use it in a ``_repr_mimebundle_`` or with ``IPython.display.display(data,
    metadata=metadata, raw=True)``.

    Parameters
    ----------
    png : bytes
        The picture.
    alt : str
        Its text alternative.
    numbers_html, numbers_text : str, optional
        The numbers the picture shows, e.g. from :func:`numbers_table`; the HTML goes in a
        collapsed ``<details>`` under the picture.

    Returns
    -------
    data : dict
        ``image/png``, ``text/html`` and ``text/plain``.
    metadata : dict
        ``{"image/png": {"alt": alt}}``.
    """
    if not alt or not alt.strip():
        raise ValueError("a figure needs a text alternative: say what it shows")
    encoded = base64.b64encode(png).decode("ascii")
    details = ""
    if numbers_html:
        details = f"<details><summary>{SUMMARY}</summary>{numbers_html}</details>"
    page = f'<img src="data:image/png;base64,{encoded}" alt="{html.escape(alt)}">{details}'
    text = alt + (f"\n\n{SUMMARY}:\n{numbers_text}" if numbers_text else "")
    data = {"image/png": encoded, "text/html": page, "text/plain": text}
    return data, {"image/png": {"alt": alt}}


def compact_png(png):
    """Return PNG bytes redrawn in 256 colours: about a third of the bytes, the same look.

    A figure's flat cells, lines and anti-aliased text need no more colours than that. When
    Pillow (a dependency of matplotlib) is missing, the PNG is returned as it is.

    Parameters
    ----------
    png : bytes

    Returns
    -------
    bytes
    """
    try:
        from PIL import Image
    except ImportError:
        return png
    image = Image.open(io.BytesIO(png)).convert("RGB").quantize(256, dither=Image.Dither.NONE)
    small = io.BytesIO()
    image.save(small, format="PNG", optimize=True)
    return small.getvalue()


def png_bytes(fig):
    """Return the figure as compact PNG bytes at ``DPI``."""
    drawn = io.BytesIO()
    fig.savefig(drawn, format="png", dpi=DPI)
    return compact_png(drawn.getvalue())


def figure_bundle(figure, alt):
    """Return ``(data, metadata)`` of the output :func:`show_figure` displays; close nothing.

    Parameters
    ----------
    figure : matplotlib Figure, Axes, or a list of Axes
    alt : str
        What the figure shows, in a sentence or two.

    Returns
    -------
    data, metadata : dict
        As :func:`image_bundle` returns them. The alt text is ``alt`` followed by
        :func:`describe_figure`; the numbers are every panel's, from the figure itself.

    Raises
    ------
    ValueError
        If ``alt`` is empty.
    AssertionError
        With ``COURSE_CHECK_FIGURES=1`` in the environment, if :func:`layout_problems` finds
        anything.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from course_lib.plotting import plot_attention
    >>> ax = plot_attention(np.eye(2), ["eat", "steak"])
    >>> data, metadata = figure_bundle(ax, "Each word looks only at itself.")
    >>> sorted(data), metadata["image/png"]["alt"][:31]
    (['image/png', 'text/html', 'text/plain'], 'Each word looks only at itself.')
    """
    fig = as_figure(figure)
    if not isinstance(alt, str) or not alt.strip():
        raise ValueError("show_figure needs alt: a sentence saying what the figure shows")
    png = png_bytes(fig)
    if os.environ.get(CHECK_ENV) == "1":
        problems = layout_problems(fig)
        if problems:
            raise AssertionError("the figure is hard to read: " + "; ".join(problems))
    tables = [numbers_table(*table) for table in figure_tables(fig)]
    return image_bundle(
        png,
        f"{alt.strip()} {describe_figure(fig)}",
        numbers_html="".join(h for h, _ in tables),
        numbers_text="\n\n".join(t for _, t in tables),
    )


def show_figure(figure, alt):
    """Show a figure with a text alternative and a table of its numbers, then close it.

    Parameters
    ----------
    figure : matplotlib Figure, Axes, or a list of Axes
        What a plot function returned, or the panels of
        :func:`~course_lib.sizing.heatmap_grid`.
    alt : str
        One or two sentences saying what the figure shows (its point, with the numbers that
        matter). A description of the figure's layout is added after it.

    Returns
    -------
    None
        The output (see :func:`figure_bundle`) is displayed: a picture in Jupyter.
    """
    import matplotlib.pyplot as plt
    from IPython.display import display

    fig = as_figure(figure)
    try:
        data, metadata = figure_bundle(fig, alt)
    finally:
        plt.close(fig)  # shown once, by this output, not again by the inline backend
    display(data, metadata=metadata, raw=True)
