"""Token-weighted percentile buckets, ensemble max and levels (pure functions)."""

import numpy as np
import pytest

from corpus.scoring import buckets


def test_thresholds_are_the_token_weighted_percentiles():
    # 10 documents scoring 0.0 .. 0.9, document i has i + 1 tokens: 55 tokens in all.
    scores = np.arange(10) / 10
    tokens = np.arange(1, 11)
    t = buckets.weighted_thresholds(scores, tokens, [10, 50, 90])
    # cumulative tokens: 1 3 6 10 15 21 28 36 45 55. 10 % of 55 = 5.5 -> first cum >= 5.5 is 6 (score 0.2);
    # 50 % = 27.5 -> 28 (0.6); 90 % = 49.5 -> 55 (0.9).
    assert t == [0.2, 0.6, 0.9]
    # A document-weighted percentile would differ: the weights matter.
    assert buckets.weighted_thresholds(scores, np.ones(10), [50]) == [0.4]


def test_default_twenty_buckets_hold_five_percent_of_tokens_each():
    rng = np.random.default_rng(0)
    scores = rng.random(20_000)
    tokens = rng.integers(1, 2000, 20_000)
    t = buckets.weighted_thresholds(scores, tokens)
    assert len(t) == 19
    b = buckets.assign(scores, t)
    assert b.min() == 0 and b.max() == 19
    share = np.bincount(b, weights=tokens) / tokens.sum()
    assert np.all(np.abs(share - 0.05) < 0.002)  # one document is at most 2000 / 2e7 of the tokens


def test_assign_boundaries_and_ties():
    t = [0.2, 0.6]
    assert buckets.assign(np.array([0.1, 0.2, 0.3, 0.6, 0.61]), t).tolist() == [0, 0, 1, 1, 2]
    # ties never split: 90 % of tokens at one score -> one bucket holds them all
    t2 = buckets.weighted_thresholds(np.array([0.5] * 9 + [0.9]), np.ones(10), [10, 50, 90])
    assert t2 == [0.5, 0.5, 0.5]
    assert buckets.assign(np.array([0.5, 0.9]), t2).tolist() == [0, 3]


def test_grid_thresholds_within_one_cell():
    rng = np.random.default_rng(1)
    scores, tokens = rng.random(5000), rng.integers(1, 100, 5000)
    exact = buckets.weighted_thresholds(scores, tokens)
    grid = 1000
    cells = np.minimum((scores * grid).astype(int), grid - 1)
    agg = np.bincount(cells, weights=tokens, minlength=grid)
    approx = buckets.grid_thresholds(np.arange(grid), agg, 0.0, 1.0, grid, buckets.DEFAULT_PERCENTILES)
    assert np.all(np.abs(np.array(approx) - np.array(exact)) <= 1.0 / grid + 1e-12)


def test_ensemble_is_the_max_and_levels_map_ranges():
    assert buckets.ensemble([np.array([0, 5, 19]), np.array([3, 2, 0])]).tolist() == [3, 5, 19]
    levels = buckets.DEFAULT_LEVELS
    buckets.check_levels(levels, 20)
    assert [buckets.level_of(b, levels) for b in (0, 3, 4, 19, None)] == [
        "low",
        "low",
        "medium_low",
        "high",
        None,
    ]
    with pytest.raises(ValueError, match="overlaps"):
        buckets.check_levels({"a": [0, 5], "b": [5, 6]}, 20)
    with pytest.raises(ValueError, match="within"):
        buckets.check_levels({"a": [0, 20]}, 20)
