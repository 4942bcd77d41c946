"""The explorers' pictures as HTML (course_lib.explorer_view): pure functions, no widgets.
Also checks that the pure modules import with ipywidgets (and traitlets) absent."""

import html
import re
import subprocess
import sys

import numpy as np
import pytest
from explorer_helpers import cell_colours_of
from hypothesis import given, settings
from hypothesis import strategies as st

from course_lib import plotting
from course_lib.explorer_a11y import A11Y_CSS, style_with_script
from course_lib.explorer_png import attention_png
from course_lib.explorer_view import (
    CSS,
    STYLE,
    attention_html,
    bars_html,
    heatmap_html,
    narrow_style,
    status_html,
    table_html,
    view_html,
)

BLOCK = """
import sys
for name in ("ipywidgets", "traitlets", "IPython"):
    sys.modules[name] = None  # any import of it raises ImportError
import {modules}
for name in {modules_list!r}:
    __import__(name)
loaded = sorted(m for m in sys.modules if m.split(".")[0] in ("ipywidgets", "traitlets")
                and sys.modules[m] is not None)
assert not loaded, loaded
print("ok")
"""


@pytest.mark.parametrize(
    "modules",
    [
        ["course_lib.explorer_view"],
        ["course_lib.explorer_png"],
        ["course_lib.explorer_inputs"],
        ["course_lib.explorer_a11y"],
        ["course_lib.dk_experiment"],
    ],
    ids=str,
)
def test_pure_modules_import_without_ipywidgets(modules):
    code = BLOCK.format(modules=", ".join(modules), modules_list=modules)
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr


def test_the_block_really_blocks():
    """The same block makes the widget modules fail to import (so the test above can fail)."""
    code = BLOCK.format(modules="course_lib.explorer_base", modules_list=[])
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120
    )
    assert result.returncode != 0 and "import of ipywidgets halted" in result.stderr


def test_status_line_is_escaped_and_empty_when_all_is_well():
    assert status_html("") == ""
    shown = status_html("<b>bad</b> & worse")
    assert "&lt;b&gt;bad&lt;/b&gt; &amp; worse" in shown and "<b>" not in shown


@given(
    labels=st.lists(st.text(min_size=1, max_size=12), min_size=1, max_size=12),
    seed=st.integers(0, 2**16),
)
@settings(max_examples=30, deadline=None)
def test_heatmap_html_has_one_cell_per_weight_and_escapes_every_label(labels, seed):
    n = len(labels)
    weights = np.random.default_rng(seed).dirichlet(np.ones(n), size=n)  # (n, n) rows sum to 1
    view = heatmap_html(weights, labels, labels, title="<b>t</b>")
    assert len(cell_colours_of(view)) == n * n
    assert "<b>t</b>" not in view
    for label in labels:
        assert html.escape(label) in view
    # no label adds or closes a tag: the markup is that of plain labels
    plain = heatmap_html(weights, [f"w{i}" for i in range(n)], [f"w{i}" for i in range(n)])
    assert re.findall(r"</?[a-z]+", view) == re.findall(r"</?[a-z]+", plain)


def test_heatmap_cells_have_the_plotting_colours_and_numbers_when_small():
    weights = np.array([[0.1, 0.9], [0.5, 0.5]])
    view = heatmap_html(weights, ["a", "b"], ["a", "b"], limits=(0.0, 1.0))
    colours = plotting.cell_colours(weights).reshape(-1, 4)
    assert cell_colours_of(view) == [plotting.hex_colour(c) for c in colours]
    assert ">0.90<" in view and 'data-rows="2" data-cols="2"' in view
    big = np.full((12, 12), 1 / 12)
    drawn, table = heatmap_html(big, list("abcdefghijkl"), list("abcdefghijkl")).split("<table")
    assert ">0.08<" not in drawn  # too small to print ...
    assert table.count("<td>0.08</td>") == 144  # ... but every number is in the table


def test_heatmap_is_a_table_to_assistive_technology():
    weights = np.array([[0.1, 0.9], [0.5, 0.5]])
    view = heatmap_html(weights, ["eat", "<b>"], ["eat", "<b>"], title="scores ÷ 8")
    drawn, table = view.split("<table")
    assert 'aria-hidden="true"' in drawn  # the drawing is not read out ...
    assert drawn.endswith('<div class="course-sr-table">')  # ... the table is, and not drawn
    caption = re.search(r"<caption>(.*?)</caption>", table).group(1)
    assert caption.startswith("scores ÷ 8. Attention weights") and "query word" in caption
    assert re.findall(r'<th scope="col">(.*?)</th>', table) == ["eat", "&lt;b&gt;"]
    rows = re.findall(r'<tr><th scope="row">(.*?)</th>((?:<td>.*?</td>)+)</tr>', table)
    assert [(word, re.findall(r"<td>(.*?)</td>", cells)) for word, cells in rows] == [
        ("eat", ["0.10", "0.90"]),
        ("&lt;b&gt;", ["0.50", "0.50"]),
    ]


def test_cell_size_can_be_chosen():
    weights = np.eye(3)
    default = heatmap_html(weights, list("abc"), list("abc"))
    small = heatmap_html(weights, list("abc"), list("abc"), cell=(2.5, 1.6))
    assert "repeat(3, var(--course-cell-w, 3.2em))" in default
    assert "repeat(3, var(--course-cell-w, 2.5em))" in small
    assert "grid-auto-rows: var(--course-cell-h, 1.6em)" in small


def test_narrow_style_is_a_container_query_scoped_to_one_explorer():
    style = narrow_style("course-dk-seq10", 66.0, 1.2)
    assert style.startswith("<style>@container (max-width: 66.00em)")
    rules = re.findall(r"([^{}]+)\{([^{}]*)\}", style.split("{", 1)[1])
    assert rules and all(sel.strip().startswith(".course-dk-seq10 ") for sel, _ in rules)
    assert "--course-cell-w: 1.2em" in style and "font-size: 0" in style


def test_bars_mark_the_largest_weight():
    view = bars_html([0.2, 0.7, 0.1], ["x", "<y>", "z"], title="row")
    assert view.count(plotting.TOP_BAR_COLOUR) == 1 and "&lt;y&gt;" in view
    assert "height: 70.00%" in view


def test_table_escapes_every_cell_and_marks_the_highlighted_row():
    view = table_html(["<h>"], [["<a>"], ["b"]], highlight=1, note="<n>")
    assert "<a>" not in view and "&lt;a&gt;" in view and "&lt;n&gt;" in view
    assert '<tr class="course-query-row"><th scope="row">b</th>' in view
    assert '<th scope="col">&lt;h&gt;</th>' in view and "<caption" not in view
    titled = table_html(["x", "y"], [["a", "1"]], caption="what <it> holds")
    assert '<caption class="course-sr-only">what &lt;it&gt; holds</caption>' in titled
    assert '<tr><th scope="row">a</th><td>1</td></tr>' in titled


def test_attention_html_names_the_word_each_row_looks_at_besides_itself():
    weights = np.array([[0.6, 0.3, 0.1], [0.2, 0.5, 0.3], [0.1, 0.1, 0.8]])
    view = attention_html(weights, ["a", "b", "c"], query_index=1, title="t")
    numbers = view[view.index("course-numbers") :]
    rows = re.findall(
        r'<tr[^>]*><th scope="row">(.*?)</th><td>(.*?)</td><td>(.*?)</td><td>(.*?)</td>', numbers
    )
    assert [(r[0], r[2], r[3]) for r in rows] == [("a", "0.60", "b"), ("b", "0.50", "c"),
                                                  ("c", "0.80", "a")]  # fmt: skip
    entropy = -(weights[1] * np.log(weights[1])).sum()
    assert rows[1][1] == f"{entropy:.2f}" and "▸ b" in view and "where &#x27;b&#x27;" in view
    single = attention_html(np.ones((1, 1)), ["x"], query_index=0, title="t")
    assert "<td>–</td>" in single


def test_attention_png_is_a_png():
    png = attention_png(np.full((3, 3), 1 / 3), ["a", "b", "c"], query_index=0, title="t")
    assert png.startswith(b"\x89PNG\r\n\x1a\n")


def test_view_wraps_pictures_then_numbers_and_the_style_is_scoped():
    view = view_html(["<p>1</p>", "<p>2</p>"], "<table></table>")
    assert view.index("<p>2</p>") < view.index("<table>")
    assert STYLE == style_with_script(CSS + A11Y_CSS)  # the rules, and the script in onload
    rules = (CSS + A11Y_CSS).replace("\n", " ")
    selectors = re.findall(r"(?:^|})\s*([^{}]+)\{", rules)
    assert len(selectors) > 30 and all(".course-" in s for s in selectors), selectors


def test_the_accessibility_script_rides_in_the_style_sheet_onload():
    from course_lib.explorer_a11y import SCRIPT

    style = style_with_script(".course-x {color: red}")
    handler = re.fullmatch(r'<style onload="([^"]*)">\.course-x \{color: red\}</style>', style)
    assert handler, style[:200]  # one attribute: the script holds no raw quote or bracket
    assert "<" not in handler.group(1) and html.unescape(handler.group(1)).startswith("(function")
    # what it does, in the browser (tests/e2e/test_explorer_a11y.py and _keyboard.py)
    for needed in ("data-lm-suppress-shortcuts", "aria-valuetext", "aria-pressed",
                   "'status'", "aria-live", "'group'", "MutationObserver"):  # fmt: skip
        assert needed in SCRIPT, needed
