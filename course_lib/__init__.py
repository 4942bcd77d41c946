"""course_lib: the small package behind the course "Attention, step by step".

``import course_lib`` is fast: it imports numpy only. Names that need heavier libraries
(gensim, matplotlib, ipywidgets) are loaded the first time they are used.
"""

from importlib import import_module

from course_lib.attention import (
    attention_entropy,
    dot_product_attention,
    scaled_dot_product_attention,
    softmax,
)

__version__ = "0.1.0"

# name -> module that defines it; imported on first access (PEP 562).
_LAZY = {
    "load_embeddings": "course_lib.embeddings",
    "embed_sentence": "course_lib.embeddings",
    "plot_attention": "course_lib.plotting",
    "lecture_mode": "course_lib.plotting",
    "attention_explorer": "course_lib.explorer_attention",
    "dk_explorer": "course_lib.explorer_dk",
    "load_pretrained": "course_lib.pretrained",
}

__all__ = [
    "softmax",
    "dot_product_attention",
    "scaled_dot_product_attention",
    "attention_entropy",
    *_LAZY,
]


def __getattr__(name):
    if name in _LAZY:
        value = getattr(import_module(_LAZY[name]), name)
        globals()[name] = value  # later look-ups skip this function
        return value
    raise AttributeError(f"module 'course_lib' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
