"""Loss-free balancing: the bias steers selection only, the update moves load toward balance,
and the sequence-level auxiliary loss is computed per document."""

from __future__ import annotations

import pytest
import torch

from corpus.train.model import GLM4MoE, ModelConfig
from corpus.train.moe import Router, Routing, sequence_balance_loss


@pytest.fixture(autouse=True)
def one_thread():
    """Tiny tensors: intra-op threads only add contention (25x slower on a busy 2-core box)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def skewed_router() -> tuple[Router, torch.Tensor]:
    torch.manual_seed(0)
    router = Router(32, 8, 2, 1, 1, norm_topk_prob=True, scaling=2.5)
    torch.nn.init.normal_(router.weight, 0.0, 0.3)
    return router, torch.randn(64, 32)


def test_bias_changes_selection_not_gating_weights():
    router, x = skewed_router()
    assert "e_score_correction_bias" not in dict(router.named_parameters())  # no gradient, ever
    scores = torch.sigmoid(x @ router.weight.T)

    def expected_weights(index: torch.Tensor) -> torch.Tensor:
        picked = scores.gather(1, index)
        return picked / picked.sum(-1, keepdim=True) * 2.5

    plain = router(x)
    assert torch.allclose(plain.topk_weight, expected_weights(plain.topk_index), atol=1e-6)

    router.e_score_correction_bias[[5, 6]] = 10.0  # force experts 5 and 6 for every token
    forced = router(x)
    assert all(set(row) == {5, 6} for row in forced.topk_index.tolist())
    # Weights are the *unbiased* scores of 5 and 6, not a near-even split of 10.x biased scores.
    assert torch.allclose(forced.topk_weight, expected_weights(forced.topk_index), atol=1e-6)
    assert (forced.topk_weight[:, 0] - forced.topk_weight[:, 1]).abs().max() > 0.1

    router.e_score_correction_bias.copy_(torch.linspace(-0.2, 0.2, 8))  # a moderate bias
    nudged = router(x)
    changed = [
        set(a) != set(b) for a, b in zip(nudged.topk_index.tolist(), plain.topk_index.tolist(), strict=True)
    ]
    assert 0 < sum(changed) < len(changed)
    same = ~torch.tensor(changed)
    sort_plain = plain.topk_index[same].sort(-1)
    sort_nudged = nudged.topk_index[same].sort(-1)
    w_plain = plain.topk_weight[same].gather(1, sort_plain.indices)
    w_nudged = nudged.topk_weight[same].gather(1, sort_nudged.indices)
    assert torch.equal(w_plain, w_nudged)  # same experts chosen -> bit-identical weights


def test_update_moves_bias_against_load():
    model = GLM4MoE(ModelConfig())  # one MoE layer + the MTP layer's, 4 experts
    counts = torch.tensor([[10, 0, 5, 5], [1, 2, 4, 5]])
    model.update_balance_bias(counts, rate=0.001)
    biases = torch.stack([r.e_score_correction_bias for r in model.routers()])
    expected = torch.tensor([[-1.0, 1.0, 0.0, 0.0], [1.0, 1.0, -1.0, -1.0]]) * 0.001
    assert torch.equal(biases, expected)  # overloaded down, idle up, exactly average unchanged
    # one overloaded expert: signs (-1, +1, +1, +1) are centred to (-1.5, +0.5, +0.5, +0.5), so the
    # layer's biases keep summing to zero instead of all drifting up together
    lone = GLM4MoE(ModelConfig())
    lone.update_balance_bias(torch.tensor([[9, 1, 1, 1], [9, 1, 1, 1]]), rate=0.001)
    bias = lone.routers()[0].e_score_correction_bias
    torch.testing.assert_close(bias, torch.tensor([-1.5, 0.5, 0.5, 0.5]) * 0.001)


def load_ratio(counts: torch.Tensor) -> float:
    """Worst layer's max/mean tokens per expert (1.0 = perfectly balanced)."""
    c = counts.float()
    return (c.max(-1).values / c.mean(-1)).max().item()


def test_loss_free_bias_balances_a_skewed_input_over_200_steps():
    torch.manual_seed(1)
    model = GLM4MoE(ModelConfig(n_routed_experts=8)).eval()
    gen = torch.Generator().manual_seed(2)
    # A skewed input distribution: 12 frequent tokens make most of the batch.
    ids = torch.where(
        torch.rand(4, 32, generator=gen) < 0.9,
        torch.randint(2, 14, (4, 32), generator=gen),
        torch.randint(2, 256, (4, 32), generator=gen),
    )
    ratios = []
    with torch.no_grad():
        for _ in range(200):
            counts = model(ids).expert_counts
            ratios.append(load_ratio(counts))
            model.update_balance_bias(counts, rate=0.001)
    before, after = ratios[0], sum(ratios[-20:]) / 20
    print(f"max/mean expert load: before {before:.2f}, after 200 steps {after:.2f}")
    assert before > 1.5
    assert after < 0.75 * before and after < 1.4


def test_sequence_loss_is_one_when_balanced_and_per_document():
    uniform = torch.full((4, 4), 0.5, requires_grad=True)
    balanced = Routing(uniform, torch.tensor([[0, 1], [2, 3], [0, 1], [2, 3]]), torch.ones(4, 2))
    one_doc = (torch.zeros(4, dtype=torch.long), torch.tensor([4.0]))
    assert abs(sequence_balance_loss(balanced, *one_doc).item() - 1.0) < 1e-6

    # Two documents, each collapsed onto its own pair of experts: balanced as one row,
    # imbalanced per document; the per-document loss sees it and pushes the router.
    scores = torch.tensor([[0.9, 0.8, 0.1, 0.1]] * 2 + [[0.1, 0.1, 0.9, 0.8]] * 2, requires_grad=True)
    collapsed = Routing(scores, torch.tensor([[0, 1], [0, 1], [2, 3], [2, 3]]), torch.ones(4, 2))
    two_docs = (torch.tensor([0, 0, 1, 1]), torch.tensor([2.0, 2.0]))
    per_doc = sequence_balance_loss(collapsed, *two_docs)
    as_row = sequence_balance_loss(collapsed, *one_doc)
    assert per_doc.item() > 1.5 > as_row.item()
    per_doc.backward()
    assert scores.grad.abs().sum() > 0  # differentiable through P (f carries no gradient)
