"""A class opening the site at once: many cold loads of notebook 01 from one laptop's server.

1. Records what a first visit to notebook 01 asks for: Debian's Chromium opens it in a fresh
   profile and runs it all, against the site's server in this process (scripts/serve_lite.py),
   which notes every path it is asked for (the kernel's worker's requests included).
2. Starts the site's server as its own process (``python scripts/serve_lite.py``, as an
   instructor would) on a free loopback port, and sends it ``--students`` cold loads at once:
   each student is one thread with one keep-alive connection that asks for every recorded
   path with ``Accept-Encoding: gzip``, as a browser with an empty cache does (a browser opens
   up to six connections; one per student makes the server juggle as many clients as the
   class has students). The load is bounded: that many paths per student, a 60 s timeout per
   request and ``--deadline`` seconds in all; the server is stopped at the end.

Reports the bytes one student receives, the total, the wall time, the server's throughput on
loopback, the slowest student's time, and the minutes a class of 60 would wait for the same
bytes over a shared 100 Mbit/s Wi-Fi (bytes × 60 × 8 / 100e6, the link as the only limit).
Clients and server share this machine's cores, so the throughput is a lower bound.

Run: ``python benchmarks/bench_class.py [--students 60] [--site DIR]``.
"""

import argparse
import http.client
import json
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "e2e"))

import litesite  # noqa: E402

NOTEBOOK = "01_words_as_vectors.ipynb"
LINK_BITS_PER_S = 100e6
CLASS = 60


def record_paths(site):
    """The paths a cold visit to notebook 01 (Run All) asks for, in order."""
    from playwright.sync_api import sync_playwright

    traffic = litesite.Traffic()
    server, base = litesite.start_server(site, traffic)
    try:
        with tempfile.TemporaryDirectory() as profile, sync_playwright() as playwright:
            context = litesite.launch(playwright, profile)
            try:
                litesite.open_notebook(context.new_page(), base, NOTEBOOK, want_picture=False)
            finally:
                context.close()
    finally:
        litesite.stop_server(server)
    # Each path once (a browser asks again only to revalidate, which a cold cache skips).
    return list(dict.fromkeys(path for path, status, *_ in traffic.responses if status == 200))


def student(port, paths, deadline):
    """One cold load over one keep-alive connection: (bytes received, seconds, failures)."""
    started, received, failures = time.monotonic(), 0, 0
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        for path in paths:
            if time.monotonic() > deadline:
                failures += 1
                break
            try:
                connection.request("GET", path, headers={"Accept-Encoding": "gzip"})
                response = connection.getresponse()
                body = response.read()
                received += len(body)
                failures += response.status != 200
            except (OSError, http.client.HTTPException):
                failures += 1
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    finally:
        connection.close()
    return received, time.monotonic() - started, failures


def students_in_one_process(port, paths, count, deadline):
    """``count`` students as threads started together; their results."""
    results = [None] * count
    gate = threading.Barrier(count)

    def run(i):
        gate.wait()
        results[i] = student(port, paths, deadline)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(port, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"the site's server did not listen on port {port}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=60, help="at least 50 for the issue")
    parser.add_argument("--processes", type=int, default=2, help="client processes")
    parser.add_argument("--deadline", type=float, default=600, help="seconds for the whole load")
    parser.add_argument("--site", type=Path, help="a built site (default: build or reuse)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        site = args.site
        if site is None:
            site, line = litesite.build_site(Path(tmp) / "site")
            print(line)
        paths = record_paths(site)
        port = free_port()
        command = [sys.executable, str(ROOT / "scripts" / "serve_lite.py"), "--port", str(port)]
        command += ["--site", str(site)]
        server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_for(port)
            deadline = time.monotonic() + args.deadline
            shares = [args.students // args.processes] * args.processes
            shares[0] += args.students - sum(shares)
            started = time.monotonic()
            with ProcessPoolExecutor(args.processes) as pool:
                futures = [
                    pool.submit(students_in_one_process, port, paths, n, deadline) for n in shares
                ]
                results = [r for future in futures for r in future.result()]
            wall = time.monotonic() - started
        finally:
            server.terminate()
            server.wait(timeout=30)
    per_student = statistics.median(r[0] for r in results)
    total = sum(r[0] for r in results)
    report = {
        "students": args.students,
        "requests_per_student": len(paths),
        "mb_per_student": round(per_student / 1e6, 2),
        "total_mb": round(total / 1e6, 1),
        "wall_s": round(wall, 1),
        "throughput_mb_per_s": round(total / 1e6 / wall, 1),
        "slowest_student_s": round(max(r[1] for r in results), 1),
        "median_student_s": round(statistics.median(r[1] for r in results), 1),
        "failed_requests": sum(r[2] for r in results),
        "class_of_60_at_100_mbit_min": round(per_student * CLASS * 8 / LINK_BITS_PER_S / 60, 1),
    }
    width = max(map(len, report))
    for key, value in report.items():
        print(f"{key:<{width}}  {value}")
    out = ROOT / "_lite" / "bench-class.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(report, indent=1) + "\n")
    return 1 if report["failed_requests"] else 0


if __name__ == "__main__":
    sys.exit(main())
