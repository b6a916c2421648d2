"""fastText supervised inference in numpy, batched: the same probabilities as fastText's
``predict`` (within float rounding) at a fraction of its per-document cost.

Why: the ``score``, ``code_web`` and ``code_tier`` stages apply small fastText classifiers
(softmax loss, no subwords, word n-grams, quantised with a pruned n-gram index) to every
document, and a benchmark target asks for 1.5x datatrove's ``FastTextClassifierFilter`` (one
fastText ``predict`` per document) on the same cores. fastText's per-line cost is its C++
tokenising and hashing plus, around it, our normalisation and label parsing in Python. Here
the Python work per document is one ``lower()`` and one ``encode()``: the batch's bytes are
split into tokens, hashed (FNV-1a, one byte column at a time over all tokens), looked up in
the vocabulary (a hash table, every hit confirmed byte for byte) and turned into n-grams and
probabilities with numpy (bench/score_fasttext.py measures it against fastText's loop).

Layout and semantics follow fastText's C++ source (facebookresearch/fastText, ``src/``):

* file (``fasttext.cc`` ``checkModel``/``loadModel``): int32 magic 793712314, int32 version
  (<= 12); Args; Dictionary; bool quant_input; input matrix (QuantMatrix if quantised, else
  DenseMatrix); bool qout; output matrix (QuantMatrix if quantised and qout, else dense).
  Version 11 supervised models are read with ``maxn = 0``, as fastText does.
* Args (``args.cc`` ``load``): int32 dim, ws, epoch, minCount, neg, wordNgrams, loss, model,
  bucket, minn, maxn, lrUpdateRate, then float64 t. ``loss`` 3 = softmax, ``model`` 3 = sup
  (``args.h`` enums start at 1). The label prefix is not stored: fastText loads "__label__".
* Dictionary (``dictionary.cc`` ``load``): int32 size, nwords, nlabels, int64 ntokens,
  int64 pruneidx_size, then per entry the word bytes + NUL, int64 count, int8 type
  (0 word, 1 label), then pruneidx_size (int32 bucket id, int32 row) pairs.
* DenseMatrix (``densematrix.cc``): int64 m, n, then m*n float32.
* QuantMatrix (``quantmatrix.cc``): bool qnorm, int64 m, n, int32 codesize, codesize uint8
  codes, a ProductQuantizer, then if qnorm m uint8 norm codes and a second ProductQuantizer.
  Row i = norm_i * (centroids of its codes) (``addRowToVector`` -> ``addcode``).
* ProductQuantizer (``productquantizer.cc``): int32 dim, nsubq, dsub, lastdsub, then dim*256
  float32 centroids; sub-quantiser m's centroid c is at ``(m*256 + c)*dsub`` (the last one,
  of width lastdsub, at ``m*256*dsub + c*lastdsub``).

Prediction (``dictionary.cc`` ``getLine``/``addWordNgrams``/``pushHash``, ``model.cc``,
``loss.cc``): Python's ``predict`` appends "\\n", so the line's tokens (split on the bytes
`` \\n\\r\\t\\v\\f\\0``) end with the EOS word "</s>"; a literal "</s>" token ends the line
there. A token is dropped if it is a label (in-vocabulary with type label, or out of
vocabulary and starting with "__label__"); every other token contributes its row if in the
vocabulary (no subwords: ``maxn == 0``) and its FNV-1a hash (bytes sign-extended, kept as
int32) to the word n-grams: ``uint64 h = hash[i]; h = h*116049371 + hash[j]`` (sign-extended)
for j < i + wordNgrams, row ``nwords + pruneidx[h % bucket]`` (dropped when absent from a
pruned index; none when the pruned index is empty). hidden = mean of the rows, probabilities =
softmax(output @ hidden), returned as ``exp(log(p + 1e-5))`` in float32 (``std_log`` in
``loss.cc``, ``std::exp`` in ``predictLine``): fastText's probabilities are ``p + 1e-5``, and
so are these. A line with no row at all gets no prediction from fastText: all zeros here.

Since the output is linear in the hidden mean, each input row is projected through the
output matrix once at load (float64), so a document costs a gather of ``n_labels`` numbers
per feature instead of ``dim``.
"""

from __future__ import annotations

import functools
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

MAGIC = 793712314
MAX_VERSION = 12
EOS = "</s>"
LABEL_PREFIX = "__label__"
LOSS_NAMES = {1: "hs", 2: "ns", 3: "softmax", 4: "ova"}
MODEL_NAMES = {1: "cbow", 2: "sg", 3: "sup"}
KSUB = 256  # centroids per sub-quantiser (productquantizer.h: nbits 8)
NGRAM_MULT = 116049371  # dictionary.cc addWordNgrams
FNV_OFFSET = 2166136261
FNV_PRIME = 16777619
LOG_EPS = 1e-5  # loss.cc std_log: log(x + 1e-5)
# Documents per numpy pass: up to BATCH_DOCS and BATCH_CHARS characters (after the cut), so the
# per-token arrays stay in cache; 256 measured as fast as 1,024-8,192 on 1,500-character
# articles (bench/score_fasttext.py's documents).
BATCH_DOCS = 256
BATCH_CHARS = 1 << 20
TOKEN_CACHE = 200_000  # out-of-vocabulary tokens remembered across batches before a reset


class _Reader:
    def __init__(self, data: bytes, path: str):
        self.data, self.pos, self.path = data, 0, path

    def take(self, n: int) -> memoryview:
        if self.pos + n > len(self.data):
            raise ValueError(f"fastText model {self.path!r} is truncated")
        out = memoryview(self.data)[self.pos : self.pos + n]
        self.pos += n
        return out

    def array(self, dtype: str, count: int) -> np.ndarray:
        dt = np.dtype(dtype)
        return np.frombuffer(self.take(dt.itemsize * count), dtype=dt, count=count)

    def scalar(self, dtype: str):
        return self.array(dtype, 1)[0].item()

    def cstring(self) -> bytes:
        end = self.data.find(b"\0", self.pos)
        if end < 0:
            raise ValueError(f"fastText model {self.path!r} is truncated")
        out = self.data[self.pos : end]
        self.pos = end + 1
        return out


@dataclass(frozen=True)
class Args:
    dim: int
    ws: int
    epoch: int
    min_count: int
    neg: int
    word_ngrams: int
    loss: str
    model: str
    bucket: int
    minn: int
    maxn: int
    lr_update_rate: int
    t: float


def _read_pq(r: _Reader) -> tuple[int, int, int, int, np.ndarray]:
    dim, nsubq, dsub, lastdsub = (r.scalar("<i4") for _ in range(4))
    return dim, nsubq, dsub, lastdsub, r.array("<f4", dim * KSUB)


def _decode_pq(codes: np.ndarray, pq: tuple[int, int, int, int, np.ndarray]) -> np.ndarray:
    dim, nsubq, dsub, lastdsub, centroids = pq
    out = np.empty((codes.shape[0], dim), np.float32)
    for m in range(nsubq):
        d = lastdsub if m == nsubq - 1 else dsub
        block = centroids[m * KSUB * dsub : m * KSUB * dsub + KSUB * d].reshape(KSUB, d)
        out[:, m * dsub : m * dsub + d] = block[codes[:, m]]
    return out


def _read_matrix(r: _Reader, quantised: bool) -> np.ndarray:
    """A DenseMatrix, or a QuantMatrix decoded to dense float32 (row = norm * centroids)."""
    if not quantised:
        m, n = r.scalar("<i8"), r.scalar("<i8")
        return r.array("<f4", m * n).reshape(m, n)
    qnorm = r.scalar("<u1") != 0
    m, n = r.scalar("<i8"), r.scalar("<i8")
    codesize = r.scalar("<i4")
    codes = r.array("<u1", codesize)
    pq = _read_pq(r)
    if pq[0] != n or codesize != m * pq[1]:
        raise ValueError(f"fastText model {r.path!r}: product quantiser does not fit its {m}x{n} matrix")
    rows = _decode_pq(codes.reshape(m, pq[1]), pq)
    if qnorm:
        norm_codes = r.array("<u1", m)
        npq = _read_pq(r)
        norms = _decode_pq(norm_codes.reshape(m, 1), npq)  # dim 1, dsub 1
        rows *= norms  # float32 alpha * c, as addcode computes it
    return rows


class FastTextModel:
    """A fastText model file read into numpy (``.bin`` dense or ``.ftz`` quantised)."""

    def __init__(self, path: str):
        data = Path(path).read_bytes()
        r = _Reader(data, path)
        if len(data) < 8 or r.scalar("<i4") != MAGIC:
            raise ValueError(f"{path!r} is not a fastText model file (wrong magic number)")
        self.version = r.scalar("<i4")
        if self.version > MAX_VERSION:
            raise ValueError(
                f"fastText model {path!r}: file version {self.version} is newer than {MAX_VERSION}"
            )
        ints = [r.scalar("<i4") for _ in range(12)]
        t = r.scalar("<f8")
        args = Args(
            *ints[:6],
            LOSS_NAMES.get(ints[6], str(ints[6])),
            MODEL_NAMES.get(ints[7], str(ints[7])),
            *ints[8:],
            t,
        )
        if self.version == 11 and args.model == "sup":  # fasttext.cc: old supervised models
            args = Args(**{**args.__dict__, "maxn": 0})
        self.args = args
        size, self.nwords, self.nlabels = (r.scalar("<i4") for _ in range(3))
        self.ntokens = r.scalar("<i8")
        self.pruneidx_size = r.scalar("<i8")
        words, counts, types = [], [], []
        entry = struct.Struct("<qb")  # int64 count, int8 type
        for _ in range(size):
            words.append(r.cstring().decode("utf-8", "surrogateescape"))
            count, kind = entry.unpack(r.take(entry.size))
            counts.append(count)
            types.append(kind)
        self.words, self.counts, self.types = words, counts, types
        pairs = r.array("<i4", 2 * max(self.pruneidx_size, 0)).reshape(-1, 2)
        self.pruneidx = pairs.copy()
        self.quant_input = r.scalar("<u1") != 0
        self.input = _read_matrix(r, self.quant_input)
        self.qout = r.scalar("<u1") != 0
        self.output = _read_matrix(r, self.quant_input and self.qout)
        if r.pos != len(data):
            raise ValueError(
                f"fastText model {path!r}: {len(data) - r.pos} bytes left after the output matrix"
            )
        if self.nwords + self.nlabels != size or self.output.shape[1] != args.dim:
            raise ValueError(f"fastText model {path!r}: inconsistent dictionary or matrix sizes")
        self.path = path
        self.labels = words[self.nwords :]
        self._scorer: _Scorer | None = None

    def unsupported(self) -> str | None:
        """Why :meth:`predict_proba` cannot reproduce this model, or None when it can."""
        a = self.args
        if a.model != "sup":
            return f"model {a.model!r} is not supervised"
        if a.loss != "softmax":
            return f"loss {a.loss!r} (only softmax is implemented)"
        if a.maxn > 0:
            return "character n-grams (maxn > 0)"
        if a.word_ngrams > 1 and a.bucket <= 0 and self.pruneidx_size != 0:
            return "word n-grams with no bucket"
        if self.output.shape[0] != self.nlabels:
            return "output matrix rows != labels"
        if self.bin_order() is None:
            return "labels are not __label__0 .. __label__<n-1>"
        return None

    def bin_order(self) -> np.ndarray | None:
        """Column ``b`` of the result = label index of ``__label__<b>``; None if the labels
        are not exactly ``__label__0 .. __label__<n-1>``."""
        bins = {}
        for i, label in enumerate(self.labels):
            tail = label[len(LABEL_PREFIX) :]
            if not label.startswith(LABEL_PREFIX) or not tail.isdigit() or str(int(tail)) != tail:
                return None
            bins[int(tail)] = i
        if sorted(bins) != list(range(len(self.labels))):
            return None
        return np.array([bins[b] for b in range(len(self.labels))], dtype=np.int64)

    def predict_proba(
        self, texts: Sequence[str | None], max_chars: int, tokeniser: str = "bytes"
    ) -> np.ndarray:
        """``(len(texts), n_labels)`` float32, column ``b`` = P(``__label__<b>``): what
        fastText's ``predict(normalize(text, max_chars), k=n_labels, threshold=0)`` returns
        (see :func:`corpus.scoring.fasttext_model.normalize`)."""
        reason = self.unsupported()
        if reason:
            raise ValueError(f"fastText model {self.path!r}: {reason}")
        if self._scorer is None:
            self._scorer = _Scorer(self)
        out = np.zeros((len(texts), self.nlabels), np.float32)
        start = 0
        while start < len(texts):
            stop, chars = start, 0
            while stop < len(texts) and stop - start < BATCH_DOCS and chars < BATCH_CHARS:
                chars += min(len(texts[stop] or ""), max_chars)
                stop += 1
            out[start:stop] = self._scorer.batch(texts[start:stop], max_chars, tokeniser)
            start = stop
        return out


def fnv1a(data: bytes) -> int:
    """fastText's ``Dictionary::hash``: FNV-1a 32-bit over the bytes, each sign-extended."""
    h = FNV_OFFSET
    for b in data:
        h = ((h ^ ((b - 256 if b > 127 else b) & 0xFFFFFFFF)) * FNV_PRIME) & 0xFFFFFFFF
    return h


def _hash_many(tokens: list[str]) -> np.ndarray:
    """fastText hashes of ``tokens`` as sign-extended int64 (the int32 ``word_hashes`` of
    ``getLine`` widened the way ``addWordNgrams`` widens them)."""
    enc = [t.encode("utf-8", "surrogatepass") for t in tokens]
    lens = np.fromiter(map(len, enc), np.int64, len(enc))
    starts = np.zeros(len(enc), np.int64)
    np.cumsum(lens[:-1], out=starts[1:])
    h = _fnv_tokens(b"".join(enc) + _PAD, starts, lens)
    return h.view(np.int32).astype(np.int64)


# Separators of the normalised line as fastText reads it: Python's whitespace (what
# ``normalize`` collapses to one space: str.isspace, the same set as re's \s) and NUL
# (dictionary.cc readWord). 0xFF never occurs in UTF-8: it marks each document's end.
# Separator bytes: 0x00, 0x09-0x0D, 0x1C-0x20, and the UTF-8 of U+0085 U+00A0 U+1680
# U+2000-U+200A U+2028 U+2029 U+202F U+205F U+3000 (lead bytes 0xC2, 0xE1, 0xE2, 0xE3).
_END = 0xFF
_PAD = b" " * 8  # lets 8-byte windows start at any real byte
_MASK = np.array([(1 << (8 * k)) - 1 for k in range(8)] + [(1 << 64) - 1], np.uint64)


def _windows(buf: bytes) -> np.ndarray:
    """Every 8-byte little-endian window of ``buf`` (one per start byte, unaligned view)."""
    return np.ndarray((len(buf) - 7,), dtype="<u8", buffer=buf, offset=0, strides=(1,))


def _fnv_tokens(buf: bytes, starts: np.ndarray, lens: np.ndarray) -> np.ndarray:
    """fastText's hash of every token ``buf[starts[i] : starts[i] + lens[i]]`` (uint32;
    ``buf`` ends with 8 padding bytes). The tokens sorted by length, so the ones longer than
    byte j are a prefix; 8 bytes per token read at once, then one byte column at a time
    (sign-extended: int8 -> uint32); the few very long tokens finish in Python."""
    n = len(starts)
    if not n:
        return np.zeros(0, np.uint32)
    order = np.argsort(255 - np.minimum(lens, 255).astype(np.uint8), kind="stable")  # radix
    s_starts, s_lens = starts[order], lens[order]
    maxlen = int(s_lens[0])
    cols = min(maxlen, 255)  # past 255 the longer tokens are no prefix of the order
    longer = np.searchsorted(-s_lens, -np.arange(cols), side="left").tolist()
    win = _windows(buf)
    hs = np.full(n, FNV_OFFSET, np.uint32)
    prime = np.uint32(FNV_PRIME)
    j = 0
    while j < cols and not (longer[j] <= 8 and j >= 16):
        w8 = win[s_starts[: longer[j]] + j].view(np.int8).reshape(-1, 8)
        for k in range(8):
            if j >= cols or (longer[j] <= 8 and j >= 16):
                break
            h = hs[: longer[j]]
            h ^= w8[: longer[j], k].astype(np.uint32)
            h *= prime
            j += 1
    if j < maxlen:  # the few tokens still longer than j, byte by byte
        for i in np.flatnonzero(s_lens > j).tolist():
            v, st = int(hs[i]), int(s_starts[i])
            for x in buf[st + j : st + int(s_lens[i])]:
                v = ((v ^ ((x - 256 if x > 127 else x) & 0xFFFFFFFF)) * FNV_PRIME) & 0xFFFFFFFF
            hs[i] = v
    out = np.empty(n, np.uint32)
    out[order] = hs
    return out


class _Tokens(dict):
    """token -> code; a miss gets the next code and is queued for row/hash lookup."""

    def __init__(self, *a):
        super().__init__(*a)
        self.pending: list[str] = []

    def __missing__(self, token: str) -> int:
        code = len(self)
        self[token] = code
        self.pending.append(token)
        return code


class _Scorer:
    """Per-model tables for batched prediction. Two tokenisers give the same tokens:

    * bytes (default): the batch's lower-cased documents as one UTF-8 buffer; tokens, their
      fastText hashes and their vocabulary ids are found with numpy (a hash table on the
      FNV hash, every hit confirmed by comparing the bytes 8 at a time);
    * str (reference, and the path when two vocabulary words share a hash): ``str.split``
      and a dict from token to code.

    Input rows are projected through the output matrix once; the pruned n-gram index is an
    array over the buckets."""

    def __init__(self, m: FastTextModel):
        a = m.args
        self.nwords = m.nwords
        self.ngrams = a.word_ngrams if a.word_ngrams > 1 and m.pruneidx_size != 0 else 1
        self.bucket = a.bucket
        if self.ngrams > 1 and m.pruneidx_size > 0:
            self.bucket_row = np.full(a.bucket, -1, np.int64)
            self.bucket_row[m.pruneidx[:, 0]] = m.nwords + m.pruneidx[:, 1].astype(np.int64)
        else:
            self.bucket_row = None  # not pruned: row = nwords + bucket id
        # logits of one row: output @ row (float64); hidden is their mean
        self.proj = np.ascontiguousarray((m.input.astype(np.float64) @ m.output.astype(np.float64).T).T)
        self.order = m.bin_order()
        # vocabulary entry -> input row (-2: a label, dropped from the line)
        self.entry_row = np.array([i if t == 0 else -2 for i, t in enumerate(m.types)], np.int64)
        self.entry_row_ext = np.append(self.entry_row, -1)  # index -1: not in the vocabulary
        base = {w: i for i, w in enumerate(m.words)}
        hashes = _hash_many(m.words) if m.words else np.zeros(0, np.int64)
        self.base = (base, hashes)
        self._reset()
        self._init_bytes(m, hashes)

    # -- bytes tokeniser ---------------------------------------------------------------
    def _init_bytes(self, m: FastTextModel, hashes: np.ndarray) -> None:
        enc = [w.encode("utf-8", "surrogateescape") for w in m.words]
        h32 = hashes.astype(np.uint32)
        self.bytes_ok = len(set(h32.tolist())) == len(enc)  # else the str path
        size = 1 << max(4, (8 * max(len(enc), 1) - 1).bit_length())  # load <= 1/8
        self.tab_mask = size - 1
        tab = [0] * size  # (hash << 32) | (id + 1); 0 = empty
        for i, h in enumerate(h32.tolist()):  # linear probing
            slot = h & (size - 1)
            while tab[slot]:
                slot = (slot + 1) & (size - 1)
            tab[slot] = (h << 32) | (i + 1)
        self.tab = np.array(tab, np.uint64)
        self.wlen = np.array([len(e) for e in enc], np.int64)
        self.nchunks = max(1, (int(self.wlen.max(initial=0)) + 7) // 8)
        buf = b"".join(enc) + _PAD
        win = _windows(buf)
        offs = np.zeros(len(enc), np.int64)
        np.cumsum(self.wlen[:-1], out=offs[1:])
        self.wchunk = np.zeros((len(enc), self.nchunks), np.uint64)
        for k in range(self.nchunks):
            rem = np.clip(self.wlen - 8 * k, 0, 8)
            live = rem > 0
            self.wchunk[live, k] = win[offs[live] + 8 * k] & _MASK[rem[live]]
        eos = EOS.encode()
        self.eos_id = self.base[0].get(EOS, -1)
        self.eos_hash = np.uint32(fnv1a(eos))
        self.eos_key = np.uint64(int.from_bytes(eos, "little"))
        self.label_key = np.uint64(int.from_bytes(LABEL_PREFIX[:8].encode(), "little"))

    def _lookup(self, h: np.ndarray) -> np.ndarray:
        """Vocabulary id whose hash is ``h`` (-1 none): the table probed until a hit or a gap."""
        slot = h.astype(np.intp) & self.tab_mask
        e = self.tab[slot]
        hit = (e >> np.uint64(32)) == h
        out = np.where(hit, (e & np.uint64(0xFFFFFFFF)).astype(np.int64) - 1, -1)
        todo = np.flatnonzero((e != 0) & ~hit)
        slot = slot[todo]
        while todo.size:
            slot = (slot + 1) & self.tab_mask
            e = self.tab[slot]
            hit = (e >> np.uint64(32)) == h[todo]
            out[todo[hit]] = (e[hit] & np.uint64(0xFFFFFFFF)).astype(np.int64) - 1
            more = (e != 0) & ~hit
            todo, slot = todo[more], slot[more]
        return out

    def _byte_tokens(self, texts: Sequence[str | None], max_chars: int):
        parts = [(t or "")[:max_chars].lower().encode("utf-8", "surrogatepass") for t in texts]
        big = b" \xff ".join(parts) + b" \xff " + _PAD
        arr = np.frombuffer(big, np.uint8)
        sep = arr <= 0x20  # then drop the control bytes that are no separators (rare)
        ctrl = ((arr - np.uint8(1)) < 8) | ((arr - np.uint8(0x0E)) < 14)
        if ctrl.any():
            sep &= ~ctrl
        lead = np.flatnonzero((arr[:-8] == 0xC2) | ((arr[:-8] - np.uint8(0xE1)) < 3))
        if lead.size:  # U+0085 U+00A0 U+1680 U+2000-200A U+2028 U+2029 U+202F U+205F U+3000
            b0, b1, b2 = arr[lead], arr[lead + 1], arr[lead + 2]
            two = (b0 == 0xC2) & ((b1 == 0x85) | (b1 == 0xA0))
            e2 = (b0 == 0xE2) & (
                ((b1 == 0x80) & (((b2 >= 0x80) & (b2 <= 0x8A)) | (b2 == 0xA8) | (b2 == 0xA9) | (b2 == 0xAF)))
                | ((b1 == 0x81) & (b2 == 0x9F))
            )
            three = (
                e2
                | ((b0 == 0xE1) & (b1 == 0x9A) & (b2 == 0x80))
                | ((b0 == 0xE3) & (b1 == 0x80) & (b2 == 0x80))
            )
            for k, at in ((2, lead[two]), (3, lead[three])):
                for i in range(k):
                    sep[at + i] = True
        sep[-8:] = True
        edge = np.flatnonzero(sep[1:] != sep[:-1]) + 1  # sep[0] is a document byte or a space
        if not sep[0]:
            edge = np.concatenate(([0], edge))
        starts, ends = edge[0::2], edge[1::2]
        lens = ends - starts
        win = _windows(big)
        key = win[starts]
        term = (key & np.uint64(0xFF)) == np.uint64(_END)  # 0xFF occurs only as the end mark
        h = _fnv_tokens(big, starts, lens)
        vid = self._lookup(h)
        cand = np.flatnonzero(vid >= 0)
        if cand.size:  # confirm each hit: same length, same bytes (8 at a time)
            v, cl = vid[cand], lens[cand]
            ok = (self.wlen[v] == cl) & ((key[cand] & _MASK[np.minimum(cl, 8)]) == self.wchunk[v, 0])
            more = np.flatnonzero(ok & (cl > 8))
            for k in range(1, self.nchunks):
                if not more.size:
                    break
                got = win[starts[cand[more]] + 8 * k] & _MASK[np.minimum(cl[more] - 8 * k, 8)]
                good = got == self.wchunk[v[more], k]
                ok[more[~good]] = False
                more = more[good & (cl[more] > 8 * (k + 1))]
            vid[cand[~ok]] = -1
        vid[term] = self.eos_id
        h[term] = self.eos_hash
        rows = self.entry_row_ext[vid]  # vid -1 -> row -1
        # out-of-vocabulary labels: tokens starting with "__label__" (dictionary.cc getType)
        lab = np.flatnonzero(key == self.label_key)
        if lab.size:
            lab = lab[(vid[lab] < 0) & (arr[starts[lab] + 8] == ord(LABEL_PREFIX[8]))]
            rows[lab] = -2
        doc = np.cumsum(term) - term
        eos_lit = np.flatnonzero((key & _MASK[4]) == self.eos_key)
        eos_lit = eos_lit[(lens[eos_lit] == 4) & ~term[eos_lit]]
        if eos_lit.size:  # a literal "</s>" ends its line: drop the tokens after it
            stop = term.copy()
            stop[eos_lit] = True
            before = np.cumsum(stop) - stop
            doc_start = np.searchsorted(doc, np.arange(len(texts)))
            rows[before - before[doc_start][doc] > 0] = -3
        drop = rows < -1
        if drop.any():
            keep = ~drop
            doc, rows, h = doc[keep], rows[keep], h[keep]
        return doc, rows, h.view(np.int32).astype(np.int64)

    # -- str tokeniser -----------------------------------------------------------------
    def _reset(self) -> None:
        base, hashes = self.base
        self.table = _Tokens(base)
        self.rows, self.hashes = self.entry_row, hashes
        self.eos = self.table[EOS]
        self._flush()

    def _flush(self) -> None:
        pend = self.table.pending
        if not pend:
            return
        rows = np.array([-2 if t.startswith(LABEL_PREFIX) else -1 for t in pend], np.int64)
        self.rows = np.concatenate([self.rows, rows])
        self.hashes = np.concatenate([self.hashes, _hash_many(pend)])
        pend.clear()

    def _str_tokens(self, texts: Sequence[str | None], max_chars: int):
        lines = [(t or "")[:max_chars].lower() for t in texts]
        joined = f" {EOS} ".join(lines)
        if "\0" not in joined and joined.count(EOS) == len(lines) - 1:
            flat = joined.split()
            flat.append(EOS)
            lens = None  # from the EOS positions
        else:
            flat, per_doc = [], []
            for line in lines:  # NUL bytes (fastText splits on them) or a literal "</s>"
                toks = line.split()
                if "\0" in line:
                    toks = [p for t in toks for p in t.split("\0") if p]
                if EOS in toks:
                    toks = toks[: toks.index(EOS) + 1]  # getLine stops at the first EOS
                else:
                    toks.append(EOS)
                flat += toks
                per_doc.append(len(toks))
            lens = np.array(per_doc, np.int64)
        codes = np.fromiter(map(self.table.__getitem__, flat), np.int64, len(flat))
        self._flush()
        if lens is None:
            lens = np.diff(np.flatnonzero(codes == self.eos), prepend=-1)
        doc = np.repeat(np.arange(len(texts)), lens)
        rows, hashes = self.rows[codes], self.hashes[codes]
        if len(self.table) > TOKEN_CACHE:
            self._reset()
        keep = rows != -2
        return doc[keep], rows[keep], hashes[keep]

    # -- features -> probabilities -------------------------------------------------------
    def batch(self, texts: Sequence[str | None], max_chars: int, tokeniser: str = "bytes") -> np.ndarray:
        n = len(texts)
        if tokeniser == "bytes" and self.bytes_ok:
            doc, rows, hashes = self._byte_tokens(texts, max_chars)
        else:
            doc, rows, hashes = self._str_tokens(texts, max_chars)
        word = rows >= 0
        feat_rows, feat_docs = [rows[word]], [doc[word]]
        if self.ngrams > 1 and doc.size > 1:
            h = hashes.view(np.uint64)  # int32 hash widened with its sign (addWordNgrams)
            cur = h
            mult, bucket = np.uint64(NGRAM_MULT), np.uint64(self.bucket)
            for d in range(1, self.ngrams):
                if cur.size <= 1:
                    break
                cur = cur[:-1] * mult + h[d:]
                ids = (cur % bucket).astype(np.int64)
                same = doc[:-d] == doc[d:]
                if self.bucket_row is None:
                    r, ok = self.nwords + ids, same
                else:
                    r = self.bucket_row[ids]
                    ok = same & (r >= 0)
                feat_rows.append(r[ok])
                feat_docs.append(doc[:-d][ok])
        all_rows = np.concatenate(feat_rows)
        all_docs = np.concatenate(feat_docs)
        count = np.bincount(all_docs, minlength=n)
        logits = np.stack(
            [np.bincount(all_docs, weights=p[all_rows], minlength=n) for p in self.proj], axis=1
        )
        has = count > 0
        logits = logits[has] / count[has, None]
        logits -= logits.max(axis=1, keepdims=True)
        e = np.exp(logits)
        p = e / e.sum(axis=1, keepdims=True)
        out = np.zeros((n, self.proj.shape[0]), np.float32)
        out[has] = np.exp(np.log(p + LOG_EPS).astype(np.float32))
        return out[:, self.order]


@functools.cache
def load(path: str) -> FastTextModel:
    """The model at ``path``, read once per process."""
    return FastTextModel(path)
