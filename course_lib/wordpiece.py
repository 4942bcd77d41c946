"""BERT's WordPiece tokenizer in plain Python: from text to the tokens a BERT model reads.

all-MiniLM-L6-v2 (notebook 06) reads text the way the original uncased BERT does, in three
steps that this module writes out so that a student can follow each one:

1. **normalise** the text: drop control characters, turn every kind of white space into a
   space, put spaces around CJK ideographs, strip accents (``é`` -> ``e``) and lower-case;
2. **split** it into words at white space and around every punctuation character
   (``"didn't"`` -> ``didn``, ``'``, ``t``);
3. **cut** each word into the longest pieces found in the vocabulary, left to right; a piece
   that continues a word is written with ``##`` (``"tokenizer"`` -> ``token``, ``##izer``). A
   word with no such cutting, or longer than :data:`MAX_CHARS_PER_WORD` characters, becomes
   ``[UNK]``.

The whole text is then wrapped as ``[CLS] ... [SEP]``. The special tokens (``[CLS]``,
``[SEP]``, ``[MASK]``, ...) written literally in the text are kept as single tokens, as in
Hugging Face's ``tokenizers``, whose output this module matches (tests/test_pretrained_tokens.py
compares the two on hundreds of sentences).
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

__all__ = ["WordPiece", "normalize", "split_words", "MAX_CHARS_PER_WORD"]

#: A longer word is not cut into pieces: it becomes ``[UNK]`` (as in BERT).
MAX_CHARS_PER_WORD = 100
SPECIAL_TOKENS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")
_SPECIAL = re.compile("(" + "|".join(re.escape(t) for t in SPECIAL_TOKENS) + ")")

# Unicode's White_Space characters that are not control characters (those are dropped).
_SPACES = frozenset(
    "\t\n\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000"
)
# CJK ideographs: each one is a word of its own.
_CJK = (
    (0x4E00, 0x9FFF),
    (0x3400, 0x4DBF),
    (0x20000, 0x2A6DF),
    (0x2A700, 0x2B73F),
    (0x2B740, 0x2B81F),
    (0x2B820, 0x2CEAF),
    (0xF900, 0xFAFF),
    (0x2F800, 0x2FA1F),
)


def _is_dropped(char: str) -> bool:
    """Whether normalising removes ``char``: NUL, U+FFFD, control and format characters.

    Unassigned code points (category Cn) are kept, as the ``tokenizers`` library keeps
    them (they end as ``[UNK]``); the original BERT code dropped them.
    """
    if char in "\t\n\r":
        return False
    return char in "\x00\ufffd" or unicodedata.category(char) in ("Cc", "Cf", "Co", "Cs")


def _is_cjk(char: str) -> bool:
    code = ord(char)
    return any(low <= code <= high for low, high in _CJK)


def _is_punctuation(char: str) -> bool:
    """ASCII punctuation (``$``, ``+``, ``^`` too) and every Unicode punctuation category."""
    code = ord(char)
    if 33 <= code <= 47 or 58 <= code <= 64 or 91 <= code <= 96 or 123 <= code <= 126:
        return True
    return unicodedata.category(char).startswith("P")


def normalize(text: str) -> str:
    """Clean, space out CJK, strip accents and lower-case ``text``, as uncased BERT does.

    Parameters
    ----------
    text : str
        Any text.

    Returns
    -------
    str
        The text without control characters, with every white space turned into ``" "``,
        spaces around each CJK ideograph, accents removed and letters in lower case.

    Examples
    --------
    >>> normalize("Crème BRÛLÉE à Paris")
    'creme brulee a paris'
    """
    chars = []
    for char in text:
        if _is_dropped(char):
            continue
        if char in _SPACES:
            chars.append(" ")
        elif _is_cjk(char):
            chars.extend((" ", char, " "))
        else:
            chars.append(char)
    decomposed = unicodedata.normalize("NFD", "".join(chars))
    no_accents = (c for c in decomposed if unicodedata.category(c) != "Mn")
    return "".join(c.lower() for c in no_accents)  # one character at a time, like BERT


def split_words(text: str) -> list[str]:
    """Split normalised text at white space and around each punctuation character.

    Parameters
    ----------
    text : str
        Text, usually the output of :func:`normalize`.

    Returns
    -------
    list of str
        The words, each punctuation character a word of its own.

    Examples
    --------
    >>> split_words("the animal didn't cross...")
    ['the', 'animal', 'didn', "'", 't', 'cross', '.', '.', '.']
    """
    words = []
    for chunk in text.split():
        start = 0
        for i, char in enumerate(chunk):
            if _is_punctuation(char):
                if i > start:
                    words.append(chunk[start:i])
                words.append(char)
                start = i + 1
        if start < len(chunk):
            words.append(chunk[start:])
    return words


class WordPiece:
    """A WordPiece tokenizer over a fixed vocabulary (one token per line of ``vocab.txt``).

    Parameters
    ----------
    vocab : sequence of str
        The tokens; a token's id is its position. Must hold the special tokens
        ``[UNK]``, ``[CLS]`` and ``[SEP]``, and no token twice.

    Examples
    --------
    >>> wp = WordPiece(["[UNK]", "[CLS]", "[SEP]", "play", "##ing", "##ed", "!"])
    >>> wp.tokenize("Playing! PLAYED?")
    ['[CLS]', 'play', '##ing', '!', 'play', '##ed', '[UNK]', '[SEP]']
    >>> wp.encode("played")
    [1, 3, 5, 2]
    """

    def __init__(self, vocab):
        self.vocab = list(vocab)
        self.ids = {token: i for i, token in enumerate(self.vocab)}
        if len(self.ids) != len(self.vocab):
            seen = set()
            twice = next(t for t in self.vocab if t in seen or seen.add(t))
            raise ValueError(f"the vocabulary holds {twice!r} twice")
        missing = [t for t in ("[UNK]", "[CLS]", "[SEP]") if t not in self.ids]
        if missing:
            raise ValueError(f"the vocabulary lacks the special tokens {missing}")
        self._longest = max(len(t) for t in self.vocab)  # no piece is longer than this

    @classmethod
    def from_file(cls, path):
        """Read a ``vocab.txt``: UTF-8, one token per line.

        Parameters
        ----------
        path : str or Path
            The vocabulary file.

        Returns
        -------
        WordPiece
        """
        text = Path(path).read_text(encoding="utf-8")
        return cls(text.splitlines())

    def pieces(self, word: str) -> list[str]:
        """Cut one word into the longest vocabulary pieces, left to right.

        Parameters
        ----------
        word : str
            One word of :func:`split_words`.

        Returns
        -------
        list of str
            The pieces, each after the first written with ``##``; ``["[UNK]"]`` when the word
            cannot be cut or has more than :data:`MAX_CHARS_PER_WORD` characters.

        Examples
        --------
        >>> WordPiece(["[UNK]", "[CLS]", "[SEP]", "token", "##izer", "##s"]).pieces("tokenizers")
        ['token', '##izer', '##s']
        """
        if len(word) > MAX_CHARS_PER_WORD:
            return ["[UNK]"]
        pieces, start = [], 0
        while start < len(word):
            prefix = "##" if start else ""
            for end in range(min(len(word), start + self._longest), start, -1):
                if prefix + word[start:end] in self.ids:
                    pieces.append(prefix + word[start:end])
                    start = end
                    break
            else:  # no piece of the vocabulary starts here: the whole word is unknown
                return ["[UNK]"]
        return pieces

    def tokenize(self, text: str) -> list[str]:
        """Turn ``text`` into tokens, wrapped as ``[CLS] ... [SEP]``.

        Parameters
        ----------
        text : str
            Any text. Special tokens written in it (``"[MASK]"``) stay single tokens.

        Returns
        -------
        list of str
        """
        if not isinstance(text, str):
            raise TypeError(f"the text must be a str, got {type(text).__name__}")
        tokens = ["[CLS]"]
        for i, part in enumerate(_SPECIAL.split(text)):
            if i % 2:  # the separators that re.split keeps: the special tokens themselves
                tokens.append(part if part in self.ids else "[UNK]")
                continue
            for word in split_words(normalize(part)):
                tokens.extend(self.pieces(word))
        tokens.append("[SEP]")
        return tokens

    def encode(self, text: str) -> list[int]:
        """Return the ids of :meth:`tokenize`'s tokens (positions in the vocabulary).

        Parameters
        ----------
        text : str

        Returns
        -------
        list of int
        """
        return [self.ids[token] for token in self.tokenize(text)]
