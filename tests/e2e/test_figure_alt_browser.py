"""A figure shown with show_figure reaches a screen reader: JupyterLab in Chromium, nbconvert.

JupyterLab's image renderer sets no alt attribute from output metadata (4.6: width, height
and background only), so ``show_figure`` also gives a ``text/html`` representation,
``<img alt="...">`` followed by the table of numbers. JupyterLab renders HTML before PNG and
its sanitizer keeps the alt text, the data: picture and the table: checked here on the saved
output of a notebook opened fresh (untrusted, as a student opens it) and after running it.
"""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from labserver import running_lab, wait_idle  # noqa: E402

pytestmark = pytest.mark.e2e

ALT = "Each word looks most at itself: 0.80 and 0.70 on the diagonal."
CODE = (
    "from course_lib.figures import show_figure\n"
    "from course_lib.plotting import plot_attention\n"
    "ax = plot_attention([[0.8, 0.2], [0.3, 0.7]], ['drink', 'coke'], title='Two words')\n"
    f"show_figure(ax, {ALT!r})"
)
IMAGES = """() => [...document.querySelectorAll('.jp-OutputArea-output img')].map(img => ({
    alt: img.alt, width: img.naturalWidth,
    rows: img.closest('.jp-OutputArea-output').querySelectorAll('th[scope=row]').length,
    summary: (img.closest('.jp-OutputArea-output').querySelector('details summary') || {})
        .textContent}))"""


@pytest.fixture(scope="module")
def figure_notebook(tmp_path_factory):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(CODE)])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    nbclient.NotebookClient(nb, timeout=120, kernel_name="python3").execute()
    path = tmp_path_factory.mktemp("alt") / "figure.ipynb"
    nbformat.write(nb, path)
    return path


@pytest.fixture(scope="module")
def alt_lab(figure_notebook, tmp_path_factory):
    pytest.importorskip("jupyterlab", reason="JupyterLab is not installed")
    with running_lab([figure_notebook], base=tmp_path_factory.mktemp("lab")) as server:
        yield server


def _images(page):
    page.wait_for_selector(".jp-OutputArea-output img", timeout=60_000)
    page.wait_for_function(
        "() => [...document.querySelectorAll('.jp-OutputArea-output img')]"
        ".every(img => img.complete && img.naturalWidth > 0)"
    )
    return page.evaluate(IMAGES)


def test_jupyterlab_gives_the_saved_figure_its_alt_text_and_table(page, alt_lab):
    page.goto(alt_lab.url("lab/tree/figure.ipynb"))
    (saved,) = _images(page)  # the saved output of an untrusted notebook, no kernel run
    assert saved["alt"].startswith(ALT) and "Heatmap 'Two words'" in saved["alt"]
    assert saved["width"] > 100 and saved["rows"] == 2
    assert saved["summary"] == "The numbers in this figure"
    wait_idle(page)
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
    page.wait_for_timeout(500)
    wait_idle(page)
    (live,) = _images(page)  # the same output, drawn again by the running kernel
    assert live == saved


def test_nbconvert_html_keeps_the_alt_text(figure_notebook):
    nbconvert = pytest.importorskip("nbconvert")
    body, _ = nbconvert.HTMLExporter(template_name="lab").from_filename(str(figure_notebook))
    assert f'alt="{ALT} Heatmap' in body.replace("&#x27;", "'")
    assert '<th scope="row">drink</th>' in body
