"""Compute the answer to each prediction question, on the spot.

Every truth is computed from the bundled embeddings or from seeded random vectors and
:mod:`course_lib.attention` (or :mod:`course_lib.training`); no answer is written down. Each
function returns (the true answer, one sentence that shows it).
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from course_lib import attention

SENTENCE = "I drink coke, but eat steak"
DONT_PANIC = "Don't panic, it's only a test!"
KOMBUCHA = "I drink kombucha, but eat steak"
UNSEEN = "they eat bread and drink milk"
D_MODEL, N_HEADS = 512, 8  # the multi-head layer of "multihead_divisor"


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
    law = round(slope * 2) / 2  # the nearest half power of d_k
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


@lru_cache(maxsize=1)
def _training_run():
    """Train notebook 04's model (seed 0, 100 steps); return (start, trained) projections."""
    from course_lib import training

    start = training.random_projections(64, 16, seed=0)
    result = training.train_projections(
        training.verb_object_examples(), w_q=start[0], w_k=start[1], steps=100, learning_rate=0.5
    )
    return start, (result.w_q, result.w_k)


@lru_cache(maxsize=1)
def self_weights() -> tuple[float, float]:
    """Return the mean self-weight with Q = K = X, and with one random W for both (20 draws)."""
    from course_lib.training import random_projections

    _, x = _sentence_vectors()
    _, same = attention.scaled_dot_product_attention(x, x, x)  # Q = K = X, ÷ 8
    means = []
    for seed in range(20):
        w, _ = random_projections(64, 64, seed=seed)  # W_Q = W_K = w
        projected = x @ w  # (seq_len, 64): the queries and the keys
        weights = attention.softmax(projected @ projected.T / 8)  # (seq_len, seq_len)
        means.append(float(np.diag(weights).mean()))
    return float(np.diag(same).mean()), float(np.mean(means))


def _truth_self_weight_shared_projection():
    base, mean = self_weights()
    label = "about the same" if abs(mean - base) <= 0.05 else "lower" if mean < base else "higher"
    detail = (
        f"with Q = K = X the mean self-weight is {base:.2f}; with one random matrix for both "
        f"it is {mean:.2f} (mean over 20 draws): a word's query is still its own key, so its "
        "score with itself is a squared length again"
    )
    return label, detail


def _truth_unseen_drink_attends_to():
    from course_lib.embeddings import embed_sentence
    from course_lib.training import attention_weights

    _, (w_q, w_k) = _training_run()
    emb = embed_sentence(UNSEEN)
    words = [w.lower() for w in emb.words]
    row = attention_weights(emb.vectors, w_q, w_k)[words.index("drink")]  # (seq_len,)
    order = np.argsort(-row)
    detail = (
        f"in the trained model, 'drink' gives {row[order[0]]:.2f} to '{words[order[0]]}' "
        f"and {row[order[1]]:.2f} to '{words[order[1]]}'"
    )
    return words[order[0]], detail


@lru_cache(maxsize=1)
def spread_growth() -> tuple[float, float]:
    """Return (growth of the scores' spread, growth that the two norms alone give)."""
    from course_lib import training

    (w_q0, w_k0), (w_q, w_k) = _training_run()
    examples = training.verb_object_examples()

    def spread(a, b):  # std of every score of the six sentences, ÷ √16 = 4
        return float(
            np.concatenate([((e.x @ a) @ (e.x @ b).T / 4).ravel() for e in examples]).std()
        )

    norms = np.linalg.norm(w_q) / np.linalg.norm(w_q0) * np.linalg.norm(w_k) / np.linalg.norm(w_k0)
    return spread(w_q, w_k) / spread(w_q0, w_k0), float(norms)


def _truth_score_spread_vs_norms():
    growth, norms = spread_growth()
    ratio = growth / norms
    label = "more" if ratio > 1.5 else "less" if ratio < 1 / 1.5 else "about the same"
    detail = (
        f"the norms alone multiply the scores by {norms:.2f}; their spread grows ×{growth:.1f}: "
        "the matrices also turn towards the directions in which the words differ"
    )
    return label, detail


def _truth_score_memory_doubling():
    n = 10
    small = np.zeros((n, n)).nbytes  # one head's scores for n words
    large = np.zeros((2 * n, 2 * n)).nbytes
    detail = f"{n} words: {small} bytes of scores; {2 * n} words: {large} bytes (n × n numbers)"
    return large / small, detail


def _truth_float16_minus_1e9():
    with np.errstate(over="ignore"):
        value = float(np.float16(-1e9))
    detail = (
        "float16's largest finite magnitude is 65504, so -1e9 overflows to -inf (then "
        "exp(-inf - max) is exactly 0, while a masked row of -inf only gives NaN)"
    )
    return value, detail


def _truth_multihead_parameters():
    shapes = {name: (D_MODEL, D_MODEL) for name in ("W_Q", "W_K", "W_V", "W_O")}
    total = sum(rows * cols for rows, cols in shapes.values())
    detail = f"W_Q, W_K, W_V and W_O are each {D_MODEL} × {D_MODEL}: 4 × {D_MODEL}² = {total:,}"
    return float(total), detail


def _truth_inverted_causal_empty_rows():
    allowed = ~attention.causal_mask(6)  # True read as "blocked": what is left to attend
    empty = int((~allowed.any(axis=-1)).sum())
    detail = (
        "read as 'blocked', the True entries on and below the diagonal are blocked; only the "
        f"entries above it are left, and the last row has none ({empty} row with no key)"
    )
    return empty, detail
