"""Every student can use the explorers (WCAG 2.1 AA): JupyterLab 4 + Chromium, measured.

Opens tests/e2e/explorer.ipynb (an attention explorer and a d_k explorer) in a private
JupyterLab and checks, as a browser and a screen reader see the page:

- axe-core (npm, installed by ``make test`` into tests/e2e/node_modules), scoped to each
  explorer after setting ``html``/``body`` to 100% height (without it JupyterLab's layout
  makes axe see the notebook as hidden and pass). First shown to fail on a bad snippet put
  inside an explorer; then 0 serious or critical violations in the course's own HTML, in
  the default view, with stretched colours and a random projection (mid-range colours), and
  for a sentence too long for printed numbers. What remains from JupyterLab or ipywidgets is
  printed as a report (run with ``-rP`` to see it);
- every control has an accessible name and says the value it shows (the divisor as 8.00, not
  its base-2 exponent; d_k as 64, not an index); toggle buttons are labelled groups whose
  buttons say ``aria-pressed``;
- each heatmap is a table to assistive technology (caption, the query words as row headers,
  the attended words as column headers, every number, also when too small to print);
- each redraw is summarised in a polite live region, the status line has ``role="status"``;
- the keyboard focus ring and the selected toggle button stand out at least 3:1, and every
  number printed on a cell is at least 4.5:1 against it, as drawn;
- magnification: at 150% of 1366x768 with the file browser open the divisor slider and the
  heatmap are on screen together; at 320 CSS px only the picture scrolls sideways and no
  label is cut.

Keys (no keystroke edits the notebook) are tested in test_explorer_keyboard.py.
Run: ``pytest -m e2e tests/e2e/test_explorer_a11y.py -rP``.
"""

import os
from pathlib import Path

import pytest
from labserver import ATTENTION, DIVISOR, DK, open_and_run, settle, wait_idle, watch

from course_lib.colours import contrast_ratio

pytestmark = pytest.mark.e2e

AXE = Path(__file__).with_name("node_modules") / "axe-core" / "axe.min.js"
SERIOUS = {"serious", "critical"}
OWN_HTML = ".course-explorer-view, .course-explorer-status, .course-explorer-summary"
LONG_SENTENCE = "the cat sat on the mat and the dog ate the food in the garden"


def _skip_or_fail(reason):
    if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def axe_source():
    if not AXE.exists():
        _skip_or_fail(f"axe-core is not installed ({AXE}): `make test` runs npm ci in tests/e2e")
    return AXE.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def lab(browser, lab_server, axe_source):
    """One JupyterLab page with explorer.ipynb run and axe-core loaded, for this module."""
    context = browser.new_context(viewport={"width": 1500, "height": 1100})
    page = context.new_page()
    page.set_default_timeout(60_000)
    open_and_run(page, lab_server)
    page.add_script_tag(content=axe_source)
    # Without this, JupyterLab's body has no height and axe sees every cell as hidden.
    page.evaluate(
        "() => { for (const e of [document.documentElement, document.body]) "
        "e.style.height = '100%'; }"
    )
    yield page
    context.close()


# -- axe-core ---------------------------------------------------------------------------------

AXE_RUN = """async ([scope, own]) => {
    const result = await axe.run(document.querySelector(scope),
        {resultTypes: ["violations"], elementRef: true});
    return result.violations.map(v => ({
        id: v.id, impact: v.impact, help: v.help,
        nodes: v.nodes.map(n => ({target: n.target.join(" "),
            own: !!(n.element && n.element.closest(own)),
            html: n.html.slice(0, 160)})),
    }));
}"""


def axe(page, scope):
    """axe-core's violations inside ``scope``: [{id, impact, help, nodes: [{own, ...}]}]."""
    return page.evaluate(AXE_RUN, [scope, OWN_HTML])


def serious_own(violations):
    return [
        (v["id"], n["target"])
        for v in violations
        if v["impact"] in SERIOUS
        for n in v["nodes"]
        if n["own"]
    ]


def report(title, violations):
    lines = [f"{title}: {len(violations)} kinds of violation"]
    for v in violations:
        where = "course HTML" if any(n["own"] for n in v["nodes"]) else "ipywidgets/JupyterLab"
        lines.append(
            f"  {v['impact']:>8} {v['id']} ({where}, {len(v['nodes'])} nodes): {v['help']}"
        )
        lines.extend(f"           {n['target']}: {n['html']}" for n in v["nodes"][:3])
    print("\n".join(lines))


def test_axe_can_fail_inside_an_explorer(lab):
    """The check is live: a bad snippet inside an explorer's view is found."""
    lab.evaluate(
        """(root) => {
            const bad = document.createElement("div");
            bad.id = "course-bad-snippet";
            bad.innerHTML = '<img src="data:,"><input type="text">'
                + '<div role="slider" tabindex="0"></div>';
            document.querySelector(root + " .course-explorer-view").appendChild(bad);
        }""",
        ATTENTION,
    )
    try:
        found = {v["id"] for v in axe(lab, ATTENTION) if v["impact"] in SERIOUS}
    finally:
        lab.evaluate("() => document.getElementById('course-bad-snippet').remove()")
    assert {"image-alt", "label", "aria-required-attr"} <= found, found


def test_axe_finds_nothing_serious_in_the_explorers(lab):
    for root in (ATTENTION, DK):
        violations = axe(lab, root)
        report(f"axe, {root}", violations)
        assert serious_own(violations) == [], violations
    everything = axe(lab, ".jp-Notebook")
    outside = [
        dict(v, nodes=[n for n in v["nodes"] if ".course-explorer" not in n["html"]])
        for v in everything
    ]
    report("axe, the rest of the notebook (JupyterLab)", [v for v in outside if v["nodes"]])


def test_axe_with_mid_range_colours_and_a_long_sentence(lab):
    """Stretched colours + a random projection put most cells mid-viridis (the old failure)."""
    watch(lab, ATTENTION)
    lab.locator(f"{ATTENTION} button:has-text('stretch')").first.click()
    projection = lab.locator(f"{ATTENTION} .widget-dropdown:has-text('queries, keys') select")
    projection.select_option(index=1)
    settle(lab, ATTENTION)
    violations = axe(lab, ATTENTION)
    report("axe, stretched colours and a random projection", violations)
    assert serious_own(violations) == []
    assert_numbers_readable(lab, ATTENTION)

    box = lab.locator(f"{ATTENTION} .widget-text input").first
    box.fill(LONG_SENTENCE)
    box.press("Enter")
    lab.wait_for_function(
        "(root) => +document.querySelector(root + ' .course-heatmap').dataset.rows > 10",
        arg=ATTENTION,
    )
    settle(lab, ATTENTION)
    violations = axe(lab, ATTENTION)
    report("axe, a sentence too long for printed numbers", violations)
    assert serious_own(violations) == []


def assert_numbers_readable(page, root):
    """Every number printed on a heatmap cell is at least 4.5:1 against the cell, as drawn."""
    pairs = page.evaluate(
        """(root) => [...document.querySelectorAll(root + " .course-cells > *")]
            .filter(c => c.textContent.trim())
            .map(c => [getComputedStyle(c).color, getComputedStyle(c).backgroundColor])""",
        root,
    )
    assert pairs, "no printed numbers found"
    ratios = [contrast_ratio(_hex(ink), _hex(cell))[0] for ink, cell in pairs]
    assert min(ratios) >= 4.5, (min(ratios), len(pairs))


def _hex(css):
    """'rgb(1, 2, 3)' or 'rgba(1, 2, 3, 1)' as '#010203'."""
    parts = css[css.index("(") + 1 : css.index(")")].split(",")
    return "#" + "".join(f"{int(float(p)):02x}" for p in parts[:3])


# -- names, values, tables, live regions ---------------------------------------------------


def test_controls_have_names_and_say_the_value_shown(lab):
    attention, dk = lab.locator(ATTENTION), lab.locator(DK)
    divisor = attention.get_by_role("slider", name="scores ÷")
    readout = lab.locator(f"{DIVISOR} .widget-readout").first
    assert divisor.get_attribute("aria-valuetext") == readout.inner_text().strip()
    divisor.focus()
    lab.keyboard.press("ArrowRight")
    wait_idle(lab)
    lab.wait_for_function(
        "(root) => { const h = document.querySelector(root + ' [role=slider]'); "
        "return h.getAttribute('aria-valuetext') !== '8.00'; }",
        arg=ATTENTION,
    )
    shown = readout.inner_text().strip()
    assert divisor.get_attribute("aria-valuetext") == shown and float(shown) > 8.0
    assert attention.get_by_role("textbox", name="scores ÷").count() == 1  # the readout

    d_k = dk.get_by_role("slider", name="d_k")
    assert d_k.get_attribute("aria-valuetext") == "64"  # the number, not its index (6)

    for root, group in ((attention, "colours:"), (dk, "scores")):
        buttons = root.get_by_role("group", name=group).get_by_role("button").all()
        pressed = [b.get_attribute("aria-pressed") for b in buttons]
        shown = [b.evaluate("(e) => String(e.classList.contains('mod-active'))") for b in buttons]
        assert len(buttons) >= 2 and pressed == shown and pressed.count("true") == 1, pressed
        other = buttons[pressed.index("false")]
        other.click()  # the pressed state follows a click
        lab.wait_for_function(
            "(e) => e.getAttribute('aria-pressed') === 'true'", arg=other.element_handle()
        )
    for name in ("Sentence:", "query word:", "queries, keys:"):
        assert (
            attention.get_by_role("combobox", name=name)
            .or_(attention.get_by_role("textbox", name=name))
            .count()
            == 1
        ), name
    assert dk.get_by_role("checkbox", name="keys = queries (K = Q)").count() == 1
    assert dk.get_by_role("button", name="new random vectors").count() == 1


def test_each_heatmap_is_a_table_with_headers_and_every_number(lab):
    for root in (ATTENTION, DK):
        tables = lab.locator(root).get_by_role("table")
        for i in range(tables.count()):
            table = tables.nth(i)
            shape = table.evaluate(
                """(t) => ({caption: t.caption ? t.caption.textContent : "",
                    rows: [...t.querySelectorAll("th[scope=row]")].map(h => h.textContent),
                    cols: [...t.querySelectorAll("th[scope=col]")].map(h => h.textContent),
                    cells: [...t.querySelectorAll("td")].map(c => c.textContent)})"""
            )
            assert shape["caption"].strip(), shape
            assert shape["rows"] and shape["cols"], shape
            if root == ATTENTION and i == 0:  # the weights: a number for every pair
                n_rows, n_cols = len(shape["rows"]), len(shape["cols"])
                assert len(shape["cells"]) == n_rows * n_cols
                assert all(c.strip() for c in shape["cells"])


def test_redraws_are_announced_politely(lab):
    summary = lab.locator(f"{ATTENTION} .course-explorer-summary .widget-html-content")
    assert summary.get_attribute("aria-live") == "polite"
    status = lab.locator(f"{ATTENTION} .course-explorer-status .widget-html-content")
    assert status.get_attribute("role") == "status"
    lab.wait_for_function(  # the newest summary, once the picture stopped changing
        "(el) => el.textContent.includes('looks most at')", arg=summary.element_handle()
    )
    lab.locator(f"{ATTENTION} button:has-text('÷ 1')").first.click()
    lab.wait_for_function(
        "(el) => el.textContent.startsWith('scores ÷ 1.00: ')", arg=summary.element_handle()
    )
    line = summary.inner_text()
    title = lab.locator(f"{ATTENTION} .course-title").first.inner_text()
    assert title.startswith("scores ÷ 1.00") and " looks most at " in line, (title, line)


# -- focus and selected state ----------------------------------------------------------------


def test_focus_ring_and_selected_state_stand_out(lab):
    lab.locator(f"{ATTENTION} .widget-text input").first.focus()
    rings = []
    for _ in range(12):  # Tab through the attention explorer's controls
        lab.keyboard.press("Tab")
        ring = lab.evaluate(
            """(root) => {
                const el = document.activeElement;
                if (!el.closest(root)) return null;
                const style = getComputedStyle(el);
                return {what: el.tagName + " " + (el.textContent || "").trim().slice(0, 20),
                        width: parseFloat(style.outlineWidth), line: style.outlineStyle,
                        colour: style.outlineColor};
            }""",
            ATTENTION,
        )
        if ring:
            rings.append(ring)
    assert len(rings) >= 5, rings
    for ring in rings:
        assert ring["line"] != "none" and ring["width"] >= 2, ring
        assert contrast_ratio(_hex(ring["colour"]), "#ffffff")[0] >= 3.0, ring

    buttons = lab.locator(f"{DK} .widget-toggle-buttons button")
    backgrounds = {
        b.get_attribute("aria-pressed"): b.evaluate("(e) => getComputedStyle(e).backgroundColor")
        for b in buttons.all()
    }
    assert contrast_ratio(_hex(backgrounds["true"]), _hex(backgrounds["false"]))[0] >= 3.0


# -- magnification ---------------------------------------------------------------------------


def test_slider_and_heatmap_fit_one_screen_at_150_percent(browser, lab_server):
    """150% of 1366x768 = a 911x512 CSS-pixel window, with the file browser open."""
    context = browser.new_context(viewport={"width": 911, "height": 512}, device_scale_factor=1.5)
    try:
        page = context.new_page()
        page.set_default_timeout(60_000)
        open_and_run(page, lab_server)
        page.evaluate("() => window.jupyterapp.commands.execute('filebrowser:activate')")
        page.wait_for_selector(".jp-FileBrowser", state="visible")
        slider = page.locator(DIVISOR).first
        slider.evaluate("(e) => e.scrollIntoView({block: 'start'})")
        page.wait_for_timeout(300)
        boxes = slider.evaluate(
            """(s, root) => {
                const rect = (e) => { const r = e.getBoundingClientRect();
                    return {top: r.top, bottom: r.bottom, left: r.left, right: r.right}; };
                const notebook = s.closest(".jp-WindowedPanel-outer, .jp-Notebook");
                return {slider: rect(s),
                        heatmap: rect(document.querySelector(root + " .course-heatmap")),
                        screen: rect(notebook),
                        browser: document.querySelector(".jp-FileBrowser")
                            .getBoundingClientRect().width};
            }""",
            ATTENTION,
        )
        screen = boxes["screen"]
        assert boxes["browser"] > 150, boxes  # the file browser is open beside the notebook
        for name in ("slider", "heatmap"):
            box = boxes[name]
            assert box["top"] >= screen["top"] - 1 and box["bottom"] <= screen["bottom"] + 1, (
                name,
                boxes,
            )
            assert box["left"] >= screen["left"] - 1 and box["right"] <= screen["right"] + 1, (
                name,
                boxes,
            )
    finally:
        context.close()


OVERFLOW = """([root, picture]) => {
    // everything in the explorer that is cut or scrolls sideways, except the picture and
    // the numbers table (two-dimensional data, which WCAG 1.4.10 lets scroll) and the text
    // for screen readers only (clipped on purpose)
    const out = [];
    const skip = picture
        + ", .course-table-scroll, .course-sr-only, .course-sr-table, .course-explorer-summary";
    const measure = document.createElement("canvas").getContext("2d");
    for (const el of document.querySelector(root).querySelectorAll("*")) {
        if (el.closest(skip) || !el.getClientRects().length) continue;
        const style = getComputedStyle(el);
        const what = el.tagName + "." + el.className + " "
            + (el.textContent || el.value || "").trim().slice(0, 30);
        if (el.tagName === "SELECT") {  // the chosen option's text must fit the box
            measure.font = style.font;
            const text = el.options[el.selectedIndex].text;
            if (measure.measureText(text).width + 20 > el.clientWidth)
                out.push("select too narrow for " + JSON.stringify(text) + ": " + el.clientWidth);
        } else if (el.tagName !== "INPUT" && el.scrollWidth > el.clientWidth + 1
                   && el.clientWidth > 0 && style.overflowX !== "visible") {
            out.push(what + " " + el.scrollWidth + ">" + el.clientWidth);
        }
    }
    const area = document.querySelector(root).closest(".jp-OutputArea-output")
        .getBoundingClientRect();
    for (const el of document.querySelector(root).querySelectorAll(
            ".widget-label, select, input, button, .widget-readout, .course-note")) {
        if (!el.getClientRects().length || el.closest(skip)) continue;
        const box = el.getBoundingClientRect();
        if (box.right > area.right + 1 || box.left < area.left - 1)
            out.push("outside the output area: " + el.tagName + " "
                     + (el.textContent || "").trim().slice(0, 30));
    }
    return out;
}"""


def test_at_320_css_pixels_only_the_picture_scrolls_sideways(browser, lab_server):
    context = browser.new_context(viewport={"width": 320, "height": 640})
    try:
        page = context.new_page()
        page.set_default_timeout(60_000)
        open_and_run(page, lab_server)
        # a phone-sized window: the side panels folded away, as a student would
        page.evaluate(
            "() => { window.jupyterapp.shell.collapseLeft(); "
            "window.jupyterapp.shell.collapseRight(); }"
        )
        page.wait_for_timeout(500)
        for root in (ATTENTION, DK):
            page.locator(root).first.scroll_into_view_if_needed()
            problems = page.evaluate(OVERFLOW, [root, f"{root} .course-explorer-picture"])
            assert problems == [], problems
            page_wide = page.evaluate(
                "() => document.scrollingElement.scrollWidth - window.innerWidth"
            )
            assert page_wide <= 1, page_wide
    finally:
        context.close()
