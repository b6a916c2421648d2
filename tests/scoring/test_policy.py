"""The mixture policy: first matching rule wins, defaults of the issue, missing columns."""

import pyarrow as pa
import pytest
from pydantic import ValidationError

from corpus.scoring import policy


def _batch(**cols):
    return pa.RecordBatch.from_pydict(cols)


def test_default_policy_groups_and_epochs():
    p = policy.default_policy()
    batch = _batch(
        source=["web", "web", "web", "web", "multilingual", "multilingual", "code", "web"],
        bucket=[0, 19, 10, 2, None, None, None, None],
        score_math_sci=[0.9, 0.1, 0.7, 0.1, None, None, None, None],
        score_edu_multilingual=[None, None, None, None, 0.9, 0.2, None, None],
    )
    idx, warnings = policy.match(batch, p)
    groups = [p.rules[i].group if i < len(p.rules) else p.default_group for i in idx]
    # a low bucket is dropped even with math content (the drop rule comes first); a web row
    # without a bucket falls to the default group
    assert groups == ["low", "high", "math_sci", "low", "high_utility", "other", "code", "other"]
    assert warnings == []
    assert p.epochs_of("high")["phase1"] >= 3.2
    assert p.epochs_of("low") == {"phase1": 0, "phase2": 0}
    assert p.epochs_of("high_utility")["phase1"] > 1 and p.epochs_of("math_sci")["phase1"] > 1
    for g in ("code", "math_sci"):
        assert p.epochs_of(g)["phase2"] > p.epochs_of(g)["phase1"]
    assert p.epochs_of("high")["phase2"] < p.epochs_of("high")["phase1"]  # phase 2: less general web


def test_rule_with_a_missing_column_matches_nothing_and_warns():
    p = policy.default_policy()
    idx, warnings = policy.match(_batch(source=["web"], bucket=[18]), p)
    assert p.rules[idx[0]].group == "high"
    assert any("score_math_sci" in w for w in warnings)


def test_policy_errors():
    with pytest.raises(ValidationError, match="exactly the phases"):
        policy.Policy(rules=[policy.Rule(group="a", epochs={"phase1": 1})])
    with pytest.raises(ValidationError, match="different epochs"):
        policy.Policy(
            rules=[
                policy.Rule(group="a", source="x", epochs={"phase1": 1, "phase2": 1}),
                policy.Rule(group="a", source="y", epochs={"phase1": 2, "phase2": 1}),
            ]
        )
