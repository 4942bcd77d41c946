"""What ipywidgets cannot say from Python: keyboard and screen-reader fixes for the explorers.

ipywidgets gives Python no way to set an element's attributes, and three things the
explorers need are attributes (WCAG 2.1 AA, issue 22):

- **Keys stay in the explorer.** In JupyterLab 4 (and the JupyterLite site, built on it) a
  key pressed on a button, checkbox, slider or dropdown inside a cell's output runs the
  notebook's command-mode shortcuts: ``b`` inserts a cell, ``r`` turns the explorer's cell
  into a raw cell (deleting the explorer), ↑/↓ move to another cell instead of changing the
  dropdown (jupyter-widgets/ipywidgets#3912). JupyterLab's command registry (lumino) walks
  up from the focused element and gives up at one marked ``data-lm-suppress-shortcuts``; the
  notebook's selectors (``... :focus``) match the focused control itself, so the mark must be
  on each control, not on the explorer: the script marks them. Classic Notebook 6.5 with
  ipywidgets 7 (Colab's stack) already switches its shortcuts off while a widget has the
  focus; the mark is harmless there.
- **Sliders say their value and name.** ipywidgets 8's sliders (noUiSlider) expose the
  position on their own scale: the base-2 exponent of a log slider, the index of a selection
  slider. The script sets ``aria-valuetext`` to the number the readout shows (8.00, 64) and
  names the handle and the readout by the slider's label; ipywidgets 7's jQuery UI handle
  gets ``role="slider"`` as well. Toggle buttons become a labelled group whose buttons say
  ``aria-pressed``.
- **Changes are announced.** The status line is a live region (``role="status"``) on the
  element that stays while its text is replaced. Each picture carries a hidden one-line
  summary ("scores ÷ 8.00: drink looks most at coke, 0.23"); once the pictures stop changing
  for 0.4 s (a drag draws dozens a second) the script copies the newest into a polite live
  region, so a screen reader hears the picture the student stopped on, and no picture waits
  for an announcement.

The script travels inside the explorers' own style sheet: ``<style onload="...">`` in a
hidden ``ipywidgets.HTML``, so it runs wherever the widget is drawn (JupyterLab, Notebook,
JupyterLite) without a notebook output of its own: nothing is saved into the notebook and
no "trust" is needed. It is a constant of this module (no user text in it); where it does
not run, the explorers work as before and only these fixes are missing.

:data:`A11Y_CSS` is the part of the explorers' style sheet that serves the same people: a
keyboard focus ring and a selected toggle button that stand out at least 3:1, controls that
shrink and wrap down to 320 CSS px, text for screen readers only. Imports no widgets.
"""

from __future__ import annotations

import html

import numpy as np

from course_lib import colours

__all__ = ["A11Y_CSS", "ROOT_CLASS", "SCRIPT", "looks_most_at", "style_with_script"]

#: The class every explorer's outermost box carries (the script looks for it).
ROOT_CLASS = "course-explorer"

# Accessibility (WCAG 2.1 AA): the keyboard focus ring, the selected toggle button, reflow
# down to 320 CSS px (controls shrink and wrap; only the picture and the numbers table, two-
# dimensional data, scroll sideways), and text for screen readers only. ipywidgets' own focus
# outline is 1 px at 2.2:1, hence the !important on the ring. A heatmap's table for screen
# readers sits off screen with content-visibility: auto, so the browser skips laying it out
# (a 45-word table costs about 2 ms then, 25 ms laid out; still read by screen readers).
A11Y_CSS = f"""
.course-explorer :focus-visible {{outline: 2px solid {colours.FOCUS_COLOUR} !important;
  outline-offset: 2px !important;}}
.course-explorer .jupyter-button.mod-active {{background: {colours.SELECTED_BACKGROUND};
  color: {colours.SELECTED_TEXT};}}
[data-jp-theme-light="false"] .course-explorer .jupyter-button.mod-active {{
  background: {colours.SELECTED_BACKGROUND_DARK}; color: {colours.SELECTED_TEXT_DARK};}}
.course-explorer .widget-inline-hbox {{max-width: 100%; min-width: 0; height: auto;}}
.course-explorer .widget-dropdown, .course-explorer .widget-text,
  .course-explorer .widget-toggle-buttons {{flex-wrap: wrap;}}
.course-explorer .widget-checkbox {{width: auto;}}
.course-explorer .widget-label-basic {{white-space: normal; overflow: visible;}}
.course-explorer .widget-slider .slider-container {{min-width: 0; flex-shrink: 1;}}
.course-explorer .widget-dropdown, .course-explorer .widget-text {{width: auto;}}
.course-explorer .widget-inline-hbox > select, .course-explorer .widget-inline-hbox > input {{
  min-width: 0; max-width: 100%; flex: 1 1 auto;}}
.course-explorer .widget-toggle-buttons > div {{display: flex; flex-wrap: wrap;}}
.course-explorer .jupyter-button {{max-width: 100%; height: auto; white-space: normal;
  min-height: var(--jp-widgets-inline-height, 28px);}}
.course-explorer .widget-hbox {{max-width: 100%;}}
.course-explorer > .course-explorer-view {{margin-left: 0; margin-right: 0;}}
.course-sr-only, .course-explorer .course-explorer-summary {{position: absolute !important;
  width: 1px; height: 1px; margin: -1px; padding: 0; overflow: hidden; border: 0;
  clip: rect(0 0 0 0); clip-path: inset(50%); white-space: nowrap;}}
.course-sr-table {{position: absolute; left: -10000px; width: 1px; height: 1px;
  overflow: hidden; contain: strict; content-visibility: auto;}}
"""

# Runs as the load handler of the explorers' <style>: `this` is that <style> element.
# Written for every browser JupyterLab 4 supports; no template strings, so the source can
# sit in an HTML attribute after html.escape.
SCRIPT = r"""
(function (hook) {
  'use strict';
  var ROOT = '.course-explorer';
  var FOCUSABLE = 'select, button, input, textarea, [tabindex], [contenteditable]';
  var QUIET_MS = 400;
  var api = window.courseExplorerA11y;
  if (!api) {
    api = window.courseExplorerA11y = {version: 1, count: 0, seen: new WeakSet()};
    var set = function (el, name, value) {
      if (el.getAttribute(name) !== value) { el.setAttribute(name, value); }
    };
    var labelOf = function (control) {
      var label = control.querySelector(':scope > .widget-label');
      if (!label || !label.textContent.trim()) { return null; }
      if (!label.id) { label.id = 'course-explorer-label-' + (++api.count); }
      return label;
    };
    api.sync = function (root) {
      root.querySelectorAll('.widget-slider').forEach(function (control) {
        var label = labelOf(control);
        var handle = control.querySelector('.noUi-handle, .ui-slider-handle');
        var readout = control.querySelector('.widget-readout');
        if (!handle) { return; }
        set(handle, 'role', 'slider');
        if (label) { set(handle, 'aria-labelledby', label.id); }
        if (readout && readout.textContent.trim()) {
          set(handle, 'aria-valuetext', readout.textContent.trim());
        }
        if (!handle.classList.contains('noUi-handle')) {
          /* jQuery UI (ipywidgets 7): no ARIA of its own; the position along the track */
          var left = parseFloat(handle.style.left || handle.style.bottom || '0');
          set(handle, 'aria-valuemin', '0');
          set(handle, 'aria-valuemax', '100');
          set(handle, 'aria-valuenow', String(Math.round(isNaN(left) ? 0 : left)));
        }
        if (readout && label) {
          set(readout, 'role', 'textbox');
          set(readout, 'aria-labelledby', label.id);
        }
      });
      root.querySelectorAll('.widget-toggle-buttons').forEach(function (control) {
        var label = labelOf(control);
        var group = control.querySelector(':scope > div') || control;
        set(group, 'role', 'group');
        if (label) { set(group, 'aria-labelledby', label.id); }
        group.querySelectorAll('button').forEach(function (button) {
          set(button, 'aria-pressed', String(button.classList.contains('mod-active')));
        });
      });
      root.querySelectorAll('.widget-dropdown, .widget-text').forEach(function (control) {
        var field = control.querySelector('select, input');
        var label = labelOf(control);
        var linked = field && field.id &&
          control.querySelector('label[for="' + field.id + '"]');
        if (field && label && !linked) { set(field, 'aria-labelledby', label.id); }
      });
      root.querySelectorAll(FOCUSABLE).forEach(function (el) {
        set(el, 'data-lm-suppress-shortcuts', 'true');
      });
      root.querySelectorAll('.course-explorer-status > .widget-html-content').forEach(
        function (box) { set(box, 'role', 'status'); });
      root.querySelectorAll('.course-explorer-summary > .widget-html-content').forEach(
        function (box) { set(box, 'aria-live', 'polite'); set(box, 'aria-atomic', 'true'); });
    };
    var watched = {subtree: true, childList: true, characterData: true, attributes: true,
      attributeFilter: ['aria-valuenow', 'class', 'style']};
    api.announce = function (root) {
      var line = root.querySelector('.course-explorer-view .course-summary');
      var region = root.querySelector('.course-explorer-summary > .widget-html-content');
      if (line && region && region.textContent !== line.textContent) {
        region.textContent = line.textContent;
      }
    };
    api.enhance = function (root) {
      if (api.seen.has(root)) { return; }
      api.seen.add(root);
      var observer = new MutationObserver(function () { api.sync(root); });
      var timer = null;
      var pictures = new MutationObserver(function () {
        clearTimeout(timer);
        timer = setTimeout(function () { api.announce(root); }, QUIET_MS);
      });
      var watch = function () {
        Array.prototype.forEach.call(root.children, function (child) {
          if (child.classList.contains('course-explorer-view')) {
            var content = child.querySelector('.widget-html-content') || child;
            pictures.observe(content, {childList: true});
          } else {
            observer.observe(child, watched);
          }
        });
        observer.observe(root, {childList: true});
      };
      watch();
      new MutationObserver(watch).observe(root, {childList: true});
      api.sync(root);
      api.announce(root);
    };
    var onKey = function (event) {
      var target = event.target;
      var root = target && target.closest ? target.closest(ROOT) : null;
      if (root) {
        api.enhance(root);
        set(target, 'data-lm-suppress-shortcuts', 'true');
      }
    };
    document.addEventListener('keydown', onKey, true);
    document.addEventListener('focusin', onKey, true);
  }
  var tries = 0;
  (function find() {
    var root = hook.closest(ROOT);
    if (root) { api.enhance(root); } else if (++tries < 100) { setTimeout(find, 50); }
  })();
})(this);
"""


def style_with_script(css):
    """Return ``css`` as a ``<style>`` element whose load handler runs :data:`SCRIPT`.

    Parameters
    ----------
    css : str
        Style rules (no ``<style>`` tags).

    Returns
    -------
    str
        HTML for an ``ipywidgets.HTML`` inside the explorer.

    Examples
    --------
    >>> style_with_script(".x {color: red}").startswith('<style onload="')
    True
    """
    source = "\n".join(line.strip() for line in SCRIPT.strip().splitlines())
    handler = html.escape(source, quote=True)
    return f'<style onload="{handler}">{css}</style>'


def looks_most_at(where, weights, labels, query_index):
    """Say in one line which word the query row of ``weights`` weighs most, and how much.

    >>> looks_most_at("scores ÷ 8", np.array([[0.2, 0.8], [0.5, 0.5]]), ["eat", "steak"], 0)
    'scores ÷ 8: eat looks most at steak, 0.80'
    """
    row = weights[query_index]
    top = int(np.argmax(row))
    itself = " (itself)" if top == query_index else ""
    return f"{where}: {labels[query_index]} looks most at {labels[top]}{itself}, {row[top]:.2f}"
