"""Token-stream reader: Parquet row groups -> micro-batches, sharded, shuffled, exactly resumable.

Input: the folders of a stage (``part-*.parquet`` + ``_manifest.json``), one row per training
sequence with ``input_ids list<int32>``, ``doc_lens list<int32>`` (sum = row length) and
``pad_len int32`` (trailing padding, also the last ``doc_lens`` entry when > 0). Every row
must be exactly the stage's ``seq_len`` long — the streams are built for one length, so a
mismatch is a clear error naming the file, row group and row, never a silent crop or pad. A
committed stream is the project's own output, so a row that breaks this contract means the
dataset is corrupt: the run stops there (skipping it would shift every later batch).

Order. Each epoch the row groups of all the stage's folders are permuted with a seed from
``(seed, stage, epoch)`` and their rows laid end to end. That sequence is cut into ``lanes``
contiguous chunks; lane *l* reads only the row groups overlapping its chunk and shuffles its
rows within windows of ``shuffle_rows`` rows (the shuffle buffer: ``data.shuffle_tokens``
worth of the stage's rows; seed ``(seed, stage, epoch, lane, window)``). A lane wraps to the
next epoch on its own. Global micro-batch *q* of a stage comes from lane ``q % lanes`` and is
computed by rank ``q % world``, so a rank reads only its lanes' row groups and any world size
dividing ``lanes`` sees the same global batches.

Held-out documents (``eval.holdout > 0``): streams then carry ``doc_ids list<string>`` (one id
per non-padding ``doc_lens`` entry; a document cut across rows has its id in each). A document
is held out when ``xxh64("holdout:" + id)`` falls in the first ``holdout`` share of the hash
range — a property of the id alone, so a document is in or out everywhere, whatever the
stream, the seed or the row it landed in. Training rows drop held-out pieces and validation
rows keep only them; what is dropped becomes trailing padding. That is exact because documents
in a row are independent (positions restart, attention and labels stay inside a document):
the remaining documents see exactly what they saw before.

Resume: the cursor is one integer, the number of global micro-batches the stage has
consumed; every lane's position follows from it, and a window is rebuilt from Parquet
metadata and the row groups it spans, so a restart continues at exactly the next row.
"""

from __future__ import annotations

import json
import zlib
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import torch
import xxhash

from corpus.engine import fs
from corpus.engine.manifest import SHARD_RE, read_manifest
from corpus.train.config import StageCfg

COLUMNS = ["input_ids", "doc_lens", "pad_len"]


class StreamError(ValueError):
    """Token streams that cannot feed this stage (missing, uncommitted, wrong length or ids)."""


@dataclass(frozen=True)
class RowGroup:
    path: str
    index: int
    rows: int


@dataclass
class Block:
    """Rows held in memory: ids ``[n, seq_len]``, per-row document lengths and padding, and the
    document ids of the non-padding pieces when the stream has them."""

    ids: np.ndarray
    doc_lens: list[list[int]]
    pad_lens: np.ndarray
    doc_ids: list[list[str]] | None = None

    def __len__(self) -> int:
        return len(self.ids)

    def slice(self, start: int, stop: int) -> Block:
        ids = None if self.doc_ids is None else self.doc_ids[start:stop]
        return Block(self.ids[start:stop], self.doc_lens[start:stop], self.pad_lens[start:stop], ids)

    def take(self, order: np.ndarray) -> Block:
        ids = None if self.doc_ids is None else [self.doc_ids[i] for i in order]
        return Block(self.ids[order], [self.doc_lens[i] for i in order], self.pad_lens[order], ids)

    @staticmethod
    def concat(parts: list[Block]) -> Block:
        if len(parts) == 1:
            return parts[0]
        with_ids = all(p.doc_ids is not None for p in parts)
        return Block(
            np.concatenate([p.ids for p in parts]),
            [d for p in parts for d in p.doc_lens],
            np.concatenate([p.pad_lens for p in parts]),
            [d for p in parts for d in p.doc_ids] if with_ids else None,
        )


def is_heldout(doc_id: str, holdout: float) -> bool:
    """Whether a document belongs to the validation set (see the module doc)."""
    return holdout > 0 and xxhash.xxh64_intdigest(f"holdout:{doc_id}".encode()) < holdout * 2.0**64


def split_block(block: Block, holdout: float, keep: str, pad_id: int) -> Block:
    """Rows with only the training (``keep="train"``) or held-out (``"val"``) pieces, the rest
    turned into trailing padding (row length unchanged)."""
    if block.doc_ids is None:
        raise StreamError("eval.holdout needs streams with a doc_ids column (rebuild them with `corpus run`)")
    seq_len = block.ids.shape[1]
    ids = np.full_like(block.ids, pad_id)
    doc_lens, pad_lens, doc_ids = [], np.zeros(len(block), np.int64), []
    for r, (lens, pad, names) in enumerate(zip(block.doc_lens, block.pad_lens, block.doc_ids, strict=True)):
        pieces = lens[:-1] if pad else lens
        starts = np.concatenate([[0], np.cumsum(pieces)[:-1]]).astype(int) if pieces else []
        kept_lens, kept_ids, at = [], [], 0
        for start, n, name in zip(starts, pieces, names, strict=True):
            if is_heldout(name, holdout) == (keep == "val"):
                ids[r, at : at + n] = block.ids[r, start : start + n]
                kept_lens.append(n)
                kept_ids.append(name)
                at += n
        pad_lens[r] = seq_len - at
        doc_lens.append(kept_lens + ([seq_len - at] if at < seq_len else []))
        doc_ids.append(kept_ids)
    return Block(ids, doc_lens, pad_lens, doc_ids)


@dataclass
class MicroBatch:
    """What one forward pass gets: the model's inputs plus the count of non-pad tokens."""

    input_ids: torch.Tensor
    doc_lens: list[list[int]]
    pad_lens: list[int]

    @property
    def rows(self) -> int:
        return self.input_ids.shape[0]

    @staticmethod
    def of(block: Block) -> MicroBatch:
        return MicroBatch(
            input_ids=torch.from_numpy(block.ids.astype(np.int64)),
            doc_lens=[list(d) for d in block.doc_lens],
            pad_lens=[int(p) for p in block.pad_lens],
        )


def _rng(seed: int, stage: str, *keys: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([seed, zlib.crc32(stage.encode()), *keys]))


def stream_facts(folder: str) -> dict:
    """What the stream's manifest records (``metrics``: seq_len, pack, vocab_size, tokenizer_sha256...)."""
    manifest = read_manifest(folder)
    if manifest is None:
        raise StreamError(
            f"{folder}: no _manifest.json — the token stream is missing or was not committed "
            "(build it with `corpus run pipelines/tokens.yaml`, or tokens_demo.yaml for the demo lengths)"
        )
    return manifest.get("metrics") or {}


def list_row_groups(folders: list[str], seq_len: int) -> list[RowGroup]:
    """Non-empty row groups of the committed folders, in a stable order (folder, file, index)."""
    groups = []
    for folder in folders:
        built_for = stream_facts(folder).get("seq_len")
        if built_for not in (None, seq_len):
            raise StreamError(f"{folder}: built for seq_len {built_for}, the stage needs {seq_len}")
        shards = [n for n in fs.listdir(folder) if SHARD_RE.match(n)]
        if not shards:
            raise StreamError(f"{folder}: no part-*.parquet shards")
        for name in shards:
            path = fs.join(folder, name)
            with fs.open_binary(path) as f:
                meta = pq.ParquetFile(f).metadata
            groups += [
                RowGroup(path, i, meta.row_group(i).num_rows)
                for i in range(meta.num_row_groups)
                if meta.row_group(i).num_rows
            ]
    return groups


def check_stages(stages: list[StageCfg], *, vocab_size: int, lanes: int) -> None:
    """Before step 1: every stage's streams exist, match its length and packing, fit the
    model's vocab, fill the lanes, and all come from one tokenizer."""
    tokenizers = {}
    for stage in stages:
        for folder in stage.streams:
            facts = stream_facts(folder)
            if facts.get("pack") not in (None, stage.packing):
                raise StreamError(
                    f"{folder}: packed {facts['pack']!r}, stage {stage.name} expects {stage.packing!r}"
                )
            if facts.get("vocab_size", 0) > vocab_size:
                raise StreamError(
                    f"{folder}: tokenizer has {facts['vocab_size']} ids, the model's vocab_size is {vocab_size}"
                )
            if "tokenizer_sha256" in facts:
                tokenizers[folder] = facts["tokenizer_sha256"]
        rows = sum(g.rows for g in list_row_groups(stage.streams, stage.seq_len))
        if rows < lanes:
            raise StreamError(f"stage {stage.name}: {rows} rows cannot fill data.lanes={lanes}")
    if len(set(tokenizers.values())) > 1:
        raise StreamError(f"streams were tokenized with different tokenizers: {tokenizers}")


def read_block(group: RowGroup, seq_len: int, vocab_size: int) -> Block:
    """One row group, checked row by row against the stage's contract."""
    with fs.open_binary(group.path) as f:
        pf = pq.ParquetFile(f)
        columns = COLUMNS + (["doc_ids"] if "doc_ids" in pf.schema_arrow.names else [])
        table = pf.read_row_group(group.index, columns=columns)
    where = f"{group.path} row group {group.index}"
    ids_col = table.column("input_ids").combine_chunks()
    lengths = pc.list_value_length(ids_col).to_numpy(zero_copy_only=False)
    bad = np.flatnonzero(lengths != seq_len)
    if bad.size:
        raise StreamError(
            f"{where} row {bad[0]}: {lengths[bad[0]]} tokens, the stage expects exactly {seq_len} "
            "(streams are built for one sequence length: point the stage at the stream for its length)"
        )
    ids = ids_col.flatten().to_numpy().reshape(len(table), seq_len)
    if ids.size and (ids.min() < 0 or ids.max() >= vocab_size):
        raise StreamError(
            f"{where}: token ids span [{ids.min()}, {ids.max()}], outside the vocab [0, {vocab_size})"
        )
    doc_lens = table.column("doc_lens").to_pylist()
    pad_lens = table.column("pad_len").to_numpy().astype(np.int64)
    doc_ids = table.column("doc_ids").to_pylist() if "doc_ids" in table.column_names else None
    for j, (docs, pad) in enumerate(zip(doc_lens, pad_lens, strict=True)):
        if sum(docs) != seq_len or min(docs, default=0) <= 0:
            raise StreamError(f"{where} row {j}: doc_lens {docs} must be positive and sum to {seq_len}")
        if pad < 0 or (pad > 0 and docs[-1] != pad):
            raise StreamError(
                f"{where} row {j}: pad_len {pad} must be 0 or the last doc_lens entry {docs[-1]}"
            )
        if doc_ids is not None and len(doc_ids[j] or []) != len(docs) - (pad > 0):
            raise StreamError(f"{where} row {j}: {len(doc_ids[j] or [])} doc_ids for {docs} (pad {pad})")
    return Block(ids, doc_lens, pad_lens, doc_ids)


class StreamPool:
    """All row groups of one stage, the per-epoch order and a small cache of decoded groups."""

    def __init__(
        self,
        folders: list[str],
        *,
        stage: str,
        seq_len: int,
        vocab_size: int,
        seed: int,
        holdout: float = 0.0,
        pad_id: int = 0,
    ) -> None:
        self.groups = list_row_groups(folders, seq_len)
        self.stage, self.seq_len, self.vocab_size, self.seed = stage, seq_len, vocab_size, seed
        self.holdout, self.pad_id = holdout, pad_id
        self.rows = sum(g.rows for g in self.groups)
        self._epoch_starts: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self._cache: OrderedDict[RowGroup, Block] = OrderedDict()

    def _order(self, epoch: int) -> tuple[np.ndarray, np.ndarray]:
        """(row-group permutation, start row of each permuted group) for ``epoch``."""
        if epoch not in self._epoch_starts:
            perm = _rng(self.seed, f"rowgroups:{self.stage}", epoch).permutation(len(self.groups))
            sizes = np.array([self.groups[i].rows for i in perm], dtype=np.int64)
            self._epoch_starts[epoch] = (perm, np.concatenate([[0], np.cumsum(sizes)]))
        return self._epoch_starts[epoch]

    def _block(self, group: RowGroup) -> Block:
        if group in self._cache:
            self._cache.move_to_end(group)
        else:
            block = read_block(group, self.seq_len, self.vocab_size)
            if self.holdout:
                block = split_block(block, self.holdout, "train", self.pad_id)
            self._cache[group] = block
            while len(self._cache) > 2:
                self._cache.popitem(last=False)
        return self._cache[group]

    def read_range(self, epoch: int, lo: int, hi: int) -> Block:
        """Rows ``[lo, hi)`` of the epoch's row sequence."""
        perm, starts = self._order(epoch)
        parts = []
        k = int(np.searchsorted(starts, lo, side="right")) - 1
        while lo < hi:
            group = self.groups[perm[k]]
            begin = lo - int(starts[k])
            stop = min(hi - int(starts[k]), group.rows)
            parts.append(self._block(group).slice(begin, stop))
            lo += stop - begin
            k += 1
        return Block.concat(parts)


class LaneReader:
    """One lane: a contiguous chunk of every epoch's row sequence, window-shuffled."""

    def __init__(self, pool: StreamPool, lane: int, lanes: int, shuffle_rows: int, position: int) -> None:
        self.pool, self.lane, self.shuffle_rows, self.position = pool, lane, shuffle_rows, position
        self.start = lane * pool.rows // lanes
        self.length = (lane + 1) * pool.rows // lanes - self.start
        if self.length == 0:
            raise StreamError(
                f"stage {pool.stage}: {pool.rows} rows cannot fill {lanes} lanes; lower data.lanes or add data"
            )
        self._window: tuple[tuple[int, int], Block] | None = None

    def _window_block(self, epoch: int, window: int) -> Block:
        key = (epoch, window)
        if self._window is None or self._window[0] != key:
            lo = self.start + window * self.shuffle_rows
            hi = self.start + min((window + 1) * self.shuffle_rows, self.length)
            block = self.pool.read_range(epoch, lo, hi)
            order = _rng(self.pool.seed, f"window:{self.pool.stage}", epoch, self.lane, window).permutation(
                len(block)
            )
            self._window = (key, block.take(order))
        return self._window[1]

    def take(self, n: int) -> Block:
        parts = []
        while n:
            epoch, offset = divmod(self.position, self.length)
            window, i = divmod(offset, self.shuffle_rows)
            block = self._window_block(epoch, window)
            k = min(n, len(block) - i)
            parts.append(block.slice(i, i + k))
            self.position += k
            n -= k
        return Block.concat(parts)


def lane_rows_consumed(micro_index: int, lane: int, lanes: int, micro_rows: int) -> int:
    """Rows lane ``lane`` has handed out once the stage consumed ``micro_index`` micro-batches."""
    return (micro_index - lane + lanes - 1) // lanes * micro_rows


class StageReader:
    """This rank's share of a stage's global micro-batch sequence, from a cursor."""

    def __init__(
        self,
        folders: list[str],
        *,
        stage: str,
        seq_len: int,
        vocab_size: int,
        seed: int,
        lanes: int,
        shuffle_rows: int,
        micro_rows: int,
        rank: int = 0,
        world: int = 1,
        micro_index: int = 0,
        holdout: float = 0.0,
        pad_id: int = 0,
    ) -> None:
        if lanes % world:
            raise StreamError(f"data.lanes={lanes} must be a multiple of the world size {world}")
        pool = StreamPool(
            folders,
            stage=stage,
            seq_len=seq_len,
            vocab_size=vocab_size,
            seed=seed,
            holdout=holdout,
            pad_id=pad_id,
        )
        self.rows_available = pool.rows
        self.lanes, self.micro_rows, self.rank, self.world = lanes, micro_rows, rank, world
        self.micro_index = micro_index
        self.readers = {
            lane: LaneReader(
                pool, lane, lanes, shuffle_rows, lane_rows_consumed(micro_index, lane, lanes, micro_rows)
            )
            for lane in range(rank, lanes, world)
        }

    @property
    def epoch(self) -> int:
        """Epochs this rank's lanes have completed (> 0: the stage is repeating its data)."""
        return max(r.position // r.length for r in self.readers.values())

    def next_step(self, global_micro: int) -> list[MicroBatch]:
        """This rank's micro-batches of the next ``global_micro`` global ones (a multiple of world)."""
        if global_micro % self.world:
            raise ValueError(f"{global_micro} micro-batches do not split over {self.world} ranks")
        first = self.micro_index + self.rank
        batches = [self._micro(q) for q in range(first, self.micro_index + global_micro, self.world)]
        self.micro_index += global_micro
        return batches

    def _micro(self, q: int) -> MicroBatch:
        return MicroBatch.of(self.readers[q % self.lanes].take(self.micro_rows))


def validation_block(
    folders: list[str], *, seq_len: int, vocab_size: int, holdout: float, rows: int, pad_id: int
) -> Block:
    """Up to ``rows`` rows holding only held-out documents, in stream order (row groups as
    listed, rows within them): the same validation set on every rank and every run."""
    parts, found = [], 0
    for group in list_row_groups(folders, seq_len):
        block = split_block(read_block(group, seq_len, vocab_size), holdout, "val", pad_id)
        keep = np.flatnonzero(block.pad_lens < seq_len)[: rows - found]
        if keep.size:
            parts.append(block.take(keep))
            found += keep.size
        if found >= rows:
            break
    if not parts:
        return Block(np.zeros((0, seq_len), np.int32), [], np.zeros(0, np.int64), [])
    return Block.concat(parts)


def stream_tokenizer(folders: list[str]) -> Path | None:
    """The tokenizer file the streams' manifests name (``metrics.tokenizer``), when it exists
    and its sha256 matches ``metrics.tokenizer_sha256``; else None."""
    from corpus.tokens.tokenizer import sha256, tokenizer_file

    for folder in folders:
        facts = stream_facts(folder)
        path = facts.get("tokenizer")
        if not path:
            continue
        try:
            file = tokenizer_file(path)
            if facts.get("tokenizer_sha256") in (None, sha256(path)):
                return Path(file)
        except (OSError, ValueError):
            continue
    return None


def write_stream(
    folder: str,
    rows: list[dict],
    seq_len: int,
    rows_per_group: int = 64,
    pack: str = "truncate",
    metrics: dict | None = None,
) -> None:
    """Write rows (``input_ids``, ``doc_lens``, ``pad_len``, ``source``, ``bucket``, and
    ``doc_ids`` when the rows have it) as one committed token stream — for tests and benchmarks
    that need a stream without the Spark pipeline. ``metrics`` adds manifest facts (tokenizer)."""
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    fields = [
        ("input_ids", pa.list_(pa.int32())),
        ("doc_lens", pa.list_(pa.int32())),
        ("pad_len", pa.int32()),
        ("source", pa.string()),
        ("bucket", pa.string()),
    ]
    if rows and "doc_ids" in rows[0]:
        fields.append(("doc_ids", pa.list_(pa.string())))
    table = pa.Table.from_pylist(rows, schema=pa.schema(fields))
    pq.write_table(table, out / "part-00000.parquet", row_group_size=rows_per_group)
    facts = {"rows": len(rows), "seq_len": seq_len, "pack": pack, **(metrics or {})}
    (out / "_manifest.json").write_text(json.dumps({"metrics": facts}))
