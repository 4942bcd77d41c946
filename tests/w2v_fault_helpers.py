"""Shared helpers of the word2vec tests (tests/test_word2vec_*.py): a fake table in a
temporary NLTK_DATA, a temporary cache, loads under an alarm so that a hang fails instead of
blocking, a fresh interpreter with the same folders."""

import http.server
import io
import os
import signal
import subprocess
import sys
import textwrap
import threading
import zipfile
from contextlib import contextmanager
from types import SimpleNamespace

import numpy as np

import course_lib.embeddings as emb
import course_lib.word2vec_sample as w2v_module
from course_lib.embeddings import load_embeddings

PROXY_VARIABLES = ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy")


class Hang(BaseException):
    """Raised by the alarm. Not an OSError (TimeoutError is one, and loaders catch those),
    so no ``except`` in the code under test can swallow it."""


@contextmanager
def time_limit(seconds):
    """Fail (Hang) instead of hanging: SIGALRM interrupts even a blocking open()."""

    def on_alarm(signum, frame):
        raise Hang(f"took more than {seconds} s (a hang)")

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def table(n_words, dim, seed=0):
    """Words and values of a fake word2vec table (values rounded as the file writes them)."""
    rng = np.random.default_rng(seed)
    words = [f"w{seed}_{i}" for i in range(n_words)]
    first = ["steak", "coke", "drink", "café"][:n_words]
    words[: len(first)] = first
    return words, rng.standard_normal((n_words, dim))


def text_lines(words, values):
    return [f"{len(words)} {values.shape[1]}"] + [
        w + " " + " ".join(f"{v:.6f}" for v in row) for w, row in zip(words, values, strict=True)
    ]


def write_text(path, words, values):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(text_lines(words, values)) + "\n", encoding="utf-8")
    return path


def gensim_table(path):
    """The reference: gensim's own parser on a good file (an independent implementation)."""
    from gensim.models import KeyedVectors

    kv = KeyedVectors.load_word2vec_format(str(path), binary=False)
    return list(kv.index_to_key), np.asarray(kv.vectors)


def forget_word2vec():
    """Drop what this process remembers of word2vec_sample (as a restart would)."""
    emb._LOADED.pop("word2vec_sample", None)
    emb._TABLES.pop("word2vec_sample", None)


def fresh_load(download=False):
    forget_word2vec()
    with time_limit(20):
        return load_embeddings("word2vec_sample", download=download)


def assert_same_table(kv, expected):
    words, vectors = expected
    assert list(kv.index_to_key) == words
    np.testing.assert_array_equal(np.asarray(kv.vectors), vectors)


def cache_file(env, name):
    return env.cache / f"word2vec_sample.{name}"


def zip_bytes(text_path, member=w2v_module.ZIP_MEMBER):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.write(text_path, member)
    return buffer.getvalue()


def make_env(tmp_path, monkeypatch):
    """Isolated nltk data folder and cache; no proxy; a fresh memo; a small table."""
    import nltk

    home = tmp_path / "nltk_data"
    home.mkdir()
    cache = tmp_path / "cache"
    monkeypatch.setenv("NLTK_DATA", str(home))
    monkeypatch.setenv("COURSE_LIB_CACHE", str(cache))
    monkeypatch.setattr(nltk.data, "path", [str(home)])
    monkeypatch.setattr(emb, "_LOADED", {})
    monkeypatch.setattr(emb, "_TABLES", {k: v for k, v in emb._TABLES.items() if k == "bundled"})
    for variable in (*PROXY_VARIABLES, "COURSE_LIB_WORD2VEC_URL"):
        monkeypatch.delenv(variable, raising=False)
    words, values = table(30, 12)
    return SimpleNamespace(
        tmp=tmp_path,
        home=home,
        cache=cache,
        text=home / w2v_module.TEXT_RELPATH,
        zip=home / w2v_module.ZIP_RELPATH,
        words=words,
        values=values,
    )


def use_nltk_data(monkeypatch, folder):
    import nltk

    monkeypatch.setenv("NLTK_DATA", str(folder))
    monkeypatch.setattr(nltk.data, "path", [str(folder)])


# ------------------------------------------------ a second, smaller fake (the first tests)

WORDS = ["steak", "coke", "drink", "eat", "Paris", "New_York", "café", "the", "i", "I"]


def write_word2vec_text(path, words=WORDS, dim=8, seed=0):
    """A small file in word2vec text format (header "count dim", then word + values)."""
    rng = np.random.default_rng(seed)
    values = rng.standard_normal((len(words), dim))
    lines = [f"{len(words)} {dim}"]
    lines += [
        w + " " + " ".join(f"{v:.6f}" for v in row) for w, row in zip(words, values, strict=True)
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def make_w2v(tmp_path, monkeypatch):
    """The same isolation as make_env, as a dict with the text file's path."""
    env = make_env(tmp_path, monkeypatch)
    return {"home": env.home, "cache": env.cache, "text": env.text}


def gensim_parse(path):
    from gensim.models import KeyedVectors

    return KeyedVectors.load_word2vec_format(str(path), binary=False)


def cache_files(cache):
    return {
        name: cache / f"word2vec_sample.{name}"
        for name in ("vectors.npy", "words.txt", "meta.json")
    }


def run_fresh(w2v, code, timeout=120):
    """Run code in a fresh interpreter with the test's NLTK_DATA and cache."""
    env = dict(os.environ, NLTK_DATA=str(w2v["home"]), COURSE_LIB_CACHE=str(w2v["cache"]))
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
    )


# ------------------------------------------------------------ a local server for downloads


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
