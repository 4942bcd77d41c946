"""The word2vec_sample download (issue 13, point 4): it fails in time and clearly.

Servers on 127.0.0.1 started by the tests stand in for the network: one that accepts and
never answers (directly, and as a proxy, the issue's case), and small HTTP servers that send
a good zip, a 404, a cut connection or a captive portal's page. Nothing leaves the machine.
"""

import http.server
import socket
import threading
import time
import zipfile
from contextlib import contextmanager

import numpy as np
import pytest
from w2v_fault_helpers import (
    assert_same_table,
    fresh_load,
    gensim_table,
    make_env,
    write_text,
    zip_bytes,
)

import course_lib.word2vec_sample as w2v_module
from course_lib.embeddings import EmbeddingsNotFoundError


@pytest.fixture
def env(tmp_path, monkeypatch):
    return make_env(tmp_path, monkeypatch)


def _random_bytes(path):
    path.write_bytes(np.random.default_rng(0).bytes(5000))


@pytest.fixture
def silent_listener():
    """A TCP server on 127.0.0.1 that accepts connections and never says a word."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    held, stop = [], threading.Event()

    def accept():
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1], held
    stop.set()
    thread.join()
    for conn in held:
        conn.close()
    server.close()


def test_default_timeout_keeps_the_sixty_second_promise():
    # Connecting and waiting for the first byte are two operations of at most this each.
    assert 0 < w2v_module.DOWNLOAD_TIMEOUT_S and 2 * w2v_module.DOWNLOAD_TIMEOUT_S <= 60


@pytest.mark.parametrize("route", ["direct", "through a proxy"])
def test_silent_server_fails_within_the_timeout(env, monkeypatch, silent_listener, capsys, route):
    port, held = silent_listener
    if route == "direct":
        monkeypatch.setenv("COURSE_LIB_WORD2VEC_URL", f"http://127.0.0.1:{port}/w2v.zip")
    else:  # a proxy that accepts and never answers, as in the issue
        monkeypatch.setenv("COURSE_LIB_WORD2VEC_URL", "http://example.invalid/w2v.zip")
        for variable in ("http_proxy", "https_proxy"):
            monkeypatch.setenv(variable, f"http://127.0.0.1:{port}")
    monkeypatch.setattr(w2v_module, "DOWNLOAD_TIMEOUT_S", 1.0)
    start = time.monotonic()
    with pytest.raises(EmbeddingsNotFoundError, match="timed out") as info:
        fresh_load(download=True)
    elapsed = time.monotonic() - start
    assert held, "the download never reached the listener"
    assert elapsed < 2 * 1.0 + 3  # connect + first byte, plus slack for a busy machine
    assert 'load_embeddings("bundled")' in str(info.value)
    assert "Downloading word2vec_sample" in capsys.readouterr().out
    assert not list(env.home.rglob("*.tmp")) and not env.zip.exists()  # nothing half-written


class _Handler(http.server.BaseHTTPRequestHandler):
    body = b""
    claimed_length = None
    status = 200

    def do_GET(self):  # noqa: N802 (http.server's name)
        self.send_response(self.status)
        self.send_header("Content-Length", str(self.claimed_length or len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args):
        pass


@contextmanager
def http_server(body, status=200, claimed_length=None):
    handler = type("Handler", (_Handler,), {"body": body, "status": status})
    handler.claimed_length = claimed_length
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/word2vec_sample.zip"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_download_from_a_server_then_load(env, monkeypatch, capsys):
    good = write_text(env.tmp / "t.txt", env.words, env.values)
    with http_server(zip_bytes(good)) as url:
        monkeypatch.setenv("COURSE_LIB_WORD2VEC_URL", url)
        kv = fresh_load(download=True)
    assert_same_table(kv, gensim_table(good))
    out = capsys.readouterr().out
    assert "Downloading" in out and "MB (100%)" in out  # the progress display
    assert env.zip.is_file() and env.text.read_bytes() == good.read_bytes()


def test_download_replaces_a_damaged_zip(env, monkeypatch):
    good = write_text(env.tmp / "t.txt", env.words, env.values)
    env.zip.parent.mkdir(parents=True)
    _random_bytes(env.zip)
    with http_server(zip_bytes(good)) as url:
        monkeypatch.setenv("COURSE_LIB_WORD2VEC_URL", url)
        assert_same_table(fresh_load(download=True), gensim_table(good))
    assert zipfile.is_zipfile(env.zip)


@pytest.mark.parametrize(
    ("served", "needle"),
    [
        ({"body": b"gone", "status": 404}, "HTTP Error 404"),
        ({"body": b"PK\x03\x04" + b"x" * 500, "claimed_length": 100_000}, "closed after 504"),
        ({"body": b"<html>a captive portal</html>"}, "damaged"),
    ],
    ids=["404", "connection cut", "not a zip"],
)
def test_failed_download_is_a_clear_error_and_leaves_nothing(env, monkeypatch, served, needle):
    with http_server(**served) as url:
        monkeypatch.setenv("COURSE_LIB_WORD2VEC_URL", url)
        with pytest.raises(EmbeddingsNotFoundError, match=needle) as info:
            fresh_load(download=True)
    assert "Download of word2vec_sample failed" in str(info.value)
    assert not [p for p in env.home.rglob("*") if p.is_file()]


def test_no_download_when_the_file_is_there(env, monkeypatch):
    write_text(env.text, env.words, env.values)

    def no_download(*args, **kwargs):
        raise AssertionError("downloaded although the file is there")

    monkeypatch.setattr(w2v_module, "download", no_download)
    assert fresh_load(download=True).index_to_key == env.words
