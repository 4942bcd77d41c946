"""Predict-then-reveal questions: ``check_prediction(question, answer)``.

Every true answer is computed on the spot (:mod:`course_lib.exercises._truths`); no answer
is written down in this file. What the student wrote is read by a small parser
(:mod:`course_lib.exercises._answers`), never ``eval``: numbers and arithmetic with the
course's symbols, growth laws in words or symbols, words of a sentence, choices, with
negation ("not X but Y"). A wrong answer is restated in a clean form with the answer and the
measurement that shows it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from course_lib.exercises import _answers as answers
from course_lib.exercises import _judges as judges
from course_lib.exercises import _truths as truths
from course_lib.exercises._format import NotYet
from course_lib.exercises._harness import NotAttempted, run_checker


@dataclass(frozen=True)
class Question:
    """A question: its text, how to compute the truth, how to read and judge an answer.

    ``judge(reading, truth)`` returns '' when the reading is right, else what is wrong.
    """

    text: str
    truth: Callable[[], tuple]
    read: Callable[[object], answers.Reading]
    judge: Callable[[answers.Reading, object], str]
    accepts: str = ""
    within: str = ""  # for numbers: the tolerance, said in the hint


#: Predict-then-reveal questions, by name.
QUESTIONS = {
    "dont_panic_rows": Question(
        f'How many rows does embed_sentence("{truths.DONT_PANIC}").vectors have with the '
        "bundled vectors? Answer a whole number.",
        truths._truth_dont_panic_rows,
        answers.whole,
        judges.equal,
        "a whole number, in digits or words, with or without 'rows'",
    ),
    "mislabelled_eat": Question(
        f"embed_sentence('{truths.KOMBUCHA}') drops the unknown word. If its rows are labelled "
        "with the raw sentence, zip(sentence.split(), emb.words), which word's row does the "
        "label 'eat' end up on? Answer a word.",
        truths._truth_mislabelled_eat,
        judges.word_question(truths.KOMBUCHA, context=("eat",)),
        judges.equal,
        "one word of the sentence, alone or in a phrase ('the row of ...', 'eat -> ...')",
    ),
    "drink_is_its_own_top_dot": Question(
        "Over the whole bundled vocabulary, is 'drink' itself the word whose vector has the "
        "largest dot product with the vector of 'drink'? Answer True or False.",
        truths._truth_drink_is_its_own_top_dot,
        judges.yes_no(r"\bitself\b|^drink\b", r"\banother\b|\bsome other\b|\ba longer\b"),
        lambda reading, truth: "" if reading.value == str(truth).lower() else "-",
        "True/False, yes/no, or a phrase ('it is itself', 'another word')",
    ),
    "coke_most_similar": Question(
        f"In '{truths.SENTENCE}' (bundled 64-d vectors), which other word of the sentence has "
        "the highest cosine similarity with 'coke'? Answer a word.",
        truths._truth_coke_most_similar,
        judges.word_question(truths.SENTENCE, context=("coke",)),
        judges.equal,
        "one word of the sentence",
    ),
    "steak_attends_to": Question(
        f"Self-attention on '{truths.SENTENCE}' with Q = K = V = the bundled 64-d word vectors "
        "and scaled dot-product attention (scores / √d_k): in the row of 'steak', which word "
        "other than 'steak' itself gets the largest weight? Answer a word.",
        truths._truth_steak_attends_to,
        judges.word_question(truths.SENTENCE, context=("steak",)),
        judges.equal,
        "one word of the sentence other than 'steak'",
    ),
    "scaling_changes_argmax": Question(
        "In the same self-attention, does dividing the scores by √d_k change, for any word, "
        "which word it gives its largest weight to (itself included)? Answer True or False.",
        truths._truth_scaling_changes_argmax,
        judges.yes_no(r"\bchanges?\b|\bdifferent\b", r"\bsame\b|\bunchanged|\bkeeps?\b|\bstays?\b"),
        lambda reading, truth: "" if reading.value == str(truth).lower() else "-",
        "True/False, yes/no, or a phrase ('it changes', 'it stays the same')",
    ),
    "variance_growth": Question(
        "For random q and k whose entries are independent with mean 0 and variance 1, how "
        "does the variance of the score q·k grow with d_k? Answer in words ('constant', "
        "'like sqrt(d_k)', 'linearly', 'quadratically'), as an expression in d_k ('d_k', "
        "'d_k^2', 'O(d_k)'), or as the power of d_k (a number: 1 means proportional to d_k).",
        truths._truth_variance_growth,
        partial(answers.law, var="d_k", of="variance"),
        judges.law_judge,
        "words, an expression in d_k, or the power of d_k; negation and 'not X but Y' read",
    ),
    "self_weight_after_scaling": Question(
        "With Q = K = 8 random vectors of d_k = 64 independent unit-variance entries, what "
        "weight does a word give itself, on average, after the scores are divided by √d_k? "
        "Answer a number between 0 and 1.",
        truths._truth_self_weight_after_scaling,
        partial(answers.number, what="a number between 0 and 1"),
        judges.near(
            0.05,
            [(1 / 8, "that is 1/8, the weight of a uniform row over 8 words")],
            bounds=(0.0, 1.0),
        ),
        "a number or an expression, within 0.05 ('0.5', '50%', 'about 0.5', 'e^2/(e^2+7)')",
        "±0.05",
    ),
    "divide_by_dk": Question(
        "At large d_k (random independent queries and keys), what does dividing the scores by "
        "d_k instead of √d_k do to the rows of weights? Answer 'uniform' (flat), 'one-hot' "
        "(peaked) or 'unchanged'.",
        truths._truth_divide_by_dk,
        lambda answer: answers.choice(
            answer, judges.FLATNESS, {"uniform": "one-hot", "one-hot": "uniform"}
        ),
        judges.equal,
        "'uniform' (flat, evenly spread, 1/n), 'one-hot' (peaked) or 'unchanged', in words",
    ),
    "multihead_divisor": Question(
        f"A multi-head layer has d_model = {truths.D_MODEL} and {truths.N_HEADS} heads. What "
        "number should each head divide its scores by? Answer a number (or an expression such "
        "as sqrt(...), in numbers or in d_model, h, d_head).",
        truths._truth_multihead_divisor,
        partial(answers.number, values=judges.HEAD),
        judges.near(
            0.05,
            [
                (
                    math.sqrt(512),
                    "that is √d_model: every head's scores would be √8 ≈ 2.83 times too flat",
                ),
                (64.0, "that is d_head itself; a head divides by its square root"),
                (
                    512.0,
                    "that is d_model itself; a head divides by the square root of its own size",
                ),
                (
                    1 / 8,
                    "that is the scale (what the scores are MULTIPLIED by), not the "
                    "divisor (what they are divided by)",
                ),
                (math.sqrt(8), "that is √h; the divisor depends on the size of one head"),
                (1.0, "1 means no division at all"),
            ],
            check=judges.same_for_any_head,
        ),
        "a number within 0.05, or an expression in numbers or in d_model, h, d_head "
        "('sqrt(...)', '√(a/b)', 'a**0.5/b**0.5')",
        "±0.05",
    ),
    "self_weight_shared_projection": Question(
        f"On '{truths.SENTENCE}' (bundled 64-d vectors, scores ÷ 8) a word's mean weight on "
        "itself is 0.49 with Q = K = X. Now use ONE random 64 × 64 matrix W for both queries "
        "and keys (W_Q = W_K = W, random_projections(64, 64, seed=i)), averaged over 20 draws: "
        "is the mean self-weight higher than 0.49, about the same, or lower? Answer 'higher', "
        "'about the same' or 'lower' (or a number).",
        truths._truth_self_weight_shared_projection,
        judges.compare_self_weight,
        judges.named(
            {
                "lower": "with one matrix a word's query IS its key, so its score with itself "
                "is a squared length again",
            }
        ),
        "'higher', 'about the same' or 'lower' (in words), or the mean self-weight as a "
        "number (within 0.05 of 0.49 counts as the same)",
    ),
    "unseen_drink_attends_to": Question(
        "The model is trained from random_projections(64, 16, seed=0) for 100 steps (learning "
        f"rate 0.5) on the six training sentences. In the unseen sentence '{truths.UNSEEN}', "
        "which word gets the largest weight in the row of 'drink'? Answer a word.",
        truths._truth_unseen_drink_attends_to,
        judges.word_question(truths.UNSEEN, context=("drink",)),
        judges.equal,
        "one word of the sentence",
    ),
    "score_spread_vs_norms": Question(
        "In notebook 04's training (start random_projections(64, 16, seed=0), 100 steps, "
        "learning rate 0.5, scores ÷ 4), ‖W_Q‖ and ‖W_K‖ (Frobenius norms) each grow by about "
        "40%, which alone would multiply the scores by about 1.4 × 1.4 ≈ 2. Does the spread "
        "(standard deviation) of the scores grow by about that factor, by more, or by less? "
        "Answer 'more', 'about the same' or 'less' (or the factor, a number).",
        truths._truth_score_spread_vs_norms,
        judges.compare_spread,
        judges.named({"about the same": "that is what the norms alone give"}),
        "'more', 'about the same' or 'less' (in words), or the factor as a number "
        "('about 3', 'threefold', '3x')",
    ),
    "score_memory_doubling": Question(
        "The score matrix of one head holds seq_len × seq_len numbers. If the sentence gets "
        "twice as long, how many times more memory does it take? Answer a number.",
        truths._truth_score_memory_doubling,
        partial(
            answers.number,
            values={"n": 2.0},
            words=((r"\bquadruple", 4), (r"\bdoubles?\b|\btwice\b", 2), (r"\boctuple", 8)),
        ),
        judges.near(
            0.3, [(2.0, "2 is the linear guess: the matrix is n × n, so both sides double")]
        ),
        "a number within 0.3, in digits, words or an expression ('3', '3x', 'three', 'doubles')",
        "±0.3",
    ),
    "float16_minus_1e9": Question(
        "A common mask fills blocked scores with -1e9. In float16 (largest finite magnitude "
        "65504), what does np.float16(-1e9) hold?",
        truths._truth_float16_minus_1e9,
        judges.float16,
        lambda reading, truth: (
            ""
            if reading.value == truth
            else (
                "the sign: -1e9 is negative, so it overflows to MINUS infinity"
                if reading.value == -truth
                else "numpy does not raise: the conversion overflows silently"
                if reading.value == "error"
                else "-"
            )
        ),
        "a number or a word for one ('0', '-np.inf', 'minus infinity', 'nan', 'an error')",
    ),
    "multihead_parameters": Question(
        f"A multi-head layer with d_model = {truths.D_MODEL} and {truths.N_HEADS} heads has "
        f"W_Q, W_K, W_V and W_O, each ({truths.D_MODEL}, {truths.D_MODEL}), no biases. How "
        "many parameters in all? Answer a number (or an expression in d_model and h).",
        truths._truth_multihead_parameters,
        partial(answers.number, values=judges.HEAD),
        judges.near(
            0.01,
            [
                (512.0**2, "that is one matrix; there are four"),
                (3 * 512.0**2, "that leaves out W_O, the output projection"),
                (
                    4 * 512.0 * 64,
                    "that counts d_model × d_head per matrix: each matrix maps "
                    "all d_model features to all d_model features (the heads share it in slices)",
                ),
                (
                    8 * 4 * 512.0**2,
                    "that multiplies by h: the heads share the four matrices, "
                    "each head using a slice",
                ),
            ],
            relative=True,
            check=judges.same_parameters_for_any_layer,
        ),
        "a number within 1 %, or an expression in numbers or d_model and h "
        "('2,000,000', '8*512**2', 'about 2 million')",
        "±1 %",
    ),
    "inverted_causal_empty_rows": Question(
        "Passing causal_mask(6) (True = may attend) to nn.MultiheadAttention, which reads True "
        "as 'blocked', inverts it. How many of the 6 query rows are left with no key at all? "
        "Answer a whole number.",
        truths._truth_inverted_causal_empty_rows,
        partial(answers.whole, words=((r"\bonly the last\b|\bjust the last\b|^the last", 1),)),
        judges.equal,
        "a whole number, in digits or words ('3', 'three', 'only the last')",
    ),
}


def _truth_said(key: str, truth) -> str:
    if key == "variance_growth":
        return f"it {answers.law_words(truth, 'd_k')}"
    if isinstance(truth, float):
        if math.isinf(truth):
            return "-inf" if truth < 0 else "inf"
        return f"{truth:,.0f}" if truth.is_integer() else f"{truth:.3g}"
    return f"'{truth}'" if isinstance(truth, str) else str(truth)


def _wrong(key: str, reading: answers.Reading, truth, detail: str, named: str) -> str:
    said = reading.said
    if key == "variance_growth":
        said = f"it {said}" if said.startswith(("grows", "shrinks", "stays")) else said
        return f"you said {said}; the measurement says {_truth_said(key, truth)}: {detail}"
    named = f": {named}" if named != "-" else ""
    within = f" (answers within {QUESTIONS[key].within} pass)" if QUESTIONS[key].within else ""
    return f"you answered {said}{named}; the answer is {_truth_said(key, truth)}{within}: {detail}"


def check_prediction(question: str, answer) -> bool | None:
    """Compare a prediction with the answer computed on the spot (predict, then reveal).

    The questions are the keys of :data:`QUESTIONS`, each with its full text there and, in
    ``accepts``, the forms of answer it reads. Answers are read, not token-matched: "it
    grows like log(n), not like n", "sqrt(2)/2", "the row of 'cat'".

    Parameters
    ----------
    question : str
        One of the keys of :data:`QUESTIONS`.
    answer : str, bool, int or float
        The prediction; ``None`` (the stub's value) means not attempted.

    Returns
    -------
    bool or None
        True if the prediction matches, False if not (the true answer is revealed),
        None if ``answer`` is None.

    Examples
    --------
    >>> check_prediction("dont_panic_rows", "VI")  # doctest: +ELLIPSIS
    ❌ not yet: answer a whole number (for example 0.5, 12, sqrt(2) or 3*10**6); got 'VI'
    False
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
        try:
            reading = q.read(answer)
        except answers.OnlyNegative as only:
            truth, detail = q.truth()
            if truth not in only.rejected:
                raise
            raise NotYet(
                f"you ruled out the answer: it is {_truth_said(key, truth)}: {detail}"
            ) from None
        if key == "steak_attends_to" and reading.value == "steak":
            raise NotYet(
                "the question asks for a word other than 'steak' itself (a word's score with "
                "itself, q·q = ‖q‖², is often its largest); predict again"
            )
        truth, detail = q.truth()
        named = q.judge(reading, truth)
        if named:
            raise NotYet(_wrong(key, reading, truth, detail, named))
        return f"{_truth_said(key, truth)}; {detail}"

    return run_checker(
        None, None, body, "replace None with your prediction, then run the cell again"
    )


__all__ = ["check_prediction", "QUESTIONS", "Question"]
