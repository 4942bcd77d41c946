"""Predict-then-reveal questions: ``check_prediction(question, answer)``.

Every true answer is computed on the spot, from the bundled embeddings or from seeded random
vectors and :mod:`course_lib.attention`; no answer is written down in this file. An answer
may be spelled in several ways (case, surrounding spaces, quotes, numpy scalars and
``np.str_`` do not matter); a number is accepted within a tolerance that the hint states.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import numpy as np

from course_lib import attention
from course_lib.exercises import _answers as answers
from course_lib.exercises._harness import NotAttempted, NotYet, run_checker, two_numbers

SENTENCE = "I drink coke, but eat steak"
DONT_PANIC = "Don't panic, it's only a test!"
KOMBUCHA = "I drink kombucha, but eat steak"
D_MODEL, N_HEADS = 512, 8  # the multi-head layer of "multihead_divisor"
_NAMES = {  # names a student may use inside sqrt(...)
    "d_head": D_MODEL / N_HEADS,
    "d_k": D_MODEL / N_HEADS,
    "dk": D_MODEL / N_HEADS,
    "d_model": float(D_MODEL),
    "h": float(N_HEADS),
}


@dataclass(frozen=True)
class Question:
    """A question: its text, how to compute the truth, how to read and judge an answer."""

    text: str
    truth: Callable[[], tuple]  # () -> (true answer, one sentence that shows it)
    parse: Callable  # answer -> a comparable value, or NotYet naming the accepted forms
    tolerance: float = 0.0  # for numbers: how far from the truth an answer may be


# --------------------------------------------------------------------------------------
# Computing the truths
# --------------------------------------------------------------------------------------
def _embed(sentence: str):
    from course_lib.embeddings import embed_sentence, load_embeddings

    return embed_sentence(sentence, load_embeddings("bundled"))


def _sentence_vectors():
    """Words and (seq_len, 64) vectors of SENTENCE in the bundled embeddings."""
    emb = _embed(SENTENCE)
    return [w.lower() for w in emb.words], np.asarray(emb.vectors, dtype=np.float64)


def _truth_steak_attends_to():
    words, x = _sentence_vectors()
    _, weights = attention.scaled_dot_product_attention(x, x, x)  # (seq_len, seq_len)
    i = words.index("steak")
    ranked = sorted(((weights[i, j], w) for j, w in enumerate(words) if j != i), reverse=True)
    detail = (
        f"after itself ({weights[i, i]:.2f}), 'steak' gives its largest weight to "
        f"'{ranked[0][1]}' ({ranked[0][0]:.2f}; next is '{ranked[1][1]}', {ranked[1][0]:.2f})"
    )
    return ranked[0][1], detail


def _truth_coke_most_similar():
    words, x = _sentence_vectors()
    unit = x / np.linalg.norm(x, axis=-1, keepdims=True)
    cos = unit @ unit.T  # (seq_len, seq_len)
    i = words.index("coke")
    j = max((k for k in range(len(words)) if k != i), key=lambda k: cos[i, k])
    return words[j], f"'{words[j]}' has cosine similarity {cos[i, j]:.2f} with 'coke'"


def _truth_scaling_changes_argmax():
    _, x = _sentence_vectors()
    _, plain = attention.dot_product_attention(x, x, x)
    _, scaled = attention.scaled_dot_product_attention(x, x, x)
    changed = bool(np.any(plain.argmax(axis=-1) != scaled.argmax(axis=-1)))
    detail = (
        "the favourite word changed for at least one query"
        if changed
        else "dividing every score in a row by the same positive number keeps their order, so "
        "each word's favourite stays the same; only how peaked the weights are changes"
    )
    return changed, detail


def _truth_dont_panic_rows():
    emb = _embed(DONT_PANIC)
    detail = f"tokens {emb.tokens}; missing {emb.missing}; vectors of shape {emb.vectors.shape}"
    return int(emb.vectors.shape[0]), detail


def _truth_mislabelled_eat():
    emb = _embed(KOMBUCHA)
    pairs = list(zip(KOMBUCHA.split(), emb.words, strict=False))  # the bug: raw labels
    detail = f"{emb.missing} was dropped, so every label after it slides one row: " + ", ".join(
        f"{label!r} -> row of {word!r}" for label, word in pairs
    )
    return dict(pairs)["eat"], detail


def _truth_drink_is_its_own_top_dot():
    from course_lib.embeddings import load_embeddings

    kv = load_embeddings("bundled")
    table = np.asarray(kv.vectors, dtype=np.float64)  # (vocab_size, d)
    scores = table @ table[kv.key_to_index["drink"]]  # (vocab_size,)
    top = int(np.argmax(scores))
    detail = (
        f"the largest dot product with 'drink' is '{kv.index_to_key[top]}' "
        f"({scores[top]:.1f}; 'drink' itself: {scores[kv.key_to_index['drink']]:.1f})"
    )
    return kv.index_to_key[top] == "drink", detail


def _truth_variance_growth():
    rng = np.random.default_rng(0)
    d_ks = np.array([4, 16, 64, 256])
    variances = []
    for d_k in d_ks:
        q, k = rng.normal(size=(4000, d_k)), rng.normal(size=(4000, d_k))
        variances.append(np.var(np.sum(q * k, axis=-1)))  # one score q·k per row
    slope = float(np.polyfit(np.log(d_ks), np.log(variances), 1)[0])
    law = min(answers.GROWTH, key=lambda w: abs(answers.GROWTH[w] - slope))
    pairs = ", ".join(f"d_k={d}: {v:.0f}" for d, v in zip(d_ks, variances, strict=True))
    return law, f"measured Var(q·k) at {pairs} (log-log slope {slope:.2f})"


def _truth_self_weight_after_scaling():
    rng = np.random.default_rng(0)
    weights = []
    for _ in range(200):
        x = rng.normal(size=(8, 64))  # 8 words, d_k = 64, unit-variance entries; Q = K = x
        _, w = attention.scaled_dot_product_attention(x, x, x)  # divides by √64
        weights.append(np.diag(w).mean())
    mean = float(np.mean(weights))
    detail = (
        f"measured mean self-weight {mean:.3f} over 200 random sentences; with Q = K a word's "
        "score with itself is ‖x‖² ≈ d_k = 64, still ≈ 8 after dividing by √64, while its "
        "scores with other words are about ±1: scaling does not cure self-preference when Q = K"
    )
    return mean, detail


def _truth_divide_by_dk():
    rng = np.random.default_rng(0)
    d_k, seq = 1024, 10
    q, k = rng.normal(size=(100, seq, d_k)), rng.normal(size=(100, seq, d_k))
    scores = q @ np.swapaxes(k, -1, -2)  # (100, seq, seq)
    flat = {}
    for label, divisor in (("√d_k", math.sqrt(d_k)), ("d_k", d_k)):
        entropy = attention.attention_entropy(attention.softmax(scores / divisor))
        flat[label] = float(entropy.mean() / math.log(seq))  # 1 = uniform
    label = "uniform" if flat["d_k"] > 0.98 else "one-hot" if flat["d_k"] < 0.2 else "unchanged"
    if label == "unchanged" and abs(flat["d_k"] - flat["√d_k"]) > 0.05:
        label = "uniform" if flat["d_k"] > flat["√d_k"] else "one-hot"
    detail = (
        f"at d_k = {d_k} with {seq} words, the rows' entropy is {flat['√d_k']:.0%} of a uniform "
        f"row's after dividing by √d_k and {flat['d_k']:.1%} after dividing by d_k: the scores "
        "shrink like 1/√d_k, so every weight is about 1/seq_len"
    )
    return label, detail


def _truth_multihead_divisor():
    d_model, n_heads = D_MODEL, N_HEADS
    d_head = d_model // n_heads
    detail = (
        f"each head's queries and keys have d_head = {d_model} / {n_heads} = {d_head} features, "
        f"so each head divides by √{d_head} = {math.sqrt(d_head):g}"
    )
    return math.sqrt(d_head), detail


# --------------------------------------------------------------------------------------
# The questions
# --------------------------------------------------------------------------------------
#: Predict-then-reveal questions, by name.
QUESTIONS = {
    "dont_panic_rows": Question(
        f'How many rows does embed_sentence("{DONT_PANIC}").vectors have with the bundled '
        "vectors? Answer a whole number.",
        _truth_dont_panic_rows,
        answers.whole,
    ),
    "mislabelled_eat": Question(
        f"embed_sentence('{KOMBUCHA}') drops the unknown word. If its rows are labelled with "
        "the raw sentence, zip(sentence.split(), emb.words), which word's row does the label "
        "'eat' end up on? Answer a word.",
        _truth_mislabelled_eat,
        answers.clean,
    ),
    "drink_is_its_own_top_dot": Question(
        "Over the whole bundled vocabulary, is 'drink' itself the word whose vector has the "
        "largest dot product with the vector of 'drink'? Answer True or False.",
        _truth_drink_is_its_own_top_dot,
        answers.yes_no,
    ),
    "coke_most_similar": Question(
        f"In '{SENTENCE}' (bundled 64-d vectors), which other word of the sentence has the "
        "highest cosine similarity with 'coke'? Answer a word.",
        _truth_coke_most_similar,
        answers.clean,
    ),
    "steak_attends_to": Question(
        f"Self-attention on '{SENTENCE}' with Q = K = V = the bundled 64-d word vectors and "
        "scaled dot-product attention (scores / √d_k): in the row of 'steak', which word "
        "other than 'steak' itself gets the largest weight? Answer a word.",
        _truth_steak_attends_to,
        answers.clean,
    ),
    "scaling_changes_argmax": Question(
        "In the same self-attention, does dividing the scores by √d_k change, for any word, "
        "which word it gives its largest weight to (itself included)? Answer True or False.",
        _truth_scaling_changes_argmax,
        answers.yes_no,
    ),
    "variance_growth": Question(
        "For random q and k whose entries are independent with mean 0 and variance 1, how "
        "does the variance of the score q·k grow with d_k? Answer in words ('constant', "
        "'like sqrt(d_k)', 'linearly', 'like d_k squared') or as the power of d_k.",
        _truth_variance_growth,
        answers.growth,
        tolerance=0.1,
    ),
    "self_weight_after_scaling": Question(
        "With Q = K = 8 random vectors of d_k = 64 independent unit-variance entries, what "
        "weight does a word give itself, on average, after the scores are divided by √d_k? "
        "Answer a number between 0 and 1.",
        _truth_self_weight_after_scaling,
        partial(answers.number, what="a number between 0 and 1"),
        tolerance=0.05,
    ),
    "divide_by_dk": Question(
        "At large d_k (random independent queries and keys), what does dividing the scores by "
        "d_k instead of √d_k do to the rows of weights? Answer 'uniform' (flat), 'one-hot' "
        "(peaked) or 'unchanged'.",
        _truth_divide_by_dk,
        answers.flatness,
    ),
    "multihead_divisor": Question(
        f"A multi-head layer has d_model = {D_MODEL} and {N_HEADS} heads. What number should "
        "each head divide its scores by? Answer a number (or sqrt(...) of one).",
        _truth_multihead_divisor,
        partial(answers.divisor, names=_NAMES),
        tolerance=0.05,
    ),
}


def _judge_number(question: str, predicted: float, truth: float, tolerance: float) -> str:
    """'' when ``predicted`` is within ``tolerance`` of ``truth``, else the named mistake."""
    if abs(predicted - truth) <= tolerance:
        return ""
    want, have = two_numbers(truth, predicted)
    where = f"you answered {have}; the answer is {want} (accepted within ±{tolerance:g})"
    if question == "multihead_divisor":
        d_model, h = _NAMES["d_model"], _NAMES["h"]
        named = {
            math.sqrt(d_model): f"that is √d_model: every head's scores would be √{h:g} ≈ "
            f"{math.sqrt(h):.2f} times too flat",
            d_model / h: "that is d_head itself; divide by its square root",
            d_model: "that is d_model itself; a head divides by the square root of its own size",
            1.0: "1 means no division at all",
        }
        for number, hint in named.items():
            if abs(predicted - number) <= tolerance:
                return f"{hint}; {where}"
    if question == "self_weight_after_scaling" and not 0 <= predicted <= 1:
        return f"a weight lies between 0 and 1; {where}"
    return where


def check_prediction(question: str, answer) -> bool | None:
    """Compare a prediction with the answer computed on the spot (predict, then reveal).

    The questions are the keys of :data:`QUESTIONS` (each with its full text there):
    ``"dont_panic_rows"``, ``"mislabelled_eat"``, ``"drink_is_its_own_top_dot"``,
    ``"coke_most_similar"``, ``"steak_attends_to"``, ``"scaling_changes_argmax"``,
    ``"variance_growth"`` (words such as "linearly" or "proportional to d_k", or the power of
    d_k, within 0.1), ``"self_weight_after_scaling"`` (a number within 0.05 of the measured
    mean), ``"divide_by_dk"`` ("uniform", "one-hot" or "unchanged", in several wordings) and
    ``"multihead_divisor"`` (a number within 0.05, or ``"sqrt(64)"``, ``"√64"``).

    Parameters
    ----------
    question : str
        One of the names above.
    answer : str, bool, int or float
        The prediction; ``None`` (the stub's value) means not attempted.

    Returns
    -------
    bool or None
        True if the prediction matches, False if not (the true answer is revealed),
        None if ``answer`` is None.

    Examples
    --------
    >>> check_prediction("variance_growth", "proportional to d_k")  # doctest: +ELLIPSIS
    ✅ correct: like d_k (linearly); measured Var(q·k) at d_k=4: 4, ... (log-log slope 1.00)
    True
    >>> check_prediction("multihead_divisor", "sqrt(64)")  # doctest: +ELLIPSIS
    ✅ correct: 8; each head's queries and keys have d_head = 512 / 8 = 64 features, ...
    True
    >>> check_prediction("variance_growth", None)
    ⏳ not attempted: replace None with your prediction, then run the cell again
    """

    def body() -> str:
        key = str(question).strip()
        if key not in QUESTIONS:
            raise NotYet(f"unknown question {question!r}; choose one of {', '.join(QUESTIONS)}")
        if answer is None or answer is Ellipsis or (isinstance(answer, str) and not answer.strip()):
            raise NotAttempted()
        q = QUESTIONS[key]
        predicted = q.parse(answer)
        if key == "steak_attends_to" and predicted == "steak":
            raise NotYet(
                "the question asks for a word other than 'steak' itself (a word's score with "
                "itself, q·q = ‖q‖², is often its largest); predict again"
            )
        truth, detail = q.truth()
        if key == "variance_growth" and isinstance(predicted, float):  # a power of d_k
            wrong = _judge_number(key, predicted, answers.GROWTH[truth], q.tolerance)
            if wrong:
                raise NotYet(f"{wrong}: Var(q·k) {answers.grows(truth)[3:]}; {detail}")
        elif isinstance(truth, float):
            wrong = _judge_number(key, predicted, truth, q.tolerance)
            if wrong:
                raise NotYet(f"{wrong}; {detail}")
            return f"{truth:.3g}; {detail}"
        elif predicted != truth:
            if key == "variance_growth":
                predicted, truth = answers.grows(predicted), answers.grows(truth)
                raise NotYet(f"you predicted {predicted}; the measurement says {truth}: {detail}")
            raise NotYet(f"you predicted {predicted}; the answer is {truth}: {detail}")
        return f"{truth}: {detail}" if isinstance(truth, bool) else f"{truth}; {detail}"

    return run_checker(
        body, "replace None with your prediction, then run the cell again", runs_code=False
    )


__all__ = ["check_prediction", "QUESTIONS", "Question"]
