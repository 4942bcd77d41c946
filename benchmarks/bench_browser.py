"""How long a student waits in the browser: input event -> new picture painted.

Starts a private JupyterLab (tests/e2e/labserver.py) with tests/e2e/explorer.ipynb, opens it
in Debian's Chromium (Playwright), runs all cells, then:

- presses ArrowRight on the "scores ÷" slider's handle N times (one press, wait for its
  picture, pause, next press), and chooses other query words, projections and d_k-explorer
  divisors the same way. Latency = from the input event's time stamp to the animation frame
  after the new picture reached the page (a task queued from the next requestAnimationFrame
  callback runs just after that frame is painted). Median and 90th percentile.
- drags the slider's handle with the mouse for one second (50 moves) and counts the distinct
  pictures that appear while the button is down, and whether the last picture is the picture
  of the final value.
- cold start (``--cold N``, default 3; 0 skips it): N times, a fresh browser profile opens
  a notebook (default notebooks/02_dot_product_attention.ipynb) on a kernel that was just
  started, and runs all cells. Reported from the navigation's start: kernel ready, the first
  explorer picture painted (detected in the page itself: the first explorer view holding a
  heatmap) and Run All finished, medians and ranges.

Run: ``python benchmarks/bench_browser.py [--moves 25] [--cold 3] [--notebook PATH]``.
Needs /usr/bin/chromium (or $CHROMIUM) and the dev extras (playwright, jupyterlab).
Wall-clock numbers: on a busy machine they include time spent waiting for a core.
"""

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "e2e"))

from labserver import (  # noqa: E402
    ATTENTION,
    CHROMIUM_ARGS,
    DIVISOR,
    DK,
    NOTEBOOK,
    find_chromium,
    frames,
    open_and_run,
    readout,
    running_lab,
    settle,
    shutdown_kernels,
    title,
    wait_idle,
    watch,
)

GOAL_MS = 100.0
FLOOR = ".course-floor"
# The floor: a plain slider whose observer writes its value into an HTML widget. No explorer,
# no numpy: what JupyterLab, the kernel and ipywidgets cost for any round trip on this machine.
FLOOR_CELL = """import ipywidgets as w

floor_slider = w.FloatSlider(description="floor", continuous_update=True)
floor_view = w.HTML("<span class='course-title'>0.0</span>").add_class("course-explorer-view")
floor_slider.observe(
    lambda c: setattr(floor_view, "value", f"<span class='course-title'>{c['new']}</span>"),
    names="value",
)
w.VBox([floor_slider, floor_view]).add_class("course-floor")"""


def notebook_with_floor(folder):
    notebook = json.loads(NOTEBOOK.read_text())
    cell = {"cell_type": "code", "execution_count": None, "id": "floor", "metadata": {}}
    notebook["cells"].append({**cell, "outputs": [], "source": FLOOR_CELL})
    path = Path(folder) / NOTEBOOK.name
    path.write_text(json.dumps(notebook))
    return path


def last_input(page, kind):
    return page.evaluate(
        "(kind) => { const xs = window.__inputs.filter(x => x.kind === kind);"
        " return xs.length ? xs[xs.length - 1].t : null; }",
        kind,
    )


def one_change(page, root, act, kind):
    """Do ``act()``, wait for the new picture to be painted; return the latency in ms."""
    before = len(frames(page, root))
    act()
    page.wait_for_function(
        """([root, n]) => {
            const f = window.__pictures[root];
            return f.length > n && f[f.length - 1].painted !== null;
        }""",
        arg=[root, before],
        timeout=30_000,
    )
    settle(page, root, quiet_ms=250)
    frame, start = frames(page, root)[before], last_input(page, kind)
    return frame["painted"] - start, frame["t"] - start


def summary(values, which=0):
    values = sorted(value[which] for value in values)
    return statistics.median(values), values[int(0.9 * (len(values) - 1))]


def measure(page, moves):
    results = {}
    handle = page.locator(f"{DIVISOR} .noUi-handle, {DIVISOR} .ui-slider-handle").first
    watch(page, ATTENTION)
    watch(page, DK)
    watch(page, FLOOR)
    floor = page.locator(f"{FLOOR} .noUi-handle, {FLOOR} .ui-slider-handle").first

    def press_floor():
        floor.focus()
        page.keyboard.press("ArrowRight")

    results["floor: plain slider -> HTML text"] = [
        one_change(page, FLOOR, press_floor, "keydown") for _ in range(moves)
    ]

    def press():
        handle.focus()
        page.keyboard.press("ArrowRight")

    results["divisor (ArrowRight on the slider)"] = [
        one_change(page, ATTENTION, press, "keydown") for _ in range(moves)
    ]
    query = page.locator(f"{ATTENTION} .widget-dropdown:has-text('query word') select")
    words = ["i", "drink", "coke", "but", "eat", "steak"]
    results["query word (dropdown)"] = [
        one_change(page, ATTENTION, lambda w=words[i % 6]: query.select_option(label=w), "change")
        for i in range(2, moves + 2)  # the first view shows "drink": start at "coke"
    ]
    projection = page.locator(f"{ATTENTION} .widget-dropdown:has-text('queries, keys') select")
    choices = ["random W_Q ≠ W_K", "one random W for both", "Q = K = X (the word vectors)"]
    results["projection (dropdown)"] = [
        one_change(
            page, ATTENTION, lambda c=choices[i % 3]: projection.select_option(label=c), "change"
        )
        for i in range(moves)
    ]
    box = page.locator(f"{ATTENTION} .widget-text:has-text('Sentence') input").first
    sentences = ["the cat sat on the mat", "I drink coke, but eat steak"]

    def enter(text):
        box.fill(text)
        box.press("Enter")

    results["new sentence (Enter)"] = [
        one_change(page, ATTENTION, lambda t=sentences[i % 2]: enter(t), "keydown")
        for i in range(max(10, moves // 2))
    ]
    buttons = ["÷ 1", "÷ √d_k", "÷ d_k"]
    results["d_k explorer: divisor (toggle)"] = [
        one_change(
            page,
            DK,
            lambda b=buttons[i % 3]: page.locator(f"{DK} button:text-is('{b}')").click(),
            "click",
        )
        for i in range(moves)
    ]
    return results


def drag_one_second(page):
    watch(page, ATTENTION)
    handle = page.locator(f"{DIVISOR} .noUi-handle, {DIVISOR} .ui-slider-handle").first
    handle.scroll_into_view_if_needed()
    box = handle.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    start = page.evaluate("() => performance.now()")
    moves, elapsed = 0, 0.0
    while elapsed < 1000.0:  # as many moves as the machine allows in one second, 150 px
        elapsed = page.evaluate("() => performance.now()") - start
        page.mouse.move(x - 150.0 * min(elapsed, 1000.0) / 1000.0, y, steps=4)
        moves += 1
    released = page.evaluate("() => performance.now()")
    page.mouse.up()
    settle(page, ATTENTION, quiet_ms=1500)
    shown = frames(page, ATTENTION)
    during = {f["fp"] for f in shown if start <= f["t"] <= released}
    final = readout(page)
    matches = title(page, ATTENTION).startswith(f"scores ÷ {final},")
    return len(during), released - start, moves, len(shown), final, matches


def cold_starts(browser, server, notebook, runs):
    """Open ``notebook`` ``runs`` times, each in a fresh profile on a fresh kernel."""
    timings = []
    for _ in range(runs):
        shutdown_kernels(server)
        context = browser.new_context(viewport={"width": 1366, "height": 768})
        try:
            page = context.new_page()
            page.set_default_timeout(120_000)
            timings.append(open_and_run(page, server, notebook, pictures=()))
        finally:
            context.close()
    return timings


def print_cold(name, timings):
    print(
        f"\ncold start of {name} ({len(timings)} runs, fresh profile and kernel each), "
        "seconds from opening the page:"
    )
    for key, label in [
        ("kernel_ready", "kernel ready"),
        ("first_picture", "first explorer picture painted"),
        ("all_ran", "Run All finished"),
    ]:
        values = sorted(t[key] / 1000 for t in timings)
        print(
            f"  {label:<32}median {statistics.median(values):5.2f}   "
            f"range {values[0]:.2f}-{values[-1]:.2f}"
        )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--moves", type=int, default=25)
    parser.add_argument("--cold", type=int, default=3, help="cold starts (0: none)")
    parser.add_argument(
        "--notebook", type=Path, default=ROOT / "notebooks" / "02_dot_product_attention.ipynb"
    )
    args = parser.parse_args(argv)
    executable = find_chromium()
    if executable is None:
        sys.exit("no Chromium: install it (apt-get install chromium) or set $CHROMIUM")
    from playwright.sync_api import sync_playwright

    folder = tempfile.TemporaryDirectory(prefix="bench-browser-")
    notebook = notebook_with_floor(folder.name)
    cold_notebook = Path(folder.name) / f"cold_{args.notebook.name}"  # its own name
    cold_notebook.write_bytes(args.notebook.read_bytes())
    lab_notebooks = [notebook] + ([cold_notebook] if args.cold else [])
    with folder, running_lab(lab_notebooks) as server, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1366, "height": 768})
            page.set_default_timeout(60_000)
            open_and_run(page, server)
            page.wait_for_selector(f"{FLOOR} .course-title")
            wait_idle(page)
            results = measure(page, args.moves)
            drag = drag_one_second(page)
            wait_idle(page)
            page.close()
            cold = cold_starts(browser, server, cold_notebook.name, args.cold)
        finally:
            browser.close()

    header = ("input event -> new picture painted", "moves", "median ms", "p90 ms", "in DOM ms")
    print("{:<40}{:>6}{:>11}{:>9}{:>11}".format(*header))
    for name, values in results.items():
        median, p90 = summary(values)
        print(f"{name:<40}{len(values):>6}{median:>11.0f}{p90:>9.0f}{summary(values, 1)[0]:>11.0f}")
    pictures, span, moves, total, final, matches = drag
    print(
        f"\none-second drag ({span:.0f} ms, {moves} mouse moves): {pictures} distinct pictures "
        f"while dragging ({total} in all, release included); final value {final}; last picture "
        f"matches it: {matches}"
    )
    median = summary(results["divisor (ArrowRight on the slider)"])[0]
    verdict = "meets" if median <= GOAL_MS else "MISSES"
    print(f"divisor median {median:.0f} ms {verdict} the {GOAL_MS:.0f} ms goal; drag goal: >= 8")
    print("'in DOM': input event -> new picture in the page (before it is painted), median")
    floor = summary(results["floor: plain slider -> HTML text"])[0]
    print(f"divisor median / floor median: {median / floor:.2f}")
    if cold:
        print_cold(args.notebook.name, cold)


if __name__ == "__main__":
    main()
