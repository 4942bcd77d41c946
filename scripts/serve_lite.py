"""Serve the built JupyterLite site (_lite/site) for a classroom, with the right MIME types.

    python scripts/serve_lite.py                  # http://127.0.0.1:8000/ on this machine
    python scripts/serve_lite.py --host 0.0.0.0   # also to the room's local network

Any static web server works; this one only makes sure that .wasm is served as
application/wasm (browsers compile it faster that way) and that .json, .mjs and .whl have
sensible types. It serves files, nothing else; stop it with Ctrl-C.
"""

import argparse
import functools
import http.server
import socket
import sys
from pathlib import Path

SITE = Path(__file__).resolve().parents[1] / "_lite" / "site"
EXTRA_TYPES = {
    ".wasm": "application/wasm",
    ".mjs": "text/javascript",
    ".js": "text/javascript",
    ".json": "application/json",
    ".ipynb": "application/json",
    ".whl": "application/zip",
    ".zip": "application/zip",
    ".md": "text/markdown; charset=utf-8",
}


class LiteHandler(http.server.SimpleHTTPRequestHandler):
    """Static files with the MIME types JupyterLite and Pyodide expect."""

    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map, **EXTRA_TYPES}


def make_server(site, host="127.0.0.1", port=8000, quiet=False):
    """A ThreadingHTTPServer serving ``site``; port 0 picks a free port."""
    handler = functools.partial(LiteHandler, directory=str(site))
    if quiet:
        handler.func.log_message = lambda *args: None
    return http.server.ThreadingHTTPServer((host, port), handler)


def _lan_addresses():
    """This machine's IPv4 addresses other than loopback (nothing is sent to find them)."""
    found = set()
    try:
        for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET):
            found.add(info[4][0])
    except OSError:
        pass
    try:  # the address of the default route: connect() on UDP sends no packet
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("10.255.255.255", 1))
            found.add(probe.getsockname()[0])
    except OSError:
        pass
    return sorted(a for a in found if not a.startswith("127."))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1", help="0.0.0.0 to serve the whole room")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--site", type=Path, default=SITE)
    args = parser.parse_args(argv)
    if not (args.site / "index.html").is_file():
        sys.exit(f"No site in {args.site}: build it first with `make lite`.")
    server = make_server(args.site, args.host, args.port)
    port = server.server_address[1]
    print(f"Serving {args.site} (Ctrl-C stops it). Open:")
    print(f"  http://127.0.0.1:{port}/lab/index.html")
    if args.host == "0.0.0.0":
        for address in _lan_addresses() or ["<this machine's address>"]:
            print(f"  http://{address}:{port}/lab/index.html   (for the room)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
