"""Notebook 05's statements about PyTorch, checked against PyTorch itself (the notebook never
imports torch). Skipped, and shown as skipped, when PyTorch is not installed."""

import numpy as np
import pytest

from course_lib.attention import causal_mask, scaled_dot_product_attention

torch = pytest.importorskip("torch", reason="PyTorch is not installed (make test installs it)")
pytestmark = pytest.mark.torch


def _qkv(n=5, d=8, seed=0):
    rng = np.random.default_rng(seed)
    return [torch.from_numpy(a) for a in rng.standard_normal((3, 1, n, d))]


def test_sdpa_bool_mask_true_means_attend_like_course_lib():
    q, k, v = _qkv()
    mask = causal_mask(5)
    out = torch.nn.functional.scaled_dot_product_attention(
        q, k, v, attn_mask=torch.from_numpy(mask)
    )
    ours, _ = scaled_dot_product_attention(q.numpy(), k.numpy(), v.numpy(), mask=mask)
    np.testing.assert_allclose(out.numpy(), ours, atol=1e-12)


def test_multihead_attention_bool_masks_true_means_blocked():
    torch.manual_seed(0)
    mha = torch.nn.MultiheadAttention(8, 1, batch_first=True, bias=False).double()
    x = _qkv()[0]
    blocked = torch.from_numpy(~causal_mask(5))  # True above the diagonal
    _, weights = mha(x, x, x, attn_mask=blocked)
    assert torch.all(weights[0][blocked] == 0)  # True = not allowed to attend
    padding = torch.tensor([[False, False, False, True, True]])
    _, weights = mha(x, x, x, key_padding_mask=padding)
    assert torch.all(weights[0][:, 3:] == 0) and torch.all(weights[0][:, :3] > 0)


def test_course_mask_passed_to_multihead_attention_inverts_it_and_leaves_one_nan_row():
    torch.manual_seed(0)
    mha = torch.nn.MultiheadAttention(8, 2, batch_first=True).double()
    x = _qkv(n=6)[0]
    out, weights = mha(x, x, x, attn_mask=torch.from_numpy(causal_mask(6)))  # need_weights=True
    nan_rows = torch.isnan(out[0]).any(dim=-1)
    assert nan_rows.tolist() == [False] * 5 + [True]  # the last word has no key left
    assert weights[0][0, 0] == 0 and weights[0][0, 1:].sum() > 0.99  # word 0 sees all but itself


def test_sdpa_returns_zeros_for_a_fully_masked_row():
    q, k, v = _qkv()
    mask = torch.from_numpy(causal_mask(5))
    mask[2] = False
    out = torch.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    assert torch.all(out[0, 2] == 0) and not torch.isnan(out).any()
    with pytest.raises(ValueError, match="no key to attend to"):
        scaled_dot_product_attention(q.numpy(), k.numpy(), v.numpy(), mask=mask.numpy())


def test_masked_fill_minus_1e9_refuses_float16():
    scores = torch.zeros(2, 2, dtype=torch.float16)
    with pytest.raises(RuntimeError, match="overflow"):
        scores.masked_fill(torch.eye(2, dtype=torch.bool), -1e9)
    with np.errstate(over="ignore"):
        assert np.float16(-1e9) == -np.inf


def test_multihead_attention_parameter_count():
    mha = torch.nn.MultiheadAttention(512, 8)
    assert sum(p.numel() for p in mha.parameters()) == 4 * 512**2 + 4 * 512
    bare = torch.nn.MultiheadAttention(512, 8, bias=False)
    assert sum(p.numel() for p in bare.parameters()) == 4 * 512**2
    assert (
        sum(p.numel() for p in torch.nn.MultiheadAttention(512, 16).parameters())
        == 4 * 512**2 + 4 * 512
    )
