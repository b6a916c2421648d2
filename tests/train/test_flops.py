"""FLOPs per token of a tiny config, counted by hand: dense + attention + active experts + MTP."""

from __future__ import annotations

from corpus.train.flops import attention_pairs, flops_per_token, matmul_params_per_token, train_flops
from corpus.train.model import ModelConfig

CFG = ModelConfig(
    vocab_size=100,
    hidden_size=8,
    intermediate_size=12,
    moe_intermediate_size=4,
    num_hidden_layers=3,
    first_k_dense_replace=1,
    num_attention_heads=2,
    num_key_value_heads=1,
    head_dim=4,
    n_routed_experts=6,
    num_experts_per_tok=2,
    n_shared_experts=1,
    num_nextn_predict_layers=1,
)


def test_flops_per_token_by_hand():
    # attention (2 heads, 1 KV head, head_dim 4): q 8x8, k 8x4, v 8x4, o 8x8 = 64 + 32 + 32 + 64 = 192 per layer
    # dense MLP: 3 x 8 x 12 = 288; MoE: router 6 x 8 = 48, (2 routed + 1 shared) x 3 x 8 x 4 = 288
    # layer 0 dense: 192 + 288 = 480; layers 1-2 MoE: 2 x (192 + 48 + 288) = 1056; head 100 x 8 = 800
    # MTP: eh_proj 16 x 8 = 128, its MoE block 192 + 48 + 288 = 528, the head again 800
    n = 480 + 1056 + 800 + 128 + 528 + 800
    assert matmul_params_per_token(CFG) == n == 3792
    # a 10-token document: 55 causal pairs, 4 x heads x head_dim = 32 FLOPs per pair forward,
    # x3 for backward, in 3 layers + the MTP layer
    attn = 3 * 32 * 55 * 4
    assert train_flops(CFG, [[10]]) == 6 * n * 10 + attn
    assert flops_per_token(CFG, 10) == (6 * n * 10 + attn) / 10


def test_document_masking_and_padding():
    # two documents of 6 and 4 tokens attend over 21 + 10 pairs, not the row's 55
    assert attention_pairs([[6, 4]]) == 31
    # trailing padding: neither tokens nor pairs
    assert attention_pairs([[6, 4]], [4]) == 21
    assert train_flops(CFG, [[6, 4]], [4]) == 6 * 3792 * 6 + 3 * 32 * 21 * 4
    assert train_flops(CFG, [[6, 4], [10]]) == train_flops(CFG, [[6, 4]]) + train_flops(CFG, [[10]])
