"""Tests of course_lib.word2vec_cache: the fast cache of word2vec_sample is never trusted.

A first load writes it, a fresh process reads it instead of the text; any damaged, stale,
foreign or odd cache file (a FIFO, a symlink, a folder) is rebuilt from the text file, and
never opened unless it is a regular file. The cached vectors are writable, copy-on-write;
leftover temporary files of a killed run are removed. Random damage of every kind (a property
test) is in test_word2vec_cache_property.py.
"""

import hashlib
import json
import os
import warnings
from pathlib import Path

import numpy as np
import pytest
from w2v_fault_helpers import (
    WORDS,
    assert_same_table,
    cache_file,
    cache_files,
    fresh_load,
    gensim_parse,
    gensim_table,
    make_env,
    make_w2v,
    run_fresh,
    table,
    use_nltk_data,
    write_text,
    write_word2vec_text,
)

import course_lib.embeddings as emb
import course_lib.word2vec_sample as w2v_module
from course_lib.embeddings import EmbeddingsNotFoundError, available_sources, load_embeddings


@pytest.fixture
def env(tmp_path, monkeypatch):
    return make_env(tmp_path, monkeypatch)


@pytest.fixture
def w2v(tmp_path, monkeypatch):
    return make_w2v(tmp_path, monkeypatch)


# ------------------------------------------------------------ written once, then used


def test_first_load_writes_a_valid_cache(w2v):
    write_word2vec_text(w2v["text"])
    kv = load_embeddings("word2vec_sample")
    files = cache_files(w2v["cache"])
    assert all(p.is_file() for p in files.values())
    assert not list(w2v["cache"].glob("*.tmp"))  # no temporary files left behind
    np.testing.assert_array_equal(np.load(files["vectors.npy"], allow_pickle=False), kv.vectors)
    assert files["words.txt"].read_text(encoding="utf-8").split("\n") == WORDS
    meta = json.loads(files["meta.json"].read_text(encoding="utf-8"))
    assert (meta["n_words"], meta["dim"]) == (len(WORDS), 8)
    assert meta["text_size"] == w2v["text"].stat().st_size


def test_cache_files_are_readable_by_other_users(w2v):
    """mkstemp makes private files; the cache must follow the umask like any new file."""
    old_umask = os.umask(0o022)
    try:
        write_word2vec_text(w2v["text"])
        load_embeddings("word2vec_sample")
    finally:
        os.umask(old_umask)
    for path in cache_files(w2v["cache"]).values():
        assert path.stat().st_mode & 0o777 == 0o644, path


FRESH_LOAD = """
    import hashlib, sys
    import numpy as np
    import course_lib.word2vec_sample

    def no_parsing(*args, **kwargs):
        raise AssertionError("the word2vec text was parsed again")

    course_lib.word2vec_sample.parse_text = no_parsing
    from course_lib.embeddings import load_embeddings
    kv = load_embeddings("word2vec_sample")
    digest = hashlib.sha256(np.ascontiguousarray(kv.vectors).tobytes()).hexdigest()
    print(type(kv.vectors).__name__, digest, ",".join(kv.index_to_key), "nltk" in sys.modules)
"""


def test_fresh_process_uses_the_cache_not_the_text(w2v):
    write_word2vec_text(w2v["text"])
    # Control: with no cache, a fresh process must parse, so the guard makes it fail.
    control = run_fresh(w2v, FRESH_LOAD)
    assert control.returncode != 0 and "parsed again" in control.stderr

    kv = load_embeddings("word2vec_sample")  # parses once, writes the cache
    mtimes = {k: p.stat().st_mtime_ns for k, p in cache_files(w2v["cache"]).items()}
    result = run_fresh(w2v, FRESH_LOAD)
    assert result.returncode == 0, result.stderr
    kind, digest, words, nltk_imported = result.stdout.split()
    assert kind == "memmap"  # read from the .npy cache, memory-mapped
    assert nltk_imported == "False"  # the recorded text file was found without nltk
    assert digest == hashlib.sha256(kv.vectors.tobytes()).hexdigest()
    assert words.split(",") == WORDS
    # The cache was read, not rewritten.
    assert mtimes == {k: p.stat().st_mtime_ns for k, p in cache_files(w2v["cache"]).items()}


def test_cache_works_after_the_text_is_deleted(w2v):
    write_word2vec_text(w2v["text"])
    expected = load_embeddings("word2vec_sample").vectors.copy()
    w2v["text"].unlink()
    assert "word2vec_sample" in available_sources()
    result = run_fresh(w2v, FRESH_LOAD)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[1] == hashlib.sha256(expected.tobytes()).hexdigest()


# ------------------------------------------------------------------ damaged: rebuilt


def _flip_byte(path):
    data = bytearray(path.read_bytes())
    data[-5] ^= 0xFF
    path.write_bytes(bytes(data))


def _truncate(path):
    path.write_bytes(path.read_bytes()[:-16])


def _garbage(path):
    path.write_bytes(b"\x00not json nor npy")


def _swap_words(path):
    path.write_text("\n".join(reversed(WORDS)), encoding="utf-8")


@pytest.mark.parametrize(
    ("target", "damage"),
    [
        ("vectors.npy", _flip_byte),
        ("vectors.npy", _truncate),
        ("vectors.npy", _garbage),
        ("words.txt", _swap_words),
        ("words.txt", Path.unlink),
        ("meta.json", _garbage),
    ],
)
def test_damaged_cache_is_rebuilt(w2v, monkeypatch, capsys, target, damage):
    write_word2vec_text(w2v["text"])
    load_embeddings("word2vec_sample")
    damage(cache_files(w2v["cache"])[target])
    capsys.readouterr()

    monkeypatch.setattr(emb, "_LOADED", {})
    kv = load_embeddings("word2vec_sample")
    expected = gensim_parse(w2v["text"])
    assert kv.index_to_key == expected.index_to_key
    np.testing.assert_array_equal(kv.vectors, expected.vectors)
    out = capsys.readouterr().out
    assert "Reading" in out  # it re-parsed the text

    # The rebuilt cache is valid: the next load reads it (memory-mapped) without parsing.
    monkeypatch.setattr(emb, "_LOADED", {})
    again = load_embeddings("word2vec_sample")
    assert isinstance(again.vectors, np.memmap)
    np.testing.assert_array_equal(again.vectors, expected.vectors)
    # gensim's similarity API works on the read-only memory map.
    assert again.most_similar("steak", topn=3) == expected.most_similar("steak", topn=3)


def test_stale_cache_is_rebuilt_when_the_text_changes(w2v, monkeypatch):
    write_word2vec_text(w2v["text"], seed=0)
    load_embeddings("word2vec_sample")
    write_word2vec_text(w2v["text"], seed=1, words=WORDS[:5])
    monkeypatch.setattr(emb, "_LOADED", {})
    kv = load_embeddings("word2vec_sample")
    np.testing.assert_array_equal(kv.vectors, gensim_parse(w2v["text"]).vectors)
    assert kv.index_to_key == WORDS[:5]


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


@pytest.mark.parametrize("name", ["vectors.npy", "words.txt", "meta.json"])
def test_folder_at_a_cache_name_is_replaced_like_any_damage(env, capsys, name):
    """Issue 21: a folder at a cache file's path used to stay for good (every load re-parsed,
    then "Is a directory"). Now it is replaced, and the next load reads the cache."""
    write_text(env.text, env.words, env.values)
    expected = gensim_table(env.text)
    fresh_load()
    path = cache_file(env, name)
    path.unlink()
    path.mkdir()
    (path / "inside").write_text("a file in the folder", encoding="utf-8")
    capsys.readouterr()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "Could not write the embeddings cache"
        assert_same_table(fresh_load(), expected)
    assert "Reading" in capsys.readouterr().out  # rebuilt once ...
    assert path.is_file()
    again = fresh_load()
    assert isinstance(again.vectors, np.memmap)  # ... and then used
    assert "Reading" not in capsys.readouterr().out
    assert_same_table(again, expected)


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


# --------------------------------------------- issue 21: writable after a restart, no leftovers


def test_cached_vectors_are_writable_after_a_restart_as_in_the_first_kernel(env):
    """In the first kernel the vectors come from the parser (writable); after a restart they
    come from the cache: a copy-on-write map, writable too, and the file stays as it was."""
    write_text(env.text, env.words, env.values)
    first = fresh_load()
    assert not isinstance(first.vectors, np.memmap)  # parsed
    first.unit_normalize_all()  # works in the first kernel
    vectors_file = cache_file(env, "vectors.npy")
    on_disk = vectors_file.read_bytes()

    restarted = fresh_load()  # as after a restart: read from the cache
    assert isinstance(restarted.vectors, np.memmap) and restarted.vectors.flags.writeable
    restarted.unit_normalize_all()  # raised "output array is read-only" before
    np.testing.assert_allclose(np.linalg.norm(restarted.vectors, axis=1), 1.0, rtol=1e-6)
    restarted.vectors[0] = 7.0
    assert vectors_file.read_bytes() == on_disk  # copy-on-write: the cache is untouched
    assert_same_table(fresh_load(), gensim_table(env.text))  # the next load is clean


def test_leftover_temporary_cache_files_are_removed_but_not_a_live_one(env):
    from course_lib import word2vec_cache

    write_text(env.text, env.words, env.values)
    env.cache.mkdir(parents=True)
    dead = env.cache / ".word2vec_sample.vectors.npy.abc123.tmp"  # a killed run's file
    dead.write_bytes(b"half a cache")
    os.utime(dead, (0, 0))
    young = env.cache / ".word2vec_sample.words.txt.young1.tmp"  # just made by a writer
    young.write_bytes(b"")
    with word2vec_cache.private_temporary(env.cache, ".word2vec_sample.meta.json.") as live:
        os.utime(live.path, (0, 0))  # old, but locked by this process's open writer
        fresh_load()
        assert live.path.exists()
    assert not dead.exists() and young.exists()
    assert not live.path.exists()  # not committed: removed when its writer gave up
