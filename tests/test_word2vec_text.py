"""Bad word2vec text files (issue 13, point 5): each fault is a ValueError naming the file
and the line, or a stated, tested choice (a BOM is skipped; the first of two duplicated words
wins, with a warning)."""

import io
import tracemalloc
import warnings
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
    text_lines,
    write_text,
)

from course_lib.embeddings import available_sources
from course_lib.word2vec_sample import ZIP_MEMBER
from course_lib.word2vec_text import max_line_bytes, parse_text


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


# ------------------------------------------------------- issue 21: messages that say it right


def test_a_tab_separated_line_says_tabs(env):
    """The issue: a tab-separated line said "the line has 0 values"."""
    lines = _lines(env)
    lines[4] = lines[4].replace(" ", "\t")
    _save(env, lines)
    with pytest.raises(ValueError, match=r"line 5: the line has tabs; word2vec text separates"):
        fresh_load()


def test_a_duplicate_and_one_extra_line_blames_the_extra_line(env):
    """The issue: a repeated word plus one line too many blamed a count the header never
    said. The header counts every line, repeated or not (as gensim's reader does)."""
    lines = _lines(env)
    lines.insert(5, lines[2])  # line 6 repeats the word of line 3; 31 vector lines now
    _save(env, lines)
    with pytest.warns(RuntimeWarning, match="appears on line 3 and again on line 6"):
        with pytest.raises(ValueError, match=r"line 32: more lines than the 30 words the header"):
            fresh_load()


def test_a_duplicate_counted_by_the_header_loads_like_gensim(env):
    lines = _lines(env)
    lines[6] = lines[2].split(" ", 1)[0] + " " + lines[6].split(" ", 1)[1]  # line 7 repeats 3
    _save(env, lines)
    with pytest.warns(RuntimeWarning, match="appears on line 3 and again on line 7"):
        kv = fresh_load()
    words, vectors = gensim_table(env.text)  # gensim logs "duplicate word ... ignoring"
    # gensim 4.4 keeps the first vector too, but leaves the unused last slot in its table,
    # with the key None: the course's reader does not.
    assert words[-1] is None and len(words) == 30
    assert kv.index_to_key == words[:-1]
    np.testing.assert_array_equal(kv.vectors, vectors[:-1])


# ------------------------------------------ issue 21 item 3: memory bounded while streaming


def _peak_while(action):
    tracemalloc.start()
    try:
        action()
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return peak


@pytest.mark.parametrize("layout", ["after a header", "no header line at all"])
def test_a_100_mb_line_is_refused_in_bounded_memory(tmp_path, layout):
    """The issue: a 100 MB line peaked at 648 MB. The length is checked while reading, so
    the peak is a few kilobytes whatever the line's length."""
    path = tmp_path / "one_line.txt"
    with open(path, "wb") as f:
        if layout == "after a header":
            f.write(b"1 300\n" + b"w ")
        block = b"0.25 " * 200_000  # 1 MB of plausible values
        for _ in range(100):
            f.write(block)
        f.write(b"\n")
    assert path.stat().st_size > 100_000_000
    if layout == "after a header":
        expected = r"line 2: the line is longer than 13024 bytes \(for 300 values\)"
    else:
        expected = r"line 1: the header is longer than 64 bytes"
    with pytest.raises(ValueError, match=expected):
        parse_text(path)
    peak = _peak_while(lambda: _swallow(parse_text, path))
    assert peak < 1_000_000, f"peak {peak / 1e6:.1f} MB"


def _swallow(function, *args):
    try:
        function(*args)
    except ValueError:
        return


def test_the_line_limit_leaves_room_for_real_lines():
    """word2vec_sample's longest lines are a phrase and 300 values of about 11 characters."""
    real_longest = len("Los_Angeles_Dodgers") + 300 * len(" -0.12345678")
    assert max_line_bytes(300) > 3 * real_longest


def test_the_zip_bomb_of_the_issue_is_refused_in_bounded_memory(env):
    """A 100 KB zip holding one 100 MB line: unzipped in 1 MB chunks, then refused by the
    parser at its line limit; the whole load's peak stays a few megabytes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        with archive.open(ZIP_MEMBER, "w") as member:
            member.write(b"1 300\nw ")
            for _ in range(100):
                member.write(b"0" * 1_000_000)
    assert len(buffer.getvalue()) < 200_000
    env.zip.parent.mkdir(parents=True)
    env.zip.write_bytes(buffer.getvalue())
    peak = _peak_while(lambda: _swallow(fresh_load))
    with pytest.raises(ValueError, match=r"line 2: the line is longer than"):
        fresh_load()
    assert peak < 5_000_000, f"peak {peak / 1e6:.1f} MB"
