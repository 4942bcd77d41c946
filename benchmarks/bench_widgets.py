"""How long the kernel works after a student moves a control: change -> new picture HTML.

For sentences of 6, 20 and 60 words (built from the bundled vocabulary, seeded), set each of
the attention explorer's controls to a new value and time until the weights are recomputed
and the new picture's HTML is built and handed to its widget (all the kernel does; the trip
to the browser and the browser's drawing are measured by ``bench_browser.py``). Also the
d_k explorer at seq_len 10, 20 and 60, and a burst of 50 slider messages inside a running
event loop (as in ipykernel): how many pictures are drawn, and whether the last is the last
value.

Goals (medians): divisor change at 6 words <= 60 ms; query or projection change <= 120 ms;
any d_k explorer change at seq_len 10 <= 120 ms.

Run: ``python benchmarks/bench_widgets.py [--repeats 21]``. On a busy machine the wall clock
also counts time spent waiting for a core: the CPU column is this process's own time.
"""

import argparse
import asyncio
import statistics
import time

import numpy as np

from course_lib import attention_explorer, dk_explorer
from course_lib.embeddings import load_embeddings

SIZES = (6, 20, 60)
GOALS = {"divisor": 60.0, "query": 120.0, "projection": 120.0, "dk": 120.0}


def sentence_of(n_words, seed=0):
    """n_words alphabetic words from the bundled vocabulary, chosen with a fixed seed."""
    vocabulary = [w for w in load_embeddings("bundled").index_to_key if w.isalpha()]
    rng = np.random.default_rng(seed)
    return " ".join(rng.choice(vocabulary[:2000], size=n_words, replace=False))


def time_changes(explorer, control, values, repeats):
    """Median, 90th percentile and CPU median (ms) of control.value = v plus the redraw."""
    control.value = values[-1]  # warm-up
    explorer.view_html  # noqa: B018
    wall, cpu = [], []
    for i in range(repeats):
        value = values[i % len(values)]
        if value == control.value:
            value = values[(i + 1) % len(values)]
        start, start_cpu = time.perf_counter(), time.process_time()
        control.value = value  # the observer recomputes (no event loop here: draws at once)
        explorer.view_html  # noqa: B018 - the picture is built
        wall.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
    wall.sort()
    return statistics.median(wall), wall[int(0.9 * (len(wall) - 1))], statistics.median(cpu)


def burst(explorer, n=50):
    """n slider changes in one turn of a running event loop: pictures drawn, last matches."""
    slider = explorer.controls["divisor"]
    values = np.geomspace(1.0, 30.0, n)

    async def run():
        drawn = explorer.draw_count
        start = time.perf_counter()
        for value in values:
            slider.value = float(value)
        await asyncio.sleep(0)
        return explorer.draw_count - drawn, (time.perf_counter() - start) * 1000

    pictures, ms = asyncio.run(run())
    last = f"scores ÷ {values[-1]:.2f}," in explorer._view.value
    return pictures, ms, last


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=21)
    args = parser.parse_args(argv)

    print(
        "{:<40}{:>6}{:>11}{:>9}{:>9}{:>9}".format(
            "change", "words", "median ms", "p90 ms", "CPU ms", "HTML kB"
        )
    )
    row = "{:<40}{:>6}{:>11.1f}{:>9.1f}{:>9.1f}{:>9.0f}"
    verdicts = []
    for n_words in SIZES:
        sentence = "I drink coke, but eat steak" if n_words == 6 else sentence_of(n_words)
        explorer = attention_explorer(sentence, max_words=max(SIZES))
        assert len(explorer.words) == n_words, (explorer.words, explorer.status)
        size = len(explorer.view_html.encode()) / 1024
        controls = explorer.controls
        cases = [
            ("divisor", controls["divisor"], [1.0, 2.0, 4.0, 8.0, 16.0, 32.0]),
            ("query", controls["query"], list(range(min(n_words, 6)))),
            ("projection", controls["projection"], ["none", "random", "shared"]),
            ("colour scale", controls["colour_scale"], ["fixed", "stretch"]),
        ]
        for name, control, values in cases:
            timing = time_changes(explorer, control, values, args.repeats)
            print(row.format(f"attention explorer: {name}", n_words, *timing, size))
            if n_words == 6 and name in GOALS:
                verdicts.append((f"{name} (6 words)", timing[0], GOALS[name]))
        pictures, ms, last = burst(explorer)
        print(
            f"{'  burst of 50 divisor messages':<40}{n_words:>6}   -> {pictures} picture(s) "
            f"in {ms:.0f} ms, last value drawn: {last}"
        )

    for seq_len in (10, 20, 60):
        explorer = dk_explorer(seq_len=seq_len)
        size = len(explorer.view_html.encode()) / 1024
        cases = [
            ("d_k", explorer.controls["d_k"], [16, 64, 256, 1024]),
            ("divide_by", explorer.controls["divide_by"], ["1", "sqrt(d_k)", "d_k"]),
            ("same_qk", explorer.controls["same_qk"], [False, True]),
        ]
        for name, control, values in cases:
            timing = time_changes(explorer, control, values, args.repeats)
            print(row.format(f"d_k explorer: {name}", seq_len, *timing, size))
            if seq_len == 10:
                verdicts.append((f"d_k explorer {name} (seq_len 10)", timing[0], GOALS["dk"]))

    print()
    for name, median, goal in verdicts:
        verdict = "meets" if median <= goal else "MISSES"
        print(f"{name}: median {median:.1f} ms, {verdict} the {goal:.0f} ms goal")
    print("(kernel side only: recompute + picture HTML; the browser is bench_browser.py)")


if __name__ == "__main__":
    main()
