"""Checkers for the course exercises: ``from course_lib.exercises import check_softmax``.

Each ``check_...`` function runs the student's function on hidden cases (random but seeded,
with the inputs students' mistakes show up on: rows whose scores differ by thousands,
batches, padding), compares the result with a reference computed here (from
:mod:`course_lib.attention`, or finite differences for gradients), and prints exactly one
line:

- ``✅ correct: ...`` and returns ``True``;
- ``❌ not yet: <a hint that names the mistake>`` and returns ``False``;
- ``⏳ not attempted: ...`` and returns ``None``, when the stub still raises
  ``NotImplementedError`` or returns None.

A checker never raises (but for KeyboardInterrupt), stops a function that runs longer than a
few seconds whatever it does (it runs in a forked child process where the platform has
processes), switches off course_lib's own answer to the exercise while the function runs,
and never changes the arrays it passes (see :mod:`course_lib.exercises._harness`).

The package, by concern:

- ``_harness``: calling a student's function, the comparison loop, wording the verdict;
  ``_sandbox`` and ``_transfer`` (the forked child and what comes back from it),
  ``_tripwire`` (course_lib's answers switched off), ``_source`` (reading a function for
  loops), ``_format`` (tolerances and how numbers are shown);
- ``similarity`` (notebook 01), ``softmax`` (02, 03), ``attention_checks`` (02, 03),
  ``masks`` (02, 05), ``variance`` (03), ``projections`` (04, 05): the function checkers;
- ``predictions``: ``check_prediction(question, answer)`` and its questions, with
  ``_truths`` computing the answers and ``_clauses``, ``_parse``, ``_answers`` and ``_judges``
  reading what the student wrote (a small parser: never ``eval``).

Only numpy and :mod:`course_lib.attention` are imported with this package;
:mod:`course_lib.embeddings` is imported inside the questions that need word vectors.
"""

from course_lib.exercises.attention_checks import (
    check_dot_product_attention,
    check_scaled_attention,
)
from course_lib.exercises.masks import (
    check_causal_mask,
    check_masked_attention,
    check_padding_mask,
)
from course_lib.exercises.predictions import QUESTIONS, check_prediction
from course_lib.exercises.pretrained_checks import (
    check_head_score_variance,
    check_previous_token_head,
)
from course_lib.exercises.projections import (
    check_multihead_attention,
    check_projections,
    check_score_gradient,
)
from course_lib.exercises.similarity import check_cosine_matrix, check_cosine_similarity
from course_lib.exercises.softmax import check_softmax, check_softmax_backward
from course_lib.exercises.variance import check_variance_experiment

__all__ = [
    "check_cosine_similarity",
    "check_cosine_matrix",
    "check_softmax",
    "check_softmax_backward",
    "check_dot_product_attention",
    "check_scaled_attention",
    "check_masked_attention",
    "check_causal_mask",
    "check_padding_mask",
    "check_variance_experiment",
    "check_projections",
    "check_score_gradient",
    "check_multihead_attention",
    "check_head_score_variance",
    "check_previous_token_head",
    "check_prediction",
    "QUESTIONS",
]
