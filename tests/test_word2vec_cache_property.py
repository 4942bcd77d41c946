"""Property test of course_lib.word2vec_cache: random damage of every kind to the cache files
gives the right table or a clear error, never a wrong table, never a hang (issue 13).

hypothesis draws one to three damages, each to one of the three cache files: truncation,
random bytes, a flipped byte, bytes appended, replacement by another kind of file (FIFO,
folder, symlink, .npz, another valid .npy) or by a random JSON value, or one meta field set
to a random JSON value. It then loads with the text file present (the result must be exactly
gensim's parse of it) or absent (the right table from an intact cache, or
EmbeddingsNotFoundError). Every load runs under an alarm, so a hang fails the test. The
table is small (40 words x 16) so that each of the many loads takes milliseconds. The cache's
other tests are in test_word2vec_cache.py.
"""

import json
import os
import shutil
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from w2v_fault_helpers import time_limit

import course_lib.embeddings as emb
from course_lib.embeddings import EmbeddingsNotFoundError, load_embeddings

NAMES = ("vectors.npy", "words.txt", "meta.json")


META_KEYS = (
    "format",
    "source",
    "text_path",
    "text_size",
    "text_mtime_ns",
    "n_words",
    "dim",
    "dtype",
    "vectors_sha256",
    "words_sha256",
)


class Pristine(dict):
    def __repr__(self):  # short, for hypothesis's report of a failing example
        return f"<pristine 40 x 16 table and its cache under {self['base']}>"


@pytest.fixture(scope="module")
def pristine(tmp_path_factory):
    """A text file, the cache the loader builds from it, and gensim's parse of the text."""
    import nltk
    from gensim.models import KeyedVectors

    base = tmp_path_factory.mktemp("w2v_property")
    home = base / "nltk_data"
    text = home / "models" / "word2vec_sample" / "pruned.word2vec.txt"
    text.parent.mkdir(parents=True)
    rng = np.random.default_rng(11)
    words = ["steak", "coke", "café", "New_York"] + [f"word{i}" for i in range(36)]
    values = rng.standard_normal((len(words), 16))
    lines = [f"{len(words)} 16"] + [
        w + " " + " ".join(f"{v:.6f}" for v in row) for w, row in zip(words, values, strict=True)
    ]
    text.write_text("\n".join(lines) + "\n", encoding="utf-8")
    cache = base / "cache"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("NLTK_DATA", str(home))
        mp.setenv("COURSE_LIB_CACHE", str(cache))
        mp.setattr(nltk.data, "path", [str(home)])
        mp.setattr(emb, "_LOADED", {})
        load_embeddings("word2vec_sample")
    reference = KeyedVectors.load_word2vec_format(str(text), binary=False)
    return Pristine(
        home=home,
        empty_home=base / "empty_nltk_data",
        cache_bytes={name: (cache / f"word2vec_sample.{name}").read_bytes() for name in NAMES},
        words=list(reference.index_to_key),
        vectors=np.asarray(reference.vectors),
        base=base,
    )


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=6,
)


damages = st.one_of(
    st.tuples(st.just("truncate"), st.floats(0, 1, exclude_max=True)),
    st.tuples(st.just("random bytes"), st.binary(max_size=400)),
    st.tuples(st.just("flip a byte"), st.integers(0, 2**31), st.integers(1, 255)),
    st.tuples(st.just("append"), st.binary(min_size=1, max_size=64)),
    st.tuples(
        st.just("another kind"),
        st.sampled_from(
            ["fifo", "folder", "symlink to a sibling", "dangling symlink", "npz", "other npy"]
        ),
    ),
    st.tuples(st.just("json value"), json_values),
    st.tuples(st.just("meta field"), st.sampled_from(META_KEYS), json_values),
)


def damage(path, how, pristine):
    kind = how[0]
    data = path.read_bytes() if path.is_file() and not path.is_symlink() else b""
    if kind == "meta field" and path.name.endswith("meta.json"):
        try:
            meta = json.loads(data)
        except ValueError:
            meta = None
        if isinstance(meta, dict):
            meta[how[1]] = how[2]
            data = json.dumps(meta).encode()
        _replace(path, data)
        return
    if kind == "truncate":
        _replace(path, data[: int(len(data) * how[1])])
    elif kind == "random bytes":
        _replace(path, how[1])
    elif kind == "flip a byte" and data:
        flipped = bytearray(data)
        flipped[how[1] % len(data)] ^= how[2]
        _replace(path, bytes(flipped))
    elif kind == "append":
        _replace(path, data + how[1])
    elif kind in ("json value", "meta field"):
        _replace(path, json.dumps(how[-1]).encode())
    elif kind == "another kind":
        _remove(path)
        other = how[1]
        if other == "fifo":
            os.mkfifo(path)
        elif other == "folder":
            path.mkdir()
        elif other == "symlink to a sibling":
            path.symlink_to(next(p for p in path.parent.iterdir() if p != path))
        elif other == "dangling symlink":
            path.symlink_to(path.parent / "nowhere")
        elif other == "npz":
            with open(path, "wb") as f:
                np.savez(f, vectors=pristine["vectors"])
        else:  # a valid .npy of the right shape and dtype, but other values
            with open(path, "wb") as f:
                np.save(f, (pristine["vectors"] + 1).astype(np.float32), allow_pickle=False)


def _remove(path):
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()


def _replace(path, data):
    _remove(path)
    path.write_bytes(data)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    hits=st.lists(st.tuples(st.sampled_from(NAMES), damages), min_size=1, max_size=3),
    text_present=st.booleans(),
)
def test_any_damage_gives_the_right_table_or_a_clear_error(pristine, hits, text_present):
    import nltk

    cache = Path(tempfile.mkdtemp(dir=pristine["base"], prefix="cache-"))
    for name, data in pristine["cache_bytes"].items():
        (cache / f"word2vec_sample.{name}").write_bytes(data)
    for name, how in hits:
        damage(cache / f"word2vec_sample.{name}", how, pristine)
        event(f"{name}: {how[0]}" + (f" ({how[1]})" if how[0] == "another kind" else ""))
    home = pristine["home"] if text_present else pristine["empty_home"]
    try:
        with pytest.MonkeyPatch.context() as mp, warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # "could not write the cache"
            mp.setenv("NLTK_DATA", str(home))
            mp.setenv("COURSE_LIB_CACHE", str(cache))
            mp.setattr(nltk.data, "path", [str(home)])
            for attempt in ("damaged", "after the rebuild"):
                mp.setattr(emb, "_LOADED", {})
                try:
                    with time_limit(10):
                        kv = load_embeddings("word2vec_sample")
                except EmbeddingsNotFoundError as err:
                    assert not text_present, f"{attempt}: {err}"
                    assert "download=True" in str(err)
                    event("no text, damaged cache: EmbeddingsNotFoundError")
                    break
                assert list(kv.index_to_key) == pristine["words"], attempt
                np.testing.assert_array_equal(np.asarray(kv.vectors), pristine["vectors"])
                if not text_present:
                    event("no text: cache still intact, used")
    finally:
        shutil.rmtree(cache)
