"""course_lib.pretrained against independent implementations: transformers' BertModel,
sentence-transformers and the safetensors package (installed with torch by `make test`).

Tolerances: attention weights within 1e-4, hidden states within 1e-3, queries and keys
within 1e-3, and the sentence embedding's cosine with sentence-transformers' >= 0.9999.
Measured today: 2e-6, 3e-6 and 1 - 1e-7 (float32 in both, summed in another order).
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys

import numpy as np
import pytest

from course_lib.model_files import read_safetensors
from course_lib.pretrained import SENTENCES, load_pretrained

pytestmark = pytest.mark.torch

EXTRA = [
    "",
    "Supercalifragilisticexpialidocious, said the naïve café owner in 東京 😀!",
    " ".join(["The long sentence keeps going on and on"] * 12) + ".",  # about 100 tokens
]


@pytest.fixture(scope="module")
def torch_model():
    torch = pytest.importorskip("torch", reason="PyTorch is not installed (make test installs it)")
    transformers = pytest.importorskip("transformers")
    torch.set_num_threads(1)
    bert = transformers.BertModel.from_pretrained(
        str(load_pretrained().path), attn_implementation="eager"
    )
    return torch, bert.eval()


def _torch_run(torch_model, ids, divisor=None):
    torch, bert = torch_model
    scaling = [layer.attention.self.scaling for layer in bert.encoder.layer]
    try:
        if divisor is not None:
            for layer in bert.encoder.layer:
                layer.attention.self.scaling = 1.0 / divisor
        with torch.no_grad():
            out = bert(torch.tensor([ids]), output_attentions=True, output_hidden_states=True)
    finally:
        for layer, value in zip(bert.encoder.layer, scaling, strict=True):
            layer.attention.self.scaling = value
    weights = torch.stack(out.attentions)[:, 0].numpy()  # (layers, heads, T, T)
    hidden = torch.stack(out.hidden_states)[:, 0].numpy()  # (layers + 1, T, d_model)
    return weights, hidden


@pytest.mark.parametrize("sentence", [*SENTENCES, *EXTRA])
def test_weights_and_hidden_states_match_transformers(torch_model, sentence):
    ours = load_pretrained().run(sentence)
    weights, hidden = _torch_run(torch_model, ours.ids)
    assert weights.shape == ours.weights.shape
    assert np.abs(weights - ours.weights).max() < 1e-4
    assert np.abs(hidden - ours.hidden_states).max() < 1e-3


def test_queries_and_keys_match_transformers_projections(torch_model):
    torch, bert = torch_model
    ours = load_pretrained().run(SENTENCES[2])
    _, hidden = _torch_run(torch_model, ours.ids)
    t = len(ours.ids)
    for i, layer in enumerate(bert.encoder.layer):
        x = torch.from_numpy(hidden[i][None])
        with torch.no_grad():
            q = layer.attention.self.query(x)[0].reshape(t, 12, 32).transpose(0, 1).numpy()
            k = layer.attention.self.key(x)[0].reshape(t, 12, 32).transpose(0, 1).numpy()
        assert np.abs(q - ours.queries[i]).max() < 1e-3
        assert np.abs(k - ours.keys[i]).max() < 1e-3


@pytest.mark.parametrize("divisor", [1.0, 32.0])
def test_another_divisor_matches_transformers_with_that_scaling(torch_model, divisor):
    ours = load_pretrained().run(SENTENCES[0], divisor=divisor)
    weights, hidden = _torch_run(torch_model, ours.ids, divisor=divisor)
    assert np.abs(weights - ours.weights).max() < 1e-4
    assert np.abs(hidden - ours.hidden_states).max() < 1e-3
    default, _ = _torch_run(torch_model, ours.ids)
    assert np.abs(default - ours.weights).max() > 0.1  # the divisor did change something


def test_torch_attention_as_the_attention_function(torch_model):
    """Any right implementation plugged in per head gives the same model."""
    torch, _ = torch_model
    functional = torch.nn.functional

    def torch_attention(queries, keys, values):
        q, k, v = (torch.from_numpy(np.ascontiguousarray(a)) for a in (queries, keys, values))
        weights = torch.softmax(q @ k.T / math.sqrt(q.shape[-1]), dim=-1)
        output = functional.scaled_dot_product_attention(q[None], k[None], v[None])[0]
        return output.numpy(), weights.numpy()

    model = load_pretrained()
    theirs = model.run(SENTENCES[3], attention=torch_attention)
    ours = model.run(SENTENCES[3])
    assert np.abs(theirs.hidden - ours.hidden).max() < 1e-4


SENTENCE_TRANSFORMERS = """
import json, sys
from sentence_transformers import SentenceTransformer
model = SentenceTransformer(sys.argv[1], device="cpu")
vectors = model.encode(json.loads(sys.argv[2]), convert_to_numpy=True)
print(json.dumps(vectors.tolist()))
"""


def test_sentence_embeddings_match_sentence_transformers_offline():
    pytest.importorskip("torch", reason="PyTorch is not installed (make test installs it)")
    pytest.importorskip("sentence_transformers")
    model = load_pretrained()
    texts = [*SENTENCES, *EXTRA[1:]]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    result = subprocess.run(
        [sys.executable, "-c", SENTENCE_TRANSFORMERS, str(model.path), json.dumps(texts)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    theirs = np.array(json.loads(result.stdout.strip().splitlines()[-1]))
    theirs /= np.linalg.norm(theirs, axis=1, keepdims=True)
    ours = model.embed(texts)
    cosines = np.sum(ours * theirs, axis=1)
    assert cosines.min() >= 0.9999, cosines


def test_read_safetensors_agrees_with_the_safetensors_package():
    numpy_io = pytest.importorskip("safetensors.numpy")
    path = load_pretrained().path / "model.safetensors"
    theirs = numpy_io.load_file(str(path))
    ours = read_safetensors(path)
    assert set(ours) == set(theirs)
    for name, array in theirs.items():
        assert ours[name].dtype == array.dtype and ours[name].shape == array.shape, name
        np.testing.assert_array_equal(ours[name], array)
