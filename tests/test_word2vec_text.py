"""Bad word2vec text files (issue 13, point 5): each fault is a ValueError naming the file
and the line, or a stated, tested choice (a BOM is skipped; the first of two duplicated words
wins, with a warning)."""

import warnings

import numpy as np
import pytest
from w2v_fault_helpers import (
    assert_same_table,
    cache_file,
    fresh_load,
    gensim_table,
    make_env,
    table,
    text_lines,
    write_text,
)

from course_lib.embeddings import available_sources


@pytest.fixture
def env(tmp_path, monkeypatch):
    return make_env(tmp_path, monkeypatch)


def _lines(env):
    return text_lines(env.words, env.values)


def _save(env, lines, ending="\n"):
    env.text.parent.mkdir(parents=True, exist_ok=True)
    env.text.write_bytes(("\n".join(lines) + ending).encode("utf-8"))


BAD_TEXT = {
    # name: (make the file from the good lines, expected message, as a regex)
    "empty file": (lambda env: _save(env, [], ending=""), r"is empty"),
    "header not two numbers": (
        lambda env: _save(env, ["thirty twelve", *_lines(env)[1:]]),
        r"line 1: the header 'thirty twelve'",
    ),
    "header says more words": (
        lambda env: _save(env, ["31 12", *_lines(env)[1:]]),
        r"line 32: the file ends after 30 of the 31 words",
    ),
    "header says fewer words": (
        lambda env: _save(env, ["20 12", *_lines(env)[1:]]),
        r"line 22: more lines than the 20",
    ),
    "truncated last line": (
        lambda env: _save(env, _lines(env)[:-1] + [_lines(env)[-1][:40]], ending=""),
        r"line 31: the line has \d+ values, not 12 \(the last line is cut short\)",
    ),
    "short line": (
        lambda env: _save(env, [*_lines(env)[:5], "coke 1.0 2.0", *_lines(env)[6:]]),
        r"line 6: the line has 2 values, not 12",
    ),
    "blank line": (
        lambda env: _save(env, [*_lines(env)[:5], "", *_lines(env)[6:]]),
        r"line 6: the line is empty",
    ),
    "nan in a vector": (
        lambda env: _save(env, [*_lines(env)[:7], "bad " + "nan " * 11 + "1.0", *_lines(env)[8:]]),
        r"line 8: the vector of 'bad' has a nan or inf value",
    ),
    "inf in a vector": (
        lambda env: _save(env, [*_lines(env)[:7], "bad " + "1e999 " * 12, *_lines(env)[8:]]),
        r"line 8: the vector of 'bad' has a nan or inf value",
    ),
    "not a number": (
        lambda env: _save(env, [*_lines(env)[:9], "bad " + "x1 " * 12, *_lines(env)[10:]]),
        r"line 10: a value is not a number",
    ),
}


def _non_utf8(env):
    data = "\n".join(_lines(env)).encode("utf-8").split(b"\n")
    data[3] = b"caf\xe9" + data[3][data[3].index(b" ") :]  # Latin-1 "café"
    env.text.parent.mkdir(parents=True, exist_ok=True)
    env.text.write_bytes(b"\n".join(data) + b"\n")


BAD_TEXT["non-UTF-8 byte"] = (_non_utf8, r"line 4: byte 0xe9 at column 4 is not UTF-8")


@pytest.mark.parametrize("case", list(BAD_TEXT))
def test_bad_text_file_is_named_with_its_line(env, case):
    make, message = BAD_TEXT[case]
    make(env)
    with pytest.raises(ValueError, match=message) as info:
        fresh_load()
    assert str(env.text) in str(info.value)
    assert not cache_file(env, "meta.json").exists()  # nothing cached from a bad file
    assert available_sources() == ["bundled", "word2vec_sample"]  # listing still works


def test_header_count_mismatch_on_a_full_size_fake(env):
    """The issue's case: a header of 1,000 on a 2,000-word file no longer loads 1,000."""
    words, values = table(2000, 300, seed=5)
    lines = text_lines(words, values)
    _save(env, ["1000 300", *lines[1:]])
    with pytest.raises(ValueError, match=r"line 1002: more lines than the 1000"):
        fresh_load()


def test_bom_is_skipped(env):
    """Stated choice: a UTF-8 byte-order mark before the header is ignored."""
    plain = write_text(env.tmp / "plain.txt", env.words, env.values)
    env.text.parent.mkdir(parents=True)
    env.text.write_bytes(b"\xef\xbb\xbf" + plain.read_bytes())
    assert_same_table(fresh_load(), gensim_table(plain))


def test_duplicated_word_keeps_the_first_with_a_warning(env):
    """Stated choice (gensim's too): the first vector of a repeated word wins, with a warning
    naming both lines; the table loads and is cached."""
    words = list(env.words)
    words[9] = "coke"  # "coke" is on line 3 (word 2) and again on line 11
    write_text(env.text, words, env.values)
    with pytest.warns(RuntimeWarning, match=r"'coke' appears on line 3 and again on line 11"):
        kv = fresh_load()
    assert kv.index_to_key == words[:9] + words[10:]
    np.testing.assert_array_equal(kv["coke"], env.values[1].round(6).astype(np.float32))
    assert kv.vectors.shape == (29, 12)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the second load reads the cache: no warning
        assert_same_table(fresh_load(), (kv.index_to_key, np.asarray(kv.vectors)))
