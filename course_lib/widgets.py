"""Interactive explorers built on ipywidgets (the names the notebooks import).

- :func:`attention_explorer` (in :mod:`course_lib.explorer_attention`): self-attention of one
  sentence, with the divisor, the query word, the colour scale and the projection as controls.
- :func:`dk_explorer` (in :mod:`course_lib.explorer_dk`): random queries and keys; why
  Transformers divide by sqrt(d_k), and what that does not fix (keys = queries).

Both draw their live picture as HTML (:mod:`course_lib.explorer_view`) with the colours and
labels of :mod:`course_lib.plotting`, and give a matplotlib PNG to kernel-less viewers. The
attention explorer's inputs are checked in :mod:`course_lib.explorer_inputs`.
"""

from course_lib.explorer_attention import (
    DEFAULT_SENTENCE,
    MAX_WORDS,
    AttentionExplorer,
    attention_explorer,
)
from course_lib.explorer_dk import DkExplorer, dk_explorer
from course_lib.explorer_view import Explorer

__all__ = [
    "AttentionExplorer",
    "DkExplorer",
    "Explorer",
    "attention_explorer",
    "dk_explorer",
    "DEFAULT_SENTENCE",
    "MAX_WORDS",
]
