"""Where the documents and the padding lie in a packed ``[B, T]`` batch.

Token-stream rows pack several documents (``doc_lens``, summing to the row length) and may end
with padding. Everything that depends on document boundaries is derived here, once per forward:

* **positions**: restart at 0 at every document start when ``reset_position_ids`` (each packed
  document then looks exactly like a stand-alone sequence), else ``0..T-1`` along the row;
* **labels**: token ``t`` is trained to predict ``t+1`` only when ``t+1`` belongs to the same
  document, so the last token of every document has no label and nothing is ever predicted
  across a boundary or into padding; the MTP target ``t+2`` follows the same rule;
* **documents** of the balance loss: each non-padding segment is one "sequence";
* **attention segments**: attention never crosses a segment (see ``attention.py``).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import torch


def row_segments(seq_len: int, doc_lens: list[int] | None, pad_len: int) -> tuple[list[int], bool]:
    """Segment lengths of one row and whether the last one is padding.

    ``pad_len > 0`` means the row ends with ``pad_len`` pad tokens; ``doc_lens`` may list that
    padding as its last entry (summing to ``seq_len``) or leave it out (summing to
    ``seq_len - pad_len``). Zero-length documents hold no token and are skipped.
    """
    lens = [seq_len] if doc_lens is None else [int(n) for n in doc_lens]
    if any(n < 0 for n in lens):
        raise ValueError(f"negative document length in {lens}")
    lens = [n for n in lens if n > 0]
    if pad_len < 0 or pad_len > seq_len:
        raise ValueError(f"pad length {pad_len} outside [0, {seq_len}]")
    if pad_len and sum(lens) == seq_len - pad_len:
        lens.append(pad_len)
    if sum(lens) != seq_len or (pad_len and lens[-1] != pad_len):
        raise ValueError(f"doc_lens {lens} (pad {pad_len}) do not tile a row of {seq_len} tokens")
    return lens, pad_len > 0


@dataclass
class DocLayout:
    """Per-forward tensors describing documents, labels and padding (all on the batch's device)."""

    batch: int
    seq_len: int
    seg_lens: list[int]  # every segment of every row, row-major
    seg_flat_start: list[int]  # offset of each segment in the flattened [B*T] batch
    seg_is_pad: list[bool]
    position_ids: torch.Tensor  # [B, T] int64
    segment_ids: torch.Tensor  # [B, T] int64, unique per segment across the batch
    label_mask: torch.Tensor  # [B, T] bool: t has a next-token label t+1
    mtp_mask: torch.Tensor  # [B, T] bool: t has an MTP label t+2
    valid_index: torch.Tensor | None  # flat indices of non-pad tokens; None when nothing is padding
    doc_index: torch.Tensor  # [n_valid] document number of each non-pad token
    doc_sizes: torch.Tensor  # [n_docs] float tokens per document
    cache: dict = field(default_factory=dict)  # attention back-ends keep per-batch masks here

    @classmethod
    def build(
        cls,
        batch: int,
        seq_len: int,
        device: torch.device,
        doc_lens: list[list[int]] | None = None,
        pad_lens: list[int] | None = None,
        reset_position_ids: bool = True,
    ) -> DocLayout:
        if doc_lens is not None and len(doc_lens) != batch:
            raise ValueError(f"doc_lens has {len(doc_lens)} rows for a batch of {batch}")
        if pad_lens is not None and len(pad_lens) != batch:
            raise ValueError(f"pad_lens has {len(pad_lens)} rows for a batch of {batch}")
        seg_lens: list[int] = []
        seg_is_pad: list[bool] = []
        for row in range(batch):
            lens, padded = row_segments(
                seq_len,
                None if doc_lens is None else doc_lens[row],
                0 if pad_lens is None else int(pad_lens[row]),
            )
            seg_lens += lens
            seg_is_pad += [False] * (len(lens) - 1) + [padded]
        lens_t = torch.tensor(seg_lens)
        pad_t = torch.tensor(seg_is_pad)
        starts = torch.cumsum(lens_t, 0) - lens_t
        seg_of_tok = torch.repeat_interleave(torch.arange(len(seg_lens)), lens_t)
        pos_in_seg = torch.arange(batch * seq_len) - starts[seg_of_tok]
        len_of_tok = lens_t[seg_of_tok]
        pad_tok = pad_t[seg_of_tok]
        if reset_position_ids:
            positions = pos_in_seg
        else:
            positions = torch.arange(seq_len).repeat(batch)
        doc_of_seg = torch.cumsum(~pad_t, 0) - 1
        valid = ~pad_tok
        shape = (batch, seq_len)
        return cls(
            batch=batch,
            seq_len=seq_len,
            seg_lens=seg_lens,
            seg_flat_start=starts.tolist(),
            seg_is_pad=seg_is_pad,
            position_ids=positions.view(shape).to(device),
            segment_ids=seg_of_tok.view(shape).to(device),
            label_mask=((pos_in_seg < len_of_tok - 1) & valid).view(shape).to(device),
            mtp_mask=((pos_in_seg < len_of_tok - 2) & valid).view(shape).to(device),
            valid_index=None if bool(valid.all()) else valid.nonzero().squeeze(1).to(device),
            doc_index=doc_of_seg[seg_of_tok[valid]].to(device),
            doc_sizes=lens_t[~pad_t].float().to(device),
        )

    @property
    def one_doc_per_row(self) -> bool:
        """Every row is one unpadded document: plain causal attention is exact."""
        return len(self.seg_lens) == self.batch and not any(self.seg_is_pad)

    @property
    def n_docs(self) -> int:
        return int(self.doc_sizes.numel())

    def segments_by_length(self) -> dict[int, list[int]]:
        """Flat start offsets of the non-pad segments, grouped by length so equal-length
        documents from any row share one attention call."""
        groups: dict[int, list[int]] = defaultdict(list)
        for length, start, is_pad in zip(self.seg_lens, self.seg_flat_start, self.seg_is_pad, strict=True):
            if not is_pad:
                groups[length].append(start)
        return dict(groups)
