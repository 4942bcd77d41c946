"""Faults made on purpose against the word2vec_sample loader (issue 13, points 1-3 and 8).

A damaged zip, damaged or stale cache files, a decoy path in the meta file, and the browser
(``sys.platform == "emscripten"``): each test makes the fault in a temporary NLTK_DATA /
COURSE_LIB_CACHE and checks what the user gets: the right vectors, or an error naming the
problem. Loads run under an alarm, so a hang (a FIFO at a cache name) fails the test. The
download (point 4) is tested in test_embeddings_download.py, bad text files (point 5) in
test_word2vec_text.py, random damage of the cache in test_embeddings_cache_property.py.
"""

import io
import json
import os
import subprocess
import sys
import textwrap
import zipfile

import numpy as np
import pytest
from w2v_fault_helpers import (
    assert_same_table,
    cache_file,
    fresh_load,
    gensim_table,
    make_env,
    table,
    use_nltk_data,
    write_text,
    zip_bytes,
)

import course_lib.word2vec_sample as w2v_module
from course_lib.embeddings import (
    EmbeddingsNotFoundError,
    available_sources,
    embed_sentence,
    load_embeddings,
)


@pytest.fixture
def env(tmp_path, monkeypatch):
    return make_env(tmp_path, monkeypatch)


# ----------------------------------------------- 1. a damaged download never breaks the default


def _random_bytes(path):
    path.write_bytes(np.random.default_rng(0).bytes(5000))


def _empty(path):
    path.write_bytes(b"")


def _zip_without_the_text(path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("word2vec_sample/README", "no vectors here")
    path.write_bytes(buffer.getvalue())


def _cut_zip(path, text):
    path.write_bytes(zip_bytes(text)[:-200])  # the central directory is at the end


ZIP_DAMAGE = {
    "random bytes": _random_bytes,
    "empty": _empty,
    "no text inside": _zip_without_the_text,
}


@pytest.mark.parametrize("damage", list(ZIP_DAMAGE))
def test_damaged_zip_leaves_the_offline_default_working(env, damage):
    env.zip.parent.mkdir(parents=True)
    ZIP_DAMAGE[damage](env.zip)
    assert available_sources() == ["bundled"]  # listed as missing, never an exception
    kv = load_embeddings("bundled")
    assert kv.vectors.shape == (21745, 64)
    assert embed_sentence("I drink coke", kv).words == ["i", "drink", "coke"]
    pytest.importorskip("ipywidgets")
    from course_lib import attention_explorer

    assert attention_explorer() is not None  # the bundled explorer builds


def _corrupt_zip_data(path, text):
    data = bytearray(zip_bytes(text))
    for i in range(200, 260):  # inside the compressed text, far from the directory at the end
        data[i] ^= 0x5A
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("damage", [*ZIP_DAMAGE, "cut short", "data corrupted"])
def test_damaged_zip_is_reported_with_the_path_to_delete(env, damage):
    env.zip.parent.mkdir(parents=True)
    if damage == "cut short":
        _cut_zip(env.zip, write_text(env.tmp / "t.txt", env.words, env.values))
    elif damage == "data corrupted":
        _corrupt_zip_data(env.zip, write_text(env.tmp / "t.txt", env.words, env.values))
    else:
        ZIP_DAMAGE[damage](env.zip)
    with pytest.raises(EmbeddingsNotFoundError) as info:
        fresh_load()
    message = str(info.value)
    assert "damaged" in message and str(env.zip) in message
    assert "Delete it" in message and "download=True" in message
    assert "bundled" in message  # and the way out
    assert env.zip.exists()  # reported, not deleted behind the user's back


def test_intact_zip_is_unzipped_once_and_loaded(env, capsys):
    good = write_text(env.tmp / "t.txt", env.words, env.values)
    env.zip.parent.mkdir(parents=True)
    env.zip.write_bytes(zip_bytes(good))
    assert "word2vec_sample" in available_sources()
    assert_same_table(fresh_load(), gensim_table(good))
    assert "Unzipping" in capsys.readouterr().out
    assert env.text.read_bytes() == good.read_bytes()
    fresh_load()
    assert "Unzipping" not in capsys.readouterr().out  # once


# --------------------------------------------- 2. any damaged cache file is rebuilt, never opened
# unless it is a regular file


def _write(data):
    def damage(path):
        path.unlink()
        path.write_bytes(data)

    return damage


def _npz_in_place(path):
    vectors = np.load(path, allow_pickle=False)
    path.unlink()
    with open(path, "wb") as f:
        np.savez(f, vectors=vectors)


def _fifo(path):
    path.unlink()
    os.mkfifo(path)


def _symlink_to_words(path):
    other = path.parent / "word2vec_sample.words.txt"
    path.unlink()
    path.symlink_to(other)


def _meta_field(key, value):
    def damage(path):
        meta = json.loads(path.read_text(encoding="utf-8"))
        meta[key] = value
        path.write_text(json.dumps(meta), encoding="utf-8")

    return damage


def _meta_without(key):
    def damage(path):
        meta = json.loads(path.read_text(encoding="utf-8"))
        del meta[key]
        path.write_text(json.dumps(meta), encoding="utf-8")

    return damage


CACHE_DAMAGE = [
    ("vectors.npy", "0 bytes", _write(b"")),
    ("vectors.npy", ".npz in its place", _npz_in_place),
    ("vectors.npy", "FIFO", _fifo),
    ("vectors.npy", "symlink to the word list", _symlink_to_words),
    ("vectors.npy", "extra bytes at the end", lambda p: p.write_bytes(p.read_bytes() + b"\0" * 8)),
    ("words.txt", "FIFO", _fifo),
    ("words.txt", "0 bytes", _write(b"")),
    ("meta.json", "[]", _write(b"[]")),
    ("meta.json", "null", _write(b"null")),
    ("meta.json", "a string", _write(b'"word2vec_sample"')),
    ("meta.json", "FIFO", _fifo),
    ("meta.json", "n_words as a string", None),
    ("meta.json", "dim true", _meta_field("dim", True)),
    ("meta.json", "vectors_sha256 null", _meta_field("vectors_sha256", None)),
    ("meta.json", "text_size as a float", None),
    ("meta.json", "no words_sha256", _meta_without("words_sha256")),
    ("meta.json", "not UTF-8", _write(b'{"format": 2, "source": "\xff"}')),
]


@pytest.mark.parametrize(
    ("target", "damage"),
    [(t, d) for t, d, _ in CACHE_DAMAGE],
    ids=[f"{t}: {d}" for t, d, _ in CACHE_DAMAGE],
)
def test_damaged_cache_file_is_rebuilt(env, capsys, target, damage):
    write_text(env.text, env.words, env.values)
    expected = gensim_table(env.text)
    fresh_load()
    path = cache_file(env, target)
    how = {d: f for t, d, f in CACHE_DAMAGE if t == target}[damage]
    if damage == "n_words as a string":
        how = _meta_field("n_words", str(len(env.words)))
    elif damage == "text_size as a float":
        how = _meta_field("text_size", float(env.text.stat().st_size))
    how(path)
    capsys.readouterr()

    assert_same_table(fresh_load(), expected)  # within the alarm: a FIFO cannot hang it
    assert "Reading" in capsys.readouterr().out  # re-parsed from the text file
    for name in ("vectors.npy", "words.txt", "meta.json"):
        assert cache_file(env, name).is_file() and not cache_file(env, name).is_symlink()
    again = fresh_load()  # the rebuilt cache is used: memory-mapped, no parsing
    assert isinstance(again.vectors, np.memmap)
    assert "Reading" not in capsys.readouterr().out
    assert_same_table(again, expected)


def test_folder_at_a_cache_name_is_survived_with_a_warning(env, capsys):
    write_text(env.text, env.words, env.values)
    expected = gensim_table(env.text)
    fresh_load()
    words_file = cache_file(env, "words.txt")
    words_file.unlink()
    words_file.mkdir()  # cannot be replaced by a rename: the cache cannot be written
    with pytest.warns(RuntimeWarning, match="Could not write the embeddings cache"):
        assert_same_table(fresh_load(), expected)
    assert words_file.is_dir()  # a folder the user made is not deleted


def test_damaged_cache_without_text_is_a_clear_error_not_a_crash(env):
    write_text(env.text, env.words, env.values)
    fresh_load()
    env.text.unlink()
    cache_file(env, "meta.json").write_bytes(b"[]")
    assert available_sources() == ["bundled"]
    with pytest.raises(EmbeddingsNotFoundError, match="download=True"):
        fresh_load()


# ------------------------- 3. a stale cache never decides which file is read, nor fails a load


def test_stale_cache_does_not_pin_a_dead_file(env, monkeypatch):
    """The issue's case: cache from copy A, A truncated, NLTK_DATA pointed at good copy B."""
    words, values = table(2000, 300, seed=3)
    a_text = write_text(env.tmp / "a" / w2v_module.TEXT_RELPATH, words, values)
    b_text = write_text(env.tmp / "b" / w2v_module.TEXT_RELPATH, words, values)
    use_nltk_data(monkeypatch, env.tmp / "a")
    fresh_load()
    a_text.write_bytes(a_text.read_bytes()[:-2000])  # A is cut short
    use_nltk_data(monkeypatch, env.tmp / "b")
    assert_same_table(fresh_load(), gensim_table(b_text))


def test_cache_of_another_file_is_not_used(env, monkeypatch):
    """B has A's size and modification time but other words: the cache is A's, not B's."""
    a_text = write_text(env.tmp / "a" / w2v_module.TEXT_RELPATH, env.words, env.values)
    other_words = [w.upper() if w.isascii() else w for w in env.words]
    b_text = write_text(env.tmp / "b" / w2v_module.TEXT_RELPATH, other_words, env.values)
    assert a_text.stat().st_size == b_text.stat().st_size
    os.utime(b_text, ns=(a_text.stat().st_atime_ns, a_text.stat().st_mtime_ns))
    use_nltk_data(monkeypatch, env.tmp / "a")
    fresh_load()
    use_nltk_data(monkeypatch, env.tmp / "b")
    assert_same_table(fresh_load(), gensim_table(b_text))


@pytest.mark.parametrize("recorded", ["another table", "a FIFO"])
def test_path_in_the_meta_file_is_never_opened(env, recorded):
    write_text(env.text, env.words, env.values)
    expected = gensim_table(env.text)
    fresh_load()
    decoy = env.tmp / "decoy.txt"
    if recorded == "a FIFO":
        os.mkfifo(decoy)  # opening it for reading would block forever
    else:
        write_text(decoy, *table(7, 12, seed=9))
    _meta_field("text_path", str(decoy))(cache_file(env, "meta.json"))
    assert_same_table(fresh_load(), expected)


def test_symlinked_text_file_is_followed(env):
    """Only cache files must be regular files themselves; a shared text file may be linked."""
    real = write_text(env.tmp / "shared" / "w2v.txt", env.words, env.values)
    env.text.parent.mkdir(parents=True)
    env.text.symlink_to(real)
    assert_same_table(fresh_load(), gensim_table(real))
    assert isinstance(fresh_load().vectors, np.memmap)  # and its cache is then used


def test_bad_file_found_now_fails_even_with_a_good_cache_elsewhere(env, monkeypatch):
    """The cache never hides the file that is found: a damaged text file is named."""
    write_text(env.text, env.words, env.values)
    fresh_load()
    env.text.write_text("12 3\nsteak 1 2\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"pruned\.word2vec\.txt.*line 1"):
        fresh_load()


# ---------------------------------------------------------------- 8. in the browser (Pyodide)


def test_in_the_browser_only_bundled_is_offered(env, monkeypatch):
    write_text(env.text, env.words, env.values)
    assert "word2vec_sample" in available_sources()
    monkeypatch.setattr(sys, "platform", "emscripten")
    assert available_sources() == ["bundled"]
    with pytest.raises(EmbeddingsNotFoundError, match="needs a local or Binder kernel"):
        fresh_load()


def test_in_the_browser_bundled_loads_without_gensim():
    pytest.importorskip("course_lib.vector_table", reason="course_lib/vector_table.py missing")
    code = textwrap.dedent(
        """
        import sys
        sys.platform = "emscripten"
        sys.modules["gensim"] = None  # as in Pyodide: any import of gensim fails
        from course_lib.embeddings import embed_sentence, load_embeddings
        kv = load_embeddings("bundled")
        emb = embed_sentence("I drink coke, but eat steak", kv)
        print(type(kv).__name__, kv.vectors.shape, emb.words, kv.most_similar("steak")[0][0])
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert out.returncode == 0, out.stderr
    from gensim.models import KeyedVectors  # noqa: F401  (here, on CPython, gensim is there)

    reference = load_embeddings("bundled")
    expected_neighbour = reference.most_similar("steak")[0][0]
    assert out.stdout.split()[0] == "VectorTable"
    assert "(21745, 64)" in out.stdout
    assert "['i', 'drink', 'coke', 'but', 'eat', 'steak']" in out.stdout
    assert out.stdout.split()[-1] == expected_neighbour
