"""Serve the built JupyterLite site (_lite/site) to a classroom, with Python alone.

    python scripts/serve_lite.py                  # http://127.0.0.1:8000/ on this machine
    python scripts/serve_lite.py --host 0.0.0.0   # also to the room's local network

Standard library only (http.server, one thread per connection), so it runs the same on
Linux, macOS and Windows laptops. What it adds to a plain static server:

- **Precompressed files.** ``scripts/build_lite.py`` writes ``NAME.gz`` beside every file that
  gzip makes smaller by a tenth or more (the WebAssembly interpreter, JavaScript, JSON,
  notebooks). A browser that accepts gzip gets those bytes with ``Content-Encoding: gzip``;
  any other client gets the file itself. Nothing is compressed while serving.
- **The right headers.** ``Content-Type`` (``application/wasm`` for WebAssembly, which browsers
  compile while it downloads), ``Content-Length``, ``Vary: Accept-Encoding``, ``ETag`` and
  ``Last-Modified``.
- **Caching.** A file whose name changes with its content (a content hash in a file or folder
  name, as in ``build/1053.75981ec.js`` or ``pyodide/0.27.7-1a2b3c4d5e6f/``) is cached by the
  browser for a year (``immutable``). Every other file is revalidated on each visit (``no-cache``):
  the browser asks, and gets ``304 Not Modified`` with no body while its copy is current. A
  second visit downloads nothing again.

Stop it with Ctrl-C.
"""

import argparse
import email.utils
import functools
import hashlib
import http.server
import os
import re
import socket
import sys
import threading
from pathlib import Path

SITE = Path(__file__).resolve().parents[1] / "_lite" / "site"
COMPRESSED = ".gz"  # suffix of the precompressed copies written by build_lite.py
TYPES = {
    ".wasm": "application/wasm",
    ".mjs": "text/javascript",
    ".js": "text/javascript",
    ".json": "application/json",
    ".ipynb": "application/json",
    ".webmanifest": "application/manifest+json",
    ".whl": "application/zip",
    ".zip": "application/zip",
    ".md": "text/markdown; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".css": "text/css",
    ".svg": "image/svg+xml",
    ".woff2": "font/woff2",
    ".woff": "font/woff",
    ".ttf": "font/ttf",
}
# A run of 7 or more hex digits between separators in any part of the path: a content hash.
HASHED = re.compile(r"(?:^|[./-])[0-9a-f]{7,64}(?=[./-]|$)")
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"


def is_immutable(path):
    """Whether a site path (``build/1053.75981ec.js``) carries a hash of its content."""
    return any(HASHED.search(part) for part in path.split("/"))


def accepts_gzip(header):
    """Whether an Accept-Encoding header accepts gzip (``gzip;q=0`` refuses it)."""
    for item in (header or "").split(","):
        name, _, params = item.strip().partition(";")
        if name.strip().lower() in {"gzip", "*"}:
            quality = params.strip().lower().removeprefix("q=")
            try:
                return not params.strip() or float(quality) > 0
            except ValueError:
                return False
    return False


class LiteHandler(http.server.SimpleHTTPRequestHandler):
    """Static files: precompressed variants, MIME types, cache validators, 304s."""

    protocol_version = "HTTP/1.1"  # keep connections open between requests
    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map, **TYPES}
    on_response = None  # optional callback(path, status, body_bytes, encoding), for benchmarks

    def do_GET(self):
        self._serve(send_body=True)

    def do_HEAD(self):
        self._serve(send_body=False)

    def _serve(self, send_body):
        path = self.translate_path(self.path)
        if os.path.isdir(path):
            index = os.path.join(path, "index.html")
            if not self.path.split("?", 1)[0].endswith("/"):
                return self._redirect_to_folder()
            if not os.path.isfile(index):
                return self._error(404)
            path = index
        if not os.path.isfile(path) or path.endswith(COMPRESSED) and self._has_original(path):
            return self._error(404)
        compressed = path + COMPRESSED
        use_gzip = os.path.isfile(compressed) and accepts_gzip(self.headers["Accept-Encoding"])
        source = compressed if use_gzip else path
        try:
            handle = open(source, "rb")
        except OSError:
            return self._error(404)
        with handle:
            stat = os.fstat(handle.fileno())
            tag = self._etag(stat, use_gzip)
            relative = os.path.relpath(path, self.directory).replace(os.sep, "/")
            if self._not_modified(tag, stat):
                self.send_response(304)
                self._validators(tag, stat, relative, os.path.isfile(compressed))
                self.end_headers()
                return self._record(304, 0, use_gzip)
            self.send_response(200)
            self.send_header("Content-Type", self.guess_type(path))
            if use_gzip:
                self.send_header("Content-Encoding", "gzip")
            self.send_header("Content-Length", str(stat.st_size))
            self._validators(tag, stat, relative, os.path.isfile(compressed))
            self.end_headers()
            if send_body:
                self.connection.sendfile(handle)  # os.sendfile where there is one
            self._record(200, stat.st_size if send_body else 0, use_gzip)

    def _has_original(self, path):
        return os.path.isfile(path[: -len(COMPRESSED)])

    def _validators(self, tag, stat, relative, has_variants):
        self.send_header("ETag", tag)
        self.send_header("Last-Modified", email.utils.formatdate(stat.st_mtime, usegmt=True))
        self.send_header("Cache-Control", IMMUTABLE if is_immutable(relative) else REVALIDATE)
        if has_variants:
            self.send_header("Vary", "Accept-Encoding")

    @staticmethod
    def _etag(stat, gzipped):
        key = f"{stat.st_size}-{stat.st_mtime_ns}-{int(gzipped)}".encode()
        return '"' + hashlib.sha1(key).hexdigest()[:20] + '"'

    def _not_modified(self, tag, stat):
        wanted = self.headers.get("If-None-Match")
        if wanted is not None:
            return tag in [t.strip().removeprefix("W/") for t in wanted.split(",")] or wanted == "*"
        since = self.headers.get("If-Modified-Since")
        if since:
            try:
                when = email.utils.parsedate_to_datetime(since).timestamp()
            except (TypeError, ValueError, IndexError, OverflowError):
                return False
            return int(stat.st_mtime) <= when
        return False

    def _redirect_to_folder(self):
        path, _, query = self.path.partition("?")
        self.send_response(301)
        self.send_header("Location", path + "/" + ("?" + query if query else ""))
        self.send_header("Content-Length", "0")
        self.end_headers()
        self._record(301, 0, False)

    def _error(self, status):
        self.send_error(status)
        self._record(status, 0, False)

    def _record(self, status, size, gzipped):
        if self.on_response is not None:
            self.on_response(self.path, status, size, gzipped)


class LiteServer(http.server.ThreadingHTTPServer):
    """One thread per connection; a backlog long enough for a whole class at once."""

    daemon_threads = True
    request_queue_size = 256


def make_server(site, host="127.0.0.1", port=8000, quiet=False, on_response=None):
    """A LiteServer serving ``site`` (port 0 picks a free port)."""
    attributes = {"on_response": staticmethod(on_response) if on_response else None}
    if quiet:
        attributes["log_message"] = lambda *args: None
    handler = type("Handler", (LiteHandler,), attributes)
    return LiteServer((host, port), functools.partial(handler, directory=str(site)))


def serve_in_thread(site, **kwargs):
    """Start a quiet server on a free loopback port in a daemon thread: (server, base URL)."""
    server = make_server(site, "127.0.0.1", 0, quiet=True, **kwargs)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


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
