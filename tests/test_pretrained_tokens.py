"""course_lib.wordpiece: BERT's WordPiece tokenizer, checked by hand and against `tokenizers`.

The hand-made cases run with numpy only. The comparison with Hugging Face's ``tokenizers``
library (the model's own tokenizer.json, its padding to 128 and truncation turned off) runs
where that library is installed with torch and transformers (marked ``torch``).
"""

from __future__ import annotations

import random

import pytest

from course_lib.pretrained import SENTENCES, load_pretrained
from course_lib.wordpiece import MAX_CHARS_PER_WORD, WordPiece, normalize, split_words

TOY = WordPiece(
    ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "un", "##believ", "##able", "able", "a"]
    + ["##b", "!", ",", "'", "t", "don", "cafe", "東", "京", "##s", "b"]
)


# ------------------------------------------------------------------------- by hand
@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        ("", ["[CLS]", "[SEP]"]),
        ("   \t\n ", ["[CLS]", "[SEP]"]),
        ("Unbelievable!", ["[CLS]", "un", "##believ", "##able", "!", "[SEP]"]),
        ("able, ABLE", ["[CLS]", "able", ",", "able", "[SEP]"]),
        ("Don't", ["[CLS]", "don", "'", "t", "[SEP]"]),  # punctuation splits a word
        ("Café", ["[CLS]", "cafe", "[SEP]"]),  # accents stripped
        ("東京", ["[CLS]", "東", "京", "[SEP]"]),  # each CJK ideograph is a word
        ("ab", ["[CLS]", "a", "##b", "[SEP]"]),  # the longest piece first, then ## pieces
        ("abs", ["[CLS]", "a", "##b", "##s", "[SEP]"]),
        ("abz", ["[CLS]", "[UNK]", "[SEP]"]),  # one piece missing: the whole word is unknown
        ("a [MASK] b", ["[CLS]", "a", "[MASK]", "b", "[SEP]"]),  # special tokens stay whole
        ("a[SEP]b", ["[CLS]", "a", "[SEP]", "b", "[SEP]"]),
        ("[mask]", ["[CLS]", "[UNK]", "[UNK]", "[UNK]", "[SEP]"]),  # "[", "mask", "]"
        ("a\x00b\u200bb", ["[CLS]", "a", "##b", "##b", "[SEP]"]),  # control/format dropped
        ("a\u00a0b", ["[CLS]", "a", "b", "[SEP]"]),  # a no-break space is a space
    ],
)
def test_tokenize_by_hand(text, tokens):
    assert TOY.tokenize(text) == tokens


def test_a_word_longer_than_the_limit_is_unknown():
    assert MAX_CHARS_PER_WORD == 100
    at_the_limit = "a" + "b" * (MAX_CHARS_PER_WORD - 1)
    assert TOY.tokenize(at_the_limit)[1:-1] == ["a"] + ["##b"] * 99
    assert TOY.tokenize(at_the_limit + "b")[1:-1] == ["[UNK]"]


def test_normalize_and_split_words():
    assert normalize("Ça VA, Zoë?") == "ca va, zoe?"
    assert normalize("ΟΔΟΣ") == "οδοσ"  # one letter at a time: no final-sigma rule
    assert normalize("x\u0301") == "x"
    assert split_words("hi, you...  there") == ["hi", ",", "you", ".", ".", ".", "there"]
    assert split_words("$5+2=7") == ["$", "5", "+", "2", "=", "7"]  # ASCII symbols split too


def test_encode_gives_vocabulary_positions():
    assert TOY.encode("a b") == [2, 9, 20, 3]


def test_vocabulary_problems_are_clear_errors():
    with pytest.raises(ValueError, match="holds 'a' twice"):
        WordPiece(["[UNK]", "[CLS]", "[SEP]", "a", "a"])
    with pytest.raises(ValueError, match=r"lacks the special tokens \['\[SEP\]'\]"):
        WordPiece(["[UNK]", "[CLS]", "a"])
    with pytest.raises(TypeError, match="must be a str"):
        TOY.tokenize(b"bytes")


def test_the_real_vocabulary():
    model = load_pretrained()
    tokens = model.tokenize("The animal didn't cross the street because it was tired.")
    assert tokens == (
        ["[CLS]", "the", "animal", "didn", "'", "t", "cross", "the", "street"]
        + ["because", "it", "was", "tired", ".", "[SEP]"]
    )
    assert model.tokenize("She sips espresso")[1:-1] == [
        "she",
        "sip",
        "##s",
        "es",
        "##press",
        "##o",
    ]
    assert len(model.tokenizer.vocab) == 30522 and model.tokenizer.ids["[CLS]"] == 101


# ------------------------------------------------------------------------- against tokenizers
HANDWRITTEN = [
    *SENTENCES,
    "",
    " ",
    "Hello, world!",
    "HELLO WORLD",
    "The quick brown fox jumps over the lazy dog.",
    "Don't stop believin'... hold on to that feelin'!",
    "It's 3:45 p.m. on 12/03/2026; the meeting costs $1,250.50 (excl. VAT).",
    "Call +44 (0)20 7946 0958 or e-mail jane.doe@example.com.",
    "Visit https://example.org/path?query=1&x=2#frag now",
    "Crème brûlée, jalapeño, naïve, façade, Zoë, São Paulo, Ångström.",
    "Straße, Œuvre, Æsir, ﬁnance, ﬀ, Ǆ, Ĳ",
    "ΟΔΟΣ Σίσυφος και η θάλασσα",
    "Москва — столица России.",
    "東京は日本の首都です。",
    "我爱北京天安门",
    "한국어 문장입니다",
    "ภาษาไทย",
    "مرحبا بالعالم",
    "שלום עולם",
    "I ❤️ emoji 😀🎉👍🏽 and 🫠 too",
    "Supercalifragilisticexpialidocious antidisestablishmentarianism",
    "pneumonoultramicroscopicsilicovolcanoconiosis",
    "a" * 99,
    "a" * 100,
    "a" * 101,
    "b" * 150 + " end",
    "zzqxjv qwrtpsdf kombucha ibuprofen paracetamol",
    "tokenization tokenizer tokenizers tokenized",
    "A [MASK] in the middle and [CLS] [SEP] [PAD] [UNK] literally",
    "lower [mask] is not special",
    "tab\tnewline\nreturn\rvertical\x0bformfeed\x0cnel\x85end",
    "zero\u200bwidth\u200cjoiner\u200dmarks\ufeff",
    "no\u00a0break\u2009thin\u3000ideographic space",
    "null\x00char and \ufffd replacement",
    "combining: e\u0301 a\u0308 n\u0303",
    "İstanbul ıstakoz",
    "ＦＵＬＬＷＩＤＴＨ ｌｅｔｔｅｒｓ １２３",
    "Ⅻ ① ² ½ ∞ ≠ ≤ ≥ ± × ÷",
    "¿Dónde está la biblioteca? ¡Allí!",
    "«Bonjour», dit-il — « au revoir ».",
    "He said “hello” and ‘bye’…",
    "C++ and C# and F# are languages; so is R.",
    "100% of 50 is 50; 2^10 = 1024; 3*4=12",
    "snake_case camelCase kebab-case PascalCase",
    "#hashtag @mention ~tilde `backtick` |pipe| \\backslash/",
    "The year 1999, the 21st century, and 3.14159.",
    "U.S.A. vs. U.K. e.g. i.e. etc.",
    "!!!???...,,,;;;:::",
    "a-b-c-d-e-f-g",
    "résumé RÉSUMÉ Résumé",
    "ﷺ ﷽",
    "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𝕄𝕒𝕥𝕙",
    "\u202eright-to-left override\u202c",
    "Hello\u2028line\u2029paragraph",
]

POOL = {
    "words": "the a dog cat drink coke steak tired street river bank money music jazz".split(),
    "rare": "kombucha espresso lasagne ibuprofen downpour stockbroker xylophone quixotic".split(),
    "accented": "café naïve jalapeño über Ærø Zoë façade crème déjà-vu".split(),
    "numbers": ["3", "42", "1,000", "3.14", "2026", "7th", "1/2", "#1", "$9.99", "50%"],
    "punct": list(",.;:!?'\"()-[]{}") + ["...", "—", "–", "…"],
    "other": ["東京", "北京", "😀", "👍🏽", "ñ", "ß", "Ω", "π", "∑", "한국", "α-β"],
    "long": ["a" * 120, "x" * 60 + "y" * 60, "antidisestablishmentarianism"],
}


def generated_sentences(n: int, seed: int = 0) -> list[str]:
    """``n`` varied sentences from the pools above (seeded)."""
    rng = random.Random(seed)
    kinds = list(POOL)
    out = []
    for _ in range(n):
        parts = []
        for _ in range(rng.randint(1, 12)):
            kind = rng.choice(kinds + ["words"] * 4)
            word = rng.choice(POOL[kind])
            parts.append(word.upper() if rng.random() < 0.15 else word)
        glue = rng.choice([" ", " ", " ", "", "  ", "\t"])
        out.append(glue.join(parts))
    return out


CORPUS = HANDWRITTEN + generated_sentences(200)


def test_the_corpus_is_varied_and_large_enough():
    assert len(set(CORPUS)) >= 250
    joined = "".join(CORPUS)
    for sample in ("é", "東", "😀", "'", "3", "[MASK]", "a" * 101):
        assert sample in joined


@pytest.fixture(scope="module")
def reference():
    tokenizers = pytest.importorskip("tokenizers")
    path = load_pretrained().path / "tokenizer.json"
    tokenizer = tokenizers.Tokenizer.from_file(str(path))
    assert tokenizer.padding["length"] == 128  # what the file says; turned off below
    tokenizer.no_padding()
    tokenizer.no_truncation()
    return tokenizer


@pytest.mark.torch
def test_tokens_and_ids_match_the_tokenizers_library(reference):
    model = load_pretrained()
    mismatches = []
    for text in CORPUS:
        expected = reference.encode(text)
        if model.tokenize(text) != expected.tokens or model.tokenizer.encode(text) != expected.ids:
            mismatches.append((text, model.tokenize(text), expected.tokens))
    assert not mismatches, f"{len(mismatches)} of {len(CORPUS)} differ, first: {mismatches[0]}"


@pytest.mark.torch
def test_the_corpus_exercises_every_path(reference):
    """The comparison above means something: the corpus has ## pieces, [UNK]s, special
    tokens, CJK characters split one by one and words over the length limit."""
    tokens = [t for text in CORPUS for t in reference.encode(text).tokens]
    assert sum(t.startswith("##") for t in tokens) > 100
    assert tokens.count("[UNK]") > 10 and tokens.count("[MASK]") >= 1
    assert "東" in tokens and "京" in tokens
    assert reference.encode("a" * 101).tokens == ["[CLS]", "[UNK]", "[SEP]"]


# Unassigned code points (category Cn in every Unicode version Python 3.10-3.13 ships):
# ``tokenizers`` keeps them and makes them [UNK]; the code from the original BERT dropped them.
UNASSIGNED = ["\u0378", "\u0530", "\ud7ff", "\U0002fffe", "\U0010fffe"]


@pytest.mark.torch
@pytest.mark.parametrize("char", UNASSIGNED, ids=[f"U+{ord(c):04X}" for c in UNASSIGNED])
def test_unassigned_characters_are_kept_as_tokenizers_keeps_them(reference, char):
    model = load_pretrained()
    for text in (f"a{char}b", f"x {char} y", f"{char}{char}", f"caf\u00e9{char}!"):
        assert model.tokenize(text) == reference.encode(text).tokens, repr(text)


@pytest.mark.torch
def test_random_text_from_many_scripts_matches_the_tokenizers_library(reference):
    """A seeded fuzz over scripts, spaces, controls, punctuation, emoji and combining marks."""
    import random

    pools = [
        "abcXYZ0123456789",
        " \t\n\u00a0\u2000\u3000\u200b\ufeff\u00ad\u0085\x0b\x1f",
        "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~¡¿«»—–…‘’“”•·§©°±×÷",
        "àéîõüÿĀŁŃŐŒŠŸǅßİıΣσςΩЖЯё",
        "中文日本語한국어ｶﾀｶﾅ",
        "العربيةעבריתไทยहिन्दी",
        "😀👍🏽👨‍👩‍👧🇫🇷❤️✨",
        "\u0301\u0308\u0327\u20dd\u0e31",
        "[CLS][SEP][MASK][UNK]##",
        "\x00\x07\x7f\ufffd\U0001d400\u2160\u00bd\u00b2\u0660\uff10\u0378",
    ]
    rng = random.Random(0)
    model, mismatches = load_pretrained(), []
    for _ in range(1500):
        words = [
            "".join(rng.choice(rng.choice(pools)) for _ in range(rng.randint(1, 8)))
            for _ in range(rng.randint(0, 12))
        ]
        text = rng.choice(["", " "]).join(words)
        if model.tokenize(text) != reference.encode(text).tokens:
            mismatches.append(text)
    assert not mismatches, f"{len(mismatches)} differ, first: {mismatches[0]!r}"
