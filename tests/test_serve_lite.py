"""The site's server (scripts/serve_lite.py) over real HTTP on a loopback port.

A small site made here: a hashed JavaScript file with its gzip copy, a WebAssembly file, an
unhashed JSON file, a wheel without a copy. Checked: which bytes are sent (the gzip copy only
to a client that accepts gzip, never on ``gzip;q=0``), the headers (Content-Type incl.
application/wasm, Content-Encoding, Content-Length, Vary, ETag, Last-Modified), the caching
(a year and immutable for hashed names, revalidation otherwise, 304 with no body for a current
copy by ETag or by date), HEAD, folders, and many clients at once.
"""

import email.utils
import gzip
import http.client
import importlib.util
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("serve_lite", ROOT / "scripts" / "serve_lite.py")
serve_lite = importlib.util.module_from_spec(spec)
spec.loader.exec_module(serve_lite)

SCRIPT = b"console.log('attention');\n" * 400


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    root = tmp_path_factory.mktemp("site")
    (root / "build").mkdir()
    (root / "build" / "1053.75981ec.js").write_bytes(SCRIPT)
    (root / "build" / "1053.75981ec.js.gz").write_bytes(gzip.compress(SCRIPT, mtime=0))
    (root / "pyodide" / "0.27.7-1a2b3c4d5e6f").mkdir(parents=True)
    (root / "pyodide" / "0.27.7-1a2b3c4d5e6f" / "pyodide.asm.wasm").write_bytes(b"\0asm" * 10)
    (root / "jupyter-lite.json").write_text('{"a": 1}')
    (root / "pypi").mkdir()
    (root / "pypi" / "course_lib-0.1.0-py3-none-any.whl").write_bytes(b"PK" + bytes(300))
    (root / "index.html").write_text("<html></html>")
    return root


@pytest.fixture(scope="module")
def server(site):
    sent = []
    httpd, base = serve_lite.serve_in_thread(site, on_response=lambda *a: sent.append(a))
    port = int(base.rsplit(":", 1)[1])
    yield port, sent
    httpd.shutdown()
    httpd.server_close()


def get(port, path, method="GET", **headers):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request(method, path, headers=headers)
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def test_a_client_that_accepts_gzip_gets_the_precompressed_copy(server):
    port, _ = server
    status, headers, body = get(port, "/build/1053.75981ec.js", **{"Accept-Encoding": "gzip, br"})
    assert status == 200
    assert headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(body) == SCRIPT
    assert int(headers["Content-Length"]) == len(body) < len(SCRIPT) / 5
    assert headers["Content-Type"] == "text/javascript"
    assert headers["Vary"] == "Accept-Encoding"


@pytest.mark.parametrize("accept", [None, "identity", "gzip;q=0", "br"])
def test_any_other_client_gets_the_file_itself(server, accept):
    port, _ = server
    headers = {"Accept-Encoding": accept} if accept else {}
    status, got, body = get(port, "/build/1053.75981ec.js", **headers)
    assert status == 200 and body == SCRIPT
    assert "Content-Encoding" not in got
    assert int(got["Content-Length"]) == len(SCRIPT)
    assert got["Vary"] == "Accept-Encoding"  # a cache must not mix the two


def test_webassembly_is_sent_as_application_wasm_and_hashed_folders_are_immutable(server):
    port, _ = server
    status, headers, body = get(port, "/pyodide/0.27.7-1a2b3c4d5e6f/pyodide.asm.wasm")
    assert status == 200 and body == b"\0asm" * 10
    assert headers["Content-Type"] == "application/wasm"
    assert headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert "Vary" not in headers  # no gzip copy of this one


def test_unhashed_files_are_revalidated_and_a_current_copy_gets_304_with_no_body(server, site):
    port, sent = server
    status, headers, _ = get(port, "/jupyter-lite.json?v=1")
    assert status == 200
    assert headers["Cache-Control"] == "no-cache"
    assert headers["Content-Type"] == "application/json"
    etag, modified = headers["ETag"], headers["Last-Modified"]
    assert email.utils.parsedate_to_datetime(modified)
    status, headers, body = get(port, "/jupyter-lite.json", **{"If-None-Match": etag})
    assert (status, body) == (304, b"")
    assert headers["ETag"] == etag
    status, _, body = get(port, "/jupyter-lite.json", **{"If-Modified-Since": modified})
    assert (status, body) == (304, b"")
    status, _, body = get(port, "/jupyter-lite.json", **{"If-None-Match": '"stale"'})
    assert status == 200 and body == b'{"a": 1}'
    # The gzip copy and the file have different tags: a cached copy of one never passes
    # for the other.
    path = "/build/1053.75981ec.js"

    def notes():  # each note is (path, status, bytes, gzipped)
        return sorted((s, gzipped) for p, s, _, gzipped in sent[mark:] if p == path)

    mark = len(sent)
    _, plain, _ = get(port, path)
    _, packed, _ = get(port, path, **{"Accept-Encoding": "gzip"})
    assert plain["ETag"] != packed["ETag"]
    # The server notes a response after sending it, from the thread that sent it: an earlier
    # request's note may come after `mark`, and these two in either order. Wait for both.
    deadline = time.monotonic() + 10
    while len(notes()) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert notes() == [(200, False), (200, True)]


def test_head_folders_and_missing_files(server):
    port, _ = server
    status, headers, body = get(port, "/pypi/course_lib-0.1.0-py3-none-any.whl", "HEAD")
    assert (status, body) == (200, b"")
    assert headers["Content-Length"] == "302" and headers["Content-Type"] == "application/zip"
    assert get(port, "/")[0] == 200
    status, headers, _ = get(port, "/pypi?x=1")
    assert status == 301 and headers["Location"] == "/pypi/?x=1"
    assert get(port, "/pypi/")[0] == 404  # no listing of the site's folders
    assert get(port, "/nothing.js")[0] == 404
    assert get(port, "/build/1053.75981ec.js.gz")[0] == 404  # only through Accept-Encoding


@pytest.mark.parametrize(
    "path, immutable",
    [
        ("build/1053.75981ec.js", True),
        ("extensions/x/static/remoteEntry.5cbb9d2323598fbda535.js", True),
        ("pyodide/0.27.7-1a2b3c4d5e6f/numpy-2.0.2-cp312-cp312-pyodide_2024_0_wasm32.whl", True),
        ("pypi/course_lib-0.1.0-py3-none-any.whl", False),
        ("pyodide-site-lock.json", False),
        ("lab/index.html", False),
        ("files/02_dot_product_attention.ipynb", False),
    ],
)
def test_only_names_that_carry_a_content_hash_are_immutable(path, immutable):
    assert serve_lite.is_immutable(path) is immutable


def test_forty_clients_at_once_each_get_the_whole_file(server):
    port, _ = server
    barrier = threading.Barrier(40)

    def fetch(_):
        barrier.wait(timeout=10)
        return get(port, "/build/1053.75981ec.js", **{"Accept-Encoding": "gzip"})[2]

    with ThreadPoolExecutor(40) as pool:
        bodies = list(pool.map(fetch, range(40)))
    assert all(gzip.decompress(body) == SCRIPT for body in bodies)
