"""Fill-in-the-Middle at the token level (GLM-4.5 applies FIM to all source code).

A document chosen for FIM (hash(seed, id, "fim") under ``rate``) is cut at two character
positions drawn uniformly from its length (sorted), giving prefix / middle / suffix, and its
ids are rearranged around GLM-4.5's sentinel tokens (Bavarian et al. 2022, "Efficient Training
of Language Models to Fill in the Middle"; the SPM layout is the variant bigcode's Megatron-LM
trains, where prefix and middle stay contiguous):

* PSM: ``<|code_prefix|>`` prefix ``<|code_suffix|>`` suffix ``<|code_middle|>`` middle
* SPM: ``<|code_prefix|>`` ``<|code_suffix|>`` suffix ``<|code_middle|>`` prefix middle

followed by EOS. Each part is encoded on its own with special-token strings as plain text, so
code that quotes a sentinel never produces a control id; the sentinels are the only control
ids. SPM is chosen with probability ``spm_rate``. Every decision and cut point comes from
hash(seed, document id, purpose), so it does not depend on partitioning.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from corpus.tokens.mixture import unit_hash

if TYPE_CHECKING:
    from tokenizers import Tokenizer

PREFIX, MIDDLE, SUFFIX = "<|code_prefix|>", "<|code_middle|>", "<|code_suffix|>"
_SCALE = 2.0**64


@dataclass(frozen=True)
class Split:
    mode: Literal["psm", "spm"]
    prefix: str
    middle: str
    suffix: str


def _u(seed: int, doc_id: str, purpose: str) -> float:
    """A uniform draw in [0, 1) from hash(seed, id, purpose)."""
    return unit_hash(seed, doc_id, purpose, 0) / _SCALE


def split(text: str, doc_id: str, seed: int, rate: float, spm_rate: float) -> Split | None:
    """The FIM split of one document, or None when it stays left-to-right."""
    if not text or _u(seed, doc_id, "fim") >= rate:
        return None
    n = len(text)
    a, b = sorted(min(n, int(_u(seed, doc_id, f"fim_cut{k}") * (n + 1))) for k in (0, 1))
    mode = "spm" if _u(seed, doc_id, "fim_spm") < spm_rate else "psm"
    return Split(mode, text[:a], text[a:b], text[b:])


def assemble(tok: Tokenizer, splits: Sequence[Split], eos_id: int) -> list[list[int]]:
    """Ids of every split in its layout, EOS appended; ``tok`` encodes special-token strings as
    plain text (``encode_special_tokens``). One batched encode for all parts."""
    pre, mid, suf = (tok.token_to_id(t) for t in (PREFIX, MIDDLE, SUFFIX))
    if None in (pre, mid, suf):
        raise ValueError(f"the tokenizer lacks a FIM sentinel ({PREFIX}, {MIDDLE}, {SUFFIX})")
    parts = [p for s in splits for p in (s.prefix, s.middle, s.suffix)]
    ids = [e.ids for e in tok.encode_batch(parts, add_special_tokens=False)] if parts else []
    out = []
    for k, s in enumerate(splits):
        p, m, x = ids[3 * k], ids[3 * k + 1], ids[3 * k + 2]
        if s.mode == "psm":
            out.append([pre, *p, suf, *x, mid, *m, eos_id])
        else:
            out.append([pre, suf, *x, mid, *p, *m, eos_id])
    return out


def restore(tok: Tokenizer, ids: Sequence[int]) -> tuple[str, str]:
    """``(mode, original text)`` of a FIM row (ids as :func:`assemble` wrote them, EOS last):
    the sentinels dropped and the parts put back in order (tests and debugging)."""
    pre, mid, suf = (tok.token_to_id(t) for t in (PREFIX, MIDDLE, SUFFIX))
    body = list(ids[:-1])

    def text(part: list[int]) -> str:
        return tok.decode(part, skip_special_tokens=False)

    m = body.index(mid)
    if body[:2] == [pre, suf]:  # SPM: suffix, then prefix + middle
        return "spm", text(body[m + 1 :]) + text(body[2:m])
    s = body.index(suf)
    return "psm", text(body[1:s]) + text(body[m + 1 :]) + text(body[s + 1 : m])
