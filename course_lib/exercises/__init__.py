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

A checker never raises, stops a function that runs longer than a few seconds, and never
changes the arrays it passes (see :mod:`course_lib.exercises._harness`).

The package, by concern:

- ``_harness``: running a student's function safely and wording the verdict;
- ``similarity`` (notebook 01), ``softmax`` (02, 03), ``attention_checks`` (02, 03),
  ``masks`` (02, 04), ``variance`` (03), ``projections`` (04): the function checkers;
- ``predictions``: ``check_prediction(question, answer)`` and its computed truths, with
  ``_answers`` reading the student's answer in its several spellings.

Only numpy and :mod:`course_lib.attention` are imported with this package;
:mod:`course_lib.embeddings` is imported inside the questions that need word vectors.
"""

from course_lib.exercises.attention_checks import (
    check_dot_product_attention,
    check_scaled_attention,
)
from course_lib.exercises.masks import check_causal_mask, check_masked_attention
from course_lib.exercises.predictions import QUESTIONS, check_prediction
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
    "check_variance_experiment",
    "check_projections",
    "check_score_gradient",
    "check_multihead_attention",
    "check_prediction",
    "QUESTIONS",
]
