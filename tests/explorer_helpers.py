"""Shared helpers of the explorer tests (test_explorer_*.py): an independent softmax, the
HTML a widget shows, the cell colours of a heatmap, a snapshot of an attention explorer."""

import re

import numpy as np


def reference_weights(queries, keys, divisor):
    """Attention weights written out independently of course_lib.attention."""
    scores = queries @ keys.T / divisor  # (n, n)
    scores = scores - scores.max(axis=1, keepdims=True)
    exp = np.exp(scores)
    return exp / exp.sum(axis=1, keepdims=True)


def walk(widget):
    yield widget
    for child in getattr(widget, "children", ()):
        yield from walk(child)


def html_values(widget):
    """The value of every HTML widget inside ``widget`` (drawing any pending picture)."""
    import ipywidgets

    if hasattr(widget, "view_html"):
        widget.view_html  # noqa: B018 - flushes a pending redraw
    return [w.value for w in walk(widget) if isinstance(w, ipywidgets.HTML)]


def cell_colours_of(view, which=0):
    """The background colours of heatmap number ``which``'s cells, in row-major order."""
    cells = view.split('class="course-cells"')[which + 1]
    cells = cells[cells.index(">") + 1 : cells.index("</div></div>")]  # the cells' markup
    return re.findall(r"background:(#[0-9a-f]{6})", cells)


def snapshot(explorer):
    """Everything an attention explorer shows and holds, to compare before and after."""
    return (
        list(explorer.words),
        explorer.weights.copy(),
        explorer.view_html,
        list(explorer.controls["query"].options),
        explorer.sentence,
        explorer.divisor,
        explorer.query_index,
        explorer.projection,
        explorer.colour_scale,
        explorer.source,
        explorer.controls["divisor"].value,
        explorer.controls["query"].value,
        explorer.controls["projection"].value,
        explorer.controls["colour_scale"].value,
    )


def assert_same_view(before, after):
    assert after[0] == before[0]
    np.testing.assert_array_equal(after[1], before[1])
    assert after[2:] == before[2:]


def summary_of(explorer):
    """The one-line summary the explorer's current picture carries for screen readers."""
    found = re.findall(r'<div class="course-summary" hidden>(.*?)</div>', explorer.view_html)
    return found[-1] if found else None
