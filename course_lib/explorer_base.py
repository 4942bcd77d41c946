"""The explorers' widget base: declared state, one update path, coalesced redraws, display.

An explorer is an ``ipywidgets.VBox`` whose state is a set of traitlets tagged ``state=True``
(``divisor``, ``sentence``, ``d_k``, ...) and whose results are read-only traitlets tagged
``result=True`` (``weights``, ``entropy``, ...). Each state value is checked once, by the
subclass's traitlets validator, whether it comes from a control or from code
(``explorer.divisor = 32``). Every accepted change goes through one path, :meth:`_update`:

1. ``_compute()`` (the subclass) turns the whole state into results, or raises;
2. on success the results are published, the controls are put on the state, the picture is
   redrawn (coalesced: a burst of changes in a running kernel gives one drawing);
3. on *any* failure the state goes back to the last one that worked, the controls with it
   (a box keeps what was typed), and the failure becomes a message in the widget.

A value refused by its validator raises ``TypeError`` or ``ValueError`` when set from code
and becomes a message when it came from a control. Works with ipywidgets 7.7 (Colab) and 8.x.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import sys

import ipywidgets as widgets
import numpy as np
import traitlets

from course_lib.explorer_a11y import ROOT_CLASS
from course_lib.explorer_inputs import InputProblem, shorten
from course_lib.explorer_traits import Checked, Flag, Number, Whole
from course_lib.explorer_view import STYLE, status_html

__all__ = ["Checked", "Explorer", "Flag", "Number", "Whole"]

_WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
_LAST_GOOD = " The view shows the last setting that worked."


def _frozen(value):
    """Return an array result as a read-only view (the explorer's own stays as it was)."""
    if isinstance(value, np.ndarray):
        value = value.view()
        value.flags.writeable = False
    return value


def _running_loop():
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


class Explorer(widgets.VBox):
    """What every explorer shares: declared state, one update path, redraws, display.

    A subclass declares its state traitlets (``.tag(state=True)``) with a
    ``@traitlets.validate`` for each, its results as read-only traitlets
    (``.tag(result=True)``), and provides:

    - ``_compute()``: read the state, return a dict {result name: value} (an optional
      ``"status"`` entry is a note to show); raise :class:`InputProblem` (its message is shown
      as it is) or anything else (shown with its type) when the state cannot be shown;
    - ``_view_html()``: the live picture of the published results (HTML string);
    - ``_png_key()`` and ``_png_figure()``: the saved picture and what it depends on;
    - optionally ``_refresh()``: update control options, ranges and labels from the state;
    - optionally ``_summary_text()``: one line saying what the picture shows, sent with
      each picture (hidden) and announced to screen readers when the pictures stop
      changing, and ``_alt_text()`` / ``_numbers()``: the saved
      picture's text alternative and its numbers as ``(html, text)`` (see
      :func:`course_lib.figures.image_bundle`).

    In its ``__init__`` it checks its other arguments, calls
    ``super().__init__(root_class)``, fills ``self.controls`` and ties each control to a state
    name with :meth:`link`, sets its children (``self._status``, ``self._style`` and
    ``self._view`` among them), then calls :meth:`start` (which adds ``self._summary``, the
    live region, after the status line).

    Attributes
    ----------
    controls : dict of ipywidgets
        The controls by name.
    status : str
        The message now shown ("" when all is well).
    draw_count : int
        How many pictures were drawn (benchmarks and tests read it).
    """

    status = traitlets.Unicode("", read_only=True)

    def __init__(self, root_class):
        super().__init__()
        self.add_class(ROOT_CLASS)  # what the accessibility script looks for
        self.add_class(root_class)
        self.controls = {}
        self.draw_count = 0
        self._links = {}  # state name -> (control, to_control, keeps_typed_text)
        self._quiet = False  # True while the explorer itself sets state or controls
        self._good = None  # the last state that worked
        self._stale = False
        self._draw_scheduled = None  # the event loop that will draw, if one will
        self._png_cache = (None, b"")
        self._status = widgets.HTML().add_class("course-explorer-status")
        # the polite live region (not drawn): the page's script (explorer_a11y) copies into it
        # the summary line of the newest picture once pictures stop coming for 0.4 s
        self._summary = widgets.HTML().add_class("course-explorer-summary")
        self._style = widgets.HTML(STYLE, layout=widgets.Layout(display="none"))
        self._view = widgets.HTML(layout=widgets.Layout(width="100%")).add_class(
            "course-explorer-view"
        )

    # -- declared state --------------------------------------------------------------------------

    @classmethod
    def state_names(cls):
        """Return the names of the state traitlets, in declaration order."""
        return [name for name in cls.class_trait_names(state=True)]

    def state(self):
        """Return the current state as a dict {name: value}."""
        return {name: getattr(self, name) for name in self.state_names()}

    def start(self, **state):
        """Set the first state (each value checked), then compute and draw it once.

        Raises ``TypeError`` or ``ValueError`` naming the argument when a value is refused;
        the explorer's widgets are then closed, so nothing is left half-built.
        """
        if self._summary not in self.children:
            children = list(self.children)
            at = children.index(self._status) + 1 if self._status in children else len(children)
            self.children = [*children[:at], self._summary, *children[at:]]
        try:
            with self._quietly():
                for name, value in state.items():
                    setattr(self, name, value)
        except traitlets.TraitError as err:
            self._close_all()
            raise TypeError(str(err)) from None
        except Exception:
            self._close_all()
            raise
        self.observe(self._on_state, names=self.state_names())
        self._update()

    def start_at_query(self, query):
        """Make ``query`` (a word or token; None keeps the first) the query after :meth:`start`.

        A query the sentence does not have closes the explorer's widgets and raises the
        ``ValueError`` that names it, as a refused argument of :meth:`start` does.
        """
        if query is None:
            return
        try:
            self.query = query
        except ValueError:
            self._close_all()
            raise

    def link(self, name, control, *, to_control=None, from_control=None, keep_typed=False):
        """Tie ``control.value`` to the state ``name`` (both ways).

        ``to_control`` and ``from_control`` convert between the two when they differ;
        ``keep_typed=True`` (a text box) leaves the control as it is after a failure, so
        nothing typed is lost.
        """
        self._links[name] = (control, to_control or (lambda value: value), keep_typed)
        control.observe(
            lambda change: self.propose(name, change["new"], from_control), names="value"
        )

    def propose(self, name, value, convert=None):
        """Set state ``name`` to ``value`` as a control does: a refusal becomes a message.

        ``convert`` (optional) turns the control's value into the state's first.
        """
        if self._quiet:
            return
        try:
            # checked once, by the traitlet's validator; then _on_state runs the update
            setattr(self, name, convert(value) if convert else value)
        except Exception as err:  # noqa: BLE001 - any refusal: a message, the last good state
            self._fail(err)

    # -- the one update path -----------------------------------------------------------------------

    @contextlib.contextmanager
    def _quietly(self):
        quiet, self._quiet = self._quiet, True
        try:
            yield
        finally:
            self._quiet = quiet

    def _on_state(self, change):
        if not self._quiet:
            self._update()

    def _update(self):
        try:
            with self._quietly():  # _compute may adjust state (e.g. the divisor for a new d_k)
                results = dict(self._compute())
        except Exception as err:  # noqa: BLE001 - any failure: a message, the last good state
            self._fail(err)
            return
        note = results.pop("status", "")
        with self._quietly():
            for name, value in results.items():
                self.set_trait(name, _frozen(value))
        self._good = self.state()
        self._sync_controls()
        self._set_status(note)
        self._request_draw()

    def _fail(self, err):
        if isinstance(err, InputProblem):
            message = str(err)
        elif isinstance(err, traitlets.TraitError):
            message = f"That value cannot be used: {shorten(err, 200)}"
        else:
            message = f"Could not update the view ({type(err).__name__}: {shorten(err, 200)})."
        if self._good is not None:
            with self._quietly():
                for name, value in self._good.items():
                    setattr(self, name, value)
            message += _LAST_GOOD
        self._sync_controls(after_failure=True)
        self._set_status(message)

    def _sync_controls(self, after_failure=False):
        with self._quietly():
            self._refresh()
            for name, (control, to_control, keep_typed) in self._links.items():
                if after_failure and keep_typed:
                    continue
                value = to_control(getattr(self, name))
                if control.value != value:
                    control.value = value

    def _refresh(self):
        """Update control options, ranges and labels from the state (subclasses)."""

    def _set_status(self, message):
        self.set_trait("status", message)
        self._status.value = status_html(message)

    def _close_all(self):
        for control in self.controls.values():
            control.close()
        for child in (self._status, self._summary, self._style, self._view):
            child.close()
        self.close()

    # -- drawing -----------------------------------------------------------------------------------

    def _request_draw(self):
        """Draw now, or (inside a running event loop) once the loop is free."""
        self._stale = True
        loop = _running_loop()
        if loop is None:
            self._draw_now()
        elif self._draw_scheduled is not loop:  # one pending drawing per loop at most
            self._draw_scheduled = loop
            loop.call_soon(self._draw_now)

    def _draw_now(self):
        self._draw_scheduled = None
        if not self._stale:
            return
        self._stale = False
        try:
            picture = self._view_html()
        except Exception as err:  # noqa: BLE001 - any failure becomes a message
            self._set_status(f"Could not draw this view ({type(err).__name__}: {shorten(err)}).")
            return
        summary = self._summary_text()
        if summary:  # read out by the page's script, once the pictures stop changing
            picture += f'<div class="course-summary" hidden>{html.escape(summary)}</div>'
        self._view.value = picture
        self.draw_count += 1

    def _summary_text(self):
        """Return one line saying what the picture now shows ("" for none; subclasses)."""
        return ""

    def _alt_text(self):
        """Return the saved picture's text alternative (subclasses say more)."""
        return self._summary_text() or f"The saved picture of {self._plain_text()}."

    def _numbers(self):
        """Return the saved picture's numbers as ``(html, text)`` ("" and "" for none)."""
        return "", ""

    @property
    def view_html(self):
        """The live picture's HTML as it is now (drawn first if a redraw is pending)."""
        self._draw_now()
        return self._view.value

    # -- the static picture and the display bundle -------------------------------------------------

    @property
    def png(self):
        """The current view drawn by matplotlib, as PNG bytes (b"" when there is none).

        Drawn on request and kept until the state changes. Nothing until a state has worked.
        """
        if self._good is None:
            return b""
        key = self._png_key()
        if self._png_cache[0] != key:
            self._png_cache = (key, self._png_figure())
        return self._png_cache[1]

    def _plain_text(self):
        return f"<{type(self).__name__}>"

    def _bundle(self, **kwargs):
        """Return ``(data, metadata)``: the widget view plus a picture with its alt text.

        JupyterLab and Notebook draw the live widget (their widget renderer ranks first);
        nbconvert/nbviewer drop the widget mimetype when no widget state was saved and fall
        back to the picture, and GitHub shows it: ``text/html`` is the PNG as an ``<img>``
        with its text alternative and a table of its numbers, ``image/png`` the PNG with the
        alt text in the output's metadata (:func:`course_lib.figures.image_bundle`). Inside
        Colab and JupyterLite the picture is left out: their notebooks are not the ones
        committed with outputs, the live widget must win there, and in JupyterLite drawing the
        picture in WebAssembly would hold back the live one (about 0.4 s per display).
        """
        from course_lib.figures import image_bundle

        self._draw_now()
        data, metadata = {"text/plain": self._plain_text()}, {}
        if "google.colab" not in sys.modules and sys.platform != "emscripten":
            try:
                png = self.png
                if png:
                    numbers_html, numbers_text = self._numbers()
                    data, metadata = image_bundle(
                        png, self._alt_text(), numbers_html=numbers_html, numbers_text=numbers_text
                    )
                    data["text/plain"] = f"{self._plain_text()}\n{data['text/plain']}"
            except Exception:  # noqa: BLE001 - the live widget still shows; say why in text
                png = b""
            if not png:
                data["text/plain"] += " (no static picture could be drawn)"
        if self._view_name is not None:
            data[_WIDGET_VIEW] = {"version_major": 2, "version_minor": 0, "model_id": self.model_id}
        handle_displayed = getattr(self, "_handle_displayed", None)  # ipywidgets 7 only
        if handle_displayed is not None and self._view_name is not None:
            handle_displayed(**kwargs)
        return data, metadata

    def _repr_mimebundle_(self, **kwargs):
        """Return the display data of :meth:`_bundle` (without its metadata)."""
        return self._bundle(**kwargs)[0]

    def _ipython_display_(self, **kwargs):
        """Display the widget with the picture's metadata (the alt text of its PNG).

        IPython prefers this to ``_repr_mimebundle_``; ipywidgets 7 displays through it too.
        """
        from IPython.display import display

        data, metadata = self._bundle(**kwargs)
        display(data, metadata=metadata, raw=True)
