"""The widget base of every explorer (course_lib.explorer_base), on a small explorer made here:
declared state, controls tied both ways, one check per value, one failure path, coalesced
redraws, the display bundle. Runs on ipywidgets 7.7 (Colab) and 8.x."""

import asyncio
import base64
import sys
import types

import pytest

widgets = pytest.importorskip("ipywidgets")
traitlets = pytest.importorskip("traitlets")

from course_lib.explorer_base import Explorer, Number, Whole  # noqa: E402
from course_lib.explorer_inputs import InputProblem, check_whole  # noqa: E402
from course_lib.explorer_png import figure_png  # noqa: E402

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


class Squares(Explorer):
    """A tiny explorer: n (a slider), a word (a text box); shows n squared."""

    n = Whole(2).tag(state=True)
    scale = Number(1.0).tag(state=True)
    word = traitlets.Unicode("").tag(state=True)
    square = traitlets.Float(0.0, read_only=True).tag(result=True)

    def __init__(self, n=2, word="two", scale=1.0):
        super().__init__("course-squares")
        self.checked, self.computed, self.fail_with = [], 0, None
        self.controls = {
            "n": widgets.IntSlider(min=0, max=10),
            "word": widgets.Text(continuous_update=False),
            "scale": widgets.FloatText(),
        }
        self.link("n", self.controls["n"])
        self.link("word", self.controls["word"], keep_typed=True)
        self.link("scale", self.controls["scale"])
        self.children = [*self.controls.values(), self._status, self._style, self._view]
        self.start(n=n, word=word, scale=scale)

    @traitlets.validate("n")
    def _check_n(self, proposal):
        self.checked.append(proposal["value"])
        return check_whole(proposal["value"], "n", 0, 10)

    def _compute(self):
        self.computed += 1
        if self.fail_with is not None:
            raise self.fail_with
        if self.word == "bad":
            raise InputProblem("That word cannot be shown.")
        return {"square": self.scale * self.n**2, "status": "odd" if self.n % 2 else ""}

    def _view_html(self):
        return f"<b>{self.word}</b>: {self.square:g}"

    def _png_key(self):
        return (self.n, self.word, self.scale)

    def _png_figure(self):
        return figure_png(lambda fig: fig.subplots().bar([0], [self.square]), (2, 2))


@pytest.fixture
def squares():
    return Squares()


def test_state_and_results_are_declared_traitlets(squares):
    assert set(Squares.state_names()) == {"n", "scale", "word"}
    assert squares.state() == {"n": 2, "word": "two", "scale": 1.0}
    assert squares.square == 4.0 and squares.status == ""
    with pytest.raises(traitlets.TraitError):
        squares.square = 9.0  # a result is read-only
    assert "course-squares" in squares._dom_classes


def test_setting_an_attribute_moves_its_control_and_redraws(squares):
    drawn, checked = squares.draw_count, len(squares.checked)
    squares.n = 3
    assert squares.controls["n"].value == 3 and squares.square == 9.0
    assert squares.view_html == "<b>two</b>: 9" and squares.draw_count == drawn + 1
    assert squares.status == "odd"  # the compute's note
    assert len(squares.checked) == checked + 1  # checked once


def test_setting_a_control_moves_the_attribute(squares):
    squares.controls["n"].value = 5
    assert squares.n == 5 and squares.square == 25.0
    squares.controls["word"].value = "five"
    assert squares.word == "five" and "five" in squares.view_html


def test_numpy_numbers_are_accepted_and_booleans_are_not(squares):
    np = pytest.importorskip("numpy")
    squares.n = np.int64(4)
    squares.scale = np.float32(0.5)
    assert squares.n == 4 and type(squares.n) is int and squares.square == 8.0
    with pytest.raises(traitlets.TraitError):
        squares.n = True
    with pytest.raises(traitlets.TraitError):
        squares.n = 2.5


def test_a_refused_value_raises_once_from_code_and_changes_nothing(squares):
    before, checked, computed = squares.view_html, len(squares.checked), squares.computed
    with pytest.raises(ValueError, match="n must be from 0 to 10, not 11"):
        squares.n = 11
    assert len(squares.checked) == checked + 1 and squares.computed == computed
    assert squares.n == 2 and squares.view_html == before and squares.status == ""


def test_a_refused_value_from_a_control_is_a_message_and_the_control_goes_back(squares):
    squares.controls["n"].max = 20
    squares.controls["n"].value = 15
    assert squares.status.startswith("n must be from 0 to 10, not 15")
    assert squares.status.endswith("The view shows the last setting that worked.")
    assert squares.controls["n"].value == 2 and squares.n == 2


def test_a_failure_while_computing_restores_the_last_good_state(squares):
    squares.n = 4
    before = (squares.state(), squares.square, squares.view_html)
    squares.fail_with = RuntimeError("something odd")
    squares.n = 6  # from code: no exception, a message
    assert "RuntimeError: something odd" in squares.status
    assert (squares.state(), squares.square, squares.view_html) == before
    assert squares.controls["n"].value == 4
    squares.fail_with = None
    squares.controls["n"].value = 6
    assert squares.status == "" and squares.square == 36.0


def test_a_text_box_keeps_what_was_typed_after_a_failure(squares):
    squares.controls["word"].value = "bad"
    assert squares.status.startswith("That word cannot be shown.")
    assert squares.word == "two" and squares.controls["word"].value == "bad"
    squares.n = 3  # the next change uses the last good word
    assert squares.word == "two" and squares.status == "odd"


def test_an_argument_refused_at_the_start_raises_and_closes_the_widgets(monkeypatch):
    closed = []
    real = Explorer._close_all

    def close_all(self):
        real(self)
        closed.append(self)

    monkeypatch.setattr(Explorer, "_close_all", close_all)
    with pytest.raises(ValueError, match="n must be from 0 to 10, not 99"):
        Squares(n=99)
    with pytest.raises(TypeError, match="'word' trait"):
        Squares(word=None)
    assert len(closed) == 2
    for explorer in closed:
        shown = [explorer, explorer._view, explorer._status, *explorer.controls.values()]
        assert all(widget.comm is None for widget in shown)  # closed: nothing left open


def test_a_failure_before_anything_worked_says_nothing_about_a_last_view():
    class Failing(Squares):
        def _compute(self):
            raise InputProblem("Nothing to show yet.")

    explorer = Failing()
    assert explorer.status == "Nothing to show yet." and explorer.view_html == ""
    data = explorer._repr_mimebundle_()
    assert "image/png" not in data and "no static picture" in data["text/plain"]


def test_a_burst_of_changes_in_a_running_loop_is_drawn_once_with_the_newest_state(squares):
    async def burst():
        drawn = squares.draw_count
        for n in range(10):
            squares.controls["n"].value = n
            assert squares.square == n**2  # the numbers follow at once
        assert squares.draw_count == drawn  # the picture waits for the loop
        await asyncio.sleep(0)
        return squares.draw_count - drawn

    assert asyncio.run(burst()) == 1
    assert squares._view.value == "<b>two</b>: 81"


def test_a_loop_that_ends_before_drawing_does_not_stop_later_drawings(squares):
    async def change_and_leave():
        squares.n = 3  # scheduled on a loop that then closes

    asyncio.run(change_and_leave())
    squares.n = 5  # no loop now: drawn at once
    assert squares._view.value == "<b>two</b>: 25"


def test_a_failure_while_drawing_becomes_a_message(squares, monkeypatch):
    before = squares.view_html

    def broken():
        raise KeyError("lost")

    monkeypatch.setattr(squares, "_view_html", broken)
    squares.n = 3
    assert "KeyError" in squares.status and squares._view.value == before


def test_mimebundle_has_the_widget_view_and_the_png_of_the_current_state(squares):
    data = squares._repr_mimebundle_()
    assert data["application/vnd.jupyter.widget-view+json"]["model_id"] == squares.model_id
    assert base64.b64decode(data["image/png"]).startswith(PNG_SIGNATURE)
    first = squares.png
    assert squares.png is first  # kept while the state is the same
    squares.n = 7
    assert squares.png != first


def test_a_png_that_cannot_be_drawn_leaves_the_live_widget(squares, monkeypatch):
    def broken():
        raise RuntimeError("no matplotlib today")

    monkeypatch.setattr(squares, "_png_figure", broken)
    data = squares._repr_mimebundle_()
    assert "image/png" not in data and "no static picture" in data["text/plain"]
    assert "application/vnd.jupyter.widget-view+json" in data


def test_no_static_png_inside_colab(squares, monkeypatch):
    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    data = squares._repr_mimebundle_()
    assert "image/png" not in data and "application/vnd.jupyter.widget-view+json" in data


def test_no_static_png_inside_jupyterlite(squares, monkeypatch):
    assert "image/png" in squares._repr_mimebundle_()  # the same explorer, outside the site
    monkeypatch.setattr(sys, "platform", "emscripten")
    squares.n = 5  # a new state: nothing drawn before may be reused
    data = squares._repr_mimebundle_()
    assert "image/png" not in data and "text/html" not in data
    assert "application/vnd.jupyter.widget-view+json" in data
    assert "no static picture" not in data["text/plain"]  # left out on purpose, not failed


def test_ipython_display_sends_the_static_png(squares, monkeypatch):
    import IPython.display
    from IPython.core.formatters import DisplayFormatter

    sent = []
    monkeypatch.setattr(IPython.display, "display", lambda obj, **kw: sent.append(obj))
    data, _ = DisplayFormatter().format(squares)
    shown = data or sent[0]  # ipywidgets 8: returned; ipywidgets 7: sent by _ipython_display_
    assert {"application/vnd.jupyter.widget-view+json", "image/png"} <= set(shown)


# -- accessibility: the root class, the live summary, the saved picture's alt text ----------


class Described(Squares):
    """Squares with a summary line, a text alternative and numbers for its picture."""

    def _summary_text(self):
        return f"{self.word} & co: square {self.square:g}"

    def _alt_text(self):
        return f"A bar of height {self.square:g}, the square of {self.n}."

    def _numbers(self):
        return f"<table><tr><td>{self.square:g}</td></tr></table>", f"square {self.square:g}"


def test_every_explorer_root_is_marked_for_the_accessibility_script(squares):
    assert {"course-explorer", "course-squares"} <= set(squares._dom_classes)


def test_the_summary_rides_with_each_picture_and_the_live_region_follows_the_status():
    explorer = Described()
    children = list(explorer.children)
    assert children.index(explorer._summary) == children.index(explorer._status) + 1
    assert "course-explorer-summary" in explorer._summary._dom_classes
    line = '<div class="course-summary" hidden>two &amp; co: square 4</div>'  # escaped
    assert explorer.view_html.endswith(line)
    explorer.n = 3
    assert explorer.view_html.endswith(line.replace("square 4", "square 9"))
    assert explorer._summary.value == ""  # filled in the page, by explorer_a11y's script
    assert "course-summary" not in Squares().view_html  # no line unless the explorer says one


def test_the_saved_picture_carries_its_alt_text_and_numbers(monkeypatch):
    import IPython.display

    explorer = Described()
    sent = []
    monkeypatch.setattr(
        IPython.display, "display", lambda obj, **kw: sent.append((obj, kw.get("metadata")))
    )
    explorer._ipython_display_()
    ((data, metadata),) = sent
    alt = "A bar of height 4, the square of 2."
    assert metadata == {"image/png": {"alt": alt}}
    assert f'alt="{alt}"' in data["text/html"] and "<td>4</td>" in data["text/html"]
    assert base64.b64decode(data["image/png"]).startswith(PNG_SIGNATURE)
    assert data["application/vnd.jupyter.widget-view+json"]["model_id"] == explorer.model_id
    assert alt in data["text/plain"] and "square 4" in data["text/plain"]
    assert explorer._repr_mimebundle_() == data  # the same data without the metadata


def test_without_its_own_alt_text_an_explorer_says_what_it_is(squares):
    data = squares._repr_mimebundle_()
    assert 'alt="The saved picture of &lt;Squares&gt;."' in data["text/html"]
