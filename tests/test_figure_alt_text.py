"""Every saved figure has a text alternative and the numbers it plots beside it (issue 22.5).

The mechanism (course_lib.figures): ``show_figure(ax, "what it shows")`` displays one output
with ``image/png`` (alt text in the output's metadata, as IPython's ``Image(alt=...)`` puts
it), ``text/html`` (the picture as ``<img alt="...">``: what JupyterLab, Colab, nbconvert and
GitHub render; none reads alt text from metadata) with a table of the plotted numbers in a
``<details>``, and ``text/plain`` (the alt text and the table as text).
"""

import html
import re
from html.parser import HTMLParser
from pathlib import Path

import matplotlib.pyplot as plt
import nbformat
import numpy as np
import pytest

from course_lib.figures import figure_bundle, image_bundle, numbers_table, show_figure
from course_lib.plotting import heatmap_grid, plot_attention, plot_attention_row, plot_curves

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
NOTEBOOKS += sorted((ROOT / "notebooks" / "solutions").glob("*.ipynb"))
MIN_ALT = 40  # characters: more than a title


class _Page(HTMLParser):
    """The <img> tags, table headers and captions of an HTML output."""

    def __init__(self, text):
        super().__init__()
        self.images, self.row_headers, self.col_headers, self.captions = [], 0, 0, []
        self._in_caption = False
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "img":
            self.images.append(attrs)
        elif tag == "th":
            self.row_headers += attrs.get("scope") == "row"
            self.col_headers += attrs.get("scope") == "col"
        self._in_caption = tag == "caption"

    def handle_data(self, data):
        if self._in_caption:
            self.captions.append(data)
            self._in_caption = False


def image_output_problems(output):
    """Return what a saved image output lacks: alt text, an <img alt>, its numbers."""
    data = output.get("data", {})
    if "image/png" not in data:
        return []
    alt = output.get("metadata", {}).get("image/png", {}).get("alt", "")
    problems = []
    if len(alt.strip()) < MIN_ALT or alt.startswith("<Figure"):
        problems.append(f"no alt text in the output's metadata (got {alt[:60]!r})")
    page = data.get("text/html", "")
    page = page if isinstance(page, str) else "".join(page)
    parsed = _Page(page)
    if not any(img.get("alt") == alt for img in parsed.images):
        problems.append("no <img> in text/html with that alt text")
    if not any(img.get("src", "").startswith("data:image/png;base64,") for img in parsed.images):
        problems.append("the <img> in text/html does not carry the picture")
    if "<table" not in page or not (parsed.row_headers or parsed.col_headers):
        problems.append("no table of the plotted numbers (with headers) beside the picture")
    plain = data.get("text/plain", "")
    plain = plain if isinstance(plain, str) else "".join(plain)
    if alt not in plain:
        problems.append("text/plain does not carry the alt text")
    return problems


# ------------------------------------------------------------------------- every notebook
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_saved_image_has_alt_text_and_its_numbers(path):
    nb = nbformat.read(path, as_version=4)
    found = []
    for index, cell in enumerate(nb.cells):
        for output in cell.get("outputs", []):
            found += [f"cell {index}: {p}" for p in image_output_problems(output)]
    assert not found, "\n".join(found)


def test_the_rule_fails_on_an_image_saved_the_old_way():
    old = nbformat.v4.new_output(
        "display_data", data={"image/png": "iVBORw0KGgo=", "text/plain": "<Figure size 640x480>"}
    )
    problems = image_output_problems(old)
    assert len(problems) == 4, problems
    ax = plot_attention(np.eye(2), ["eat", "steak"])
    data, metadata = figure_bundle(ax, "Each word gives all its weight to itself here.")
    good = nbformat.v4.new_output("display_data", data=data, metadata=metadata)
    assert image_output_problems(good) == []
    good.metadata["image/png"]["alt"] = "something else, long enough to be an alt text"
    assert "no <img> in text/html with that alt text" in image_output_problems(good)


# ------------------------------------------------------------------------- the bundle
def test_a_heatmap_gets_alt_text_from_the_cell_and_from_the_figure():
    ax = plot_attention([[0.75, 0.25], [0.1, 0.9]], ["drink", "coke"], title="Scores ÷ 8")
    data, metadata = figure_bundle(ax, "Each word looks most at itself.")
    alt = metadata["image/png"]["alt"]
    assert alt.startswith("Each word looks most at itself. Heatmap 'Scores ÷ 8'")
    for part in ("rows: query word", "drink, coke", "columns: attended-to word", "colour: att"):
        assert part in alt
    page = _Page(data["text/html"])
    assert page.images[0]["alt"] == alt
    assert page.row_headers == 2 and page.col_headers == 2 and page.captions == ["Scores ÷ 8"]
    assert re.search(r"<th scope=\"row\">drink</th><td>0.75</td><td>0.25</td>", data["text/html"])
    assert data["text/plain"].startswith(alt)
    assert re.search(r"drink +0.75 +0.25", data["text/plain"])


def test_curves_and_bars_are_tabulated_with_their_labels():
    ax = plot_curves(
        [1, 2, 4],
        {"measured": [1.1, 2.2, 3.9]},
        xlabel="d_k",
        ylabel="variance",
        reference={"law": [1, 2, 4]},
    )
    data, metadata = figure_bundle(ax, "The measured variance follows the law.")
    assert (
        "Line chart" in metadata["image/png"]["alt"]
        and "curves: measured, law" in metadata["image/png"]["alt"]
    )
    assert '<th scope="col">measured</th><th scope="col">law</th>' in data["text/html"]
    assert '<th scope="row">4</th><td>3.9</td><td>4</td>' in data["text/html"]
    bars = plot_attention_row([0.2, 0.8], ["eat", "steak"], query_word="eat")
    data, metadata = figure_bundle(bars, "'eat' looks at 'steak'.")
    assert "Bar chart" in metadata["image/png"]["alt"]
    assert '<th scope="row">steak</th><td>0.8</td>' in data["text/html"]


def test_a_grid_of_panels_is_described_panel_by_panel():
    fig, axes = heatmap_grid(2, ["a", "b"])
    for ax, title in zip(axes, ("left", "right"), strict=True):
        plot_attention(np.eye(2), ["a", "b"], ax=ax, title=title)
    data, metadata = figure_bundle(axes, "Two identical pictures.")
    assert "2 panels: heatmap 'left'" in metadata["image/png"]["alt"]
    assert _Page(data["text/html"]).captions == ["left", "right"]


def test_alt_text_is_escaped_in_html_and_required():
    data, metadata = image_bundle(b"png", 'a "quoted" <b>word</b> & more')
    assert 'alt="a &quot;quoted&quot; &lt;b&gt;word&lt;/b&gt; &amp; more"' in data["text/html"]
    assert html.unescape(_Page(data["text/html"]).images[0]["alt"]) == metadata["image/png"]["alt"]
    for empty in ("", "   "):
        with pytest.raises(ValueError, match="text alternative"):
            image_bundle(b"png", empty)
        with pytest.raises(ValueError, match="what the figure shows"):
            figure_bundle(plot_attention(np.eye(2), ["a", "b"]), empty)


def test_numbers_table_has_headers_and_a_caption():
    page, text = numbers_table("weights", ["x<y"], ["r&1"], [[0.123456]], corner="query")
    assert "<caption>weights</caption>" in page and "x&lt;y" in page and "r&amp;1" in page
    assert "0.123" in page and "0.1235" not in page
    assert text.splitlines() == ["weights", "query    x<y", "r&1    0.123"]


def test_show_figure_displays_one_output_and_closes_the_figure(monkeypatch):
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda *a, **k: shown.append((a, k)))
    ax = plot_attention(np.eye(2), ["a", "b"])
    number = ax.figure.number
    show_figure(ax, "Each word looks at itself only.")
    assert not plt.fignum_exists(number)
    ((args, kwargs),) = shown
    assert kwargs["raw"] is True and "alt" in kwargs["metadata"]["image/png"]
    assert set(args[0]) == {"image/png", "text/html", "text/plain"}


def test_compact_png_keeps_the_picture_in_fewer_bytes():
    import io

    from PIL import Image

    from course_lib.figures import compact_png

    ax = plot_attention(np.random.default_rng(0).dirichlet(np.ones(6), 6), list("abcdef"))
    drawn = io.BytesIO()
    ax.figure.savefig(drawn, format="png", dpi=100)
    small = compact_png(drawn.getvalue())
    before = np.asarray(Image.open(io.BytesIO(drawn.getvalue())).convert("RGB"), dtype=float)
    after = np.asarray(Image.open(io.BytesIO(small)).convert("RGB"), dtype=float)
    assert after.shape == before.shape and len(small) < 0.6 * len(drawn.getvalue())
    assert np.abs(after - before).mean() < 2.0  # of 255: the same picture to the eye
