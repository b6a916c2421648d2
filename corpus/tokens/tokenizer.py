"""Train, load and fingerprint the byte-level BPE tokenizer token streams are made with.

The tokenizer mirrors GLM-4.5's layout: a regex split (the cl100k-style pattern GLM-4 uses)
followed by byte-level BPE with no normaliser, so ``decode(encode(text)) == text`` for every
string, and GLM-4.5's special tokens as single, never-merged ids. ``<|endoftext|>`` ends every
document and is also the pad token (GLM's own choice); padding is told apart by the stream's
``pad_len`` column, never by the id. The sha256 of ``tokenizer.json`` identifies the tokenizer
in every manifest.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa

from corpus.tokens.mixture import unit_hash

if TYPE_CHECKING:
    from tokenizers import Tokenizer

EOS = "<|endoftext|>"
PAD = EOS
FILE_SEP = "<|file_sep|>"

SPECIAL_TOKENS: tuple[str, ...] = (
    EOS,
    "[MASK]",
    "[gMASK]",
    "[sMASK]",
    "<sop>",
    "<eop>",
    "<|system|>",
    "<|user|>",
    "<|assistant|>",
    "<|observation|>",
    "<|code_prefix|>",
    "<|code_middle|>",
    "<|code_suffix|>",
    "/nothink",
    "<think>",
    "</think>",
    "<tool_call>",
    "</tool_call>",
    "<tool_response>",
    "</tool_response>",
    "<arg_key>",
    "</arg_key>",
    "<arg_value>",
    "</arg_value>",
    FILE_SEP,
)
"""GLM-4.5's text special tokens (chat roles, reasoning, XML-style tool calls, FIM) plus a file
separator for repo-level concatenation. Their ids are 0..len-1 in this order."""

SPLIT_PATTERN = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*"
    r"|\s*[\r\n]+|\s+(?!\S)|\s+"
)
"""Pre-tokenisation regex of GLM-4's tokenizer (digits in groups of at most three)."""

TOKENIZER_FILE = "tokenizer.json"


def _blank(special_tokens: Iterable[str] = SPECIAL_TOKENS) -> Tokenizer:
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(SPLIT_PATTERN), behavior="isolated"),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ]
    )
    tok.decoder = decoders.ByteLevel()
    return tok


def train(texts: Iterable[str], vocab_size: int, out_dir: str | Path) -> Path:
    """Train a byte-level BPE of ``vocab_size`` ids (specials and the 256 bytes included) on
    ``texts`` and save it as a Hugging Face tokenizer folder; returns the ``tokenizer.json`` path.

    Training is deterministic for a given text order, so the caller fixes the order.
    """
    minimum = len(SPECIAL_TOKENS) + 256
    if vocab_size < minimum:
        raise ValueError(f"vocab_size must be at least {minimum} (specials + 256 bytes), got {vocab_size}")
    from tokenizers import pre_tokenizers, trainers

    tok = _blank()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=list(SPECIAL_TOKENS),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(texts, trainer=trainer)
    return save(tok, out_dir)


def save(tok: Tokenizer, out_dir: str | Path) -> Path:
    """Save ``tok`` with the ``transformers`` config files, so ``AutoTokenizer`` and
    ``PreTrainedTokenizerFast`` load the folder with the right eos/pad tokens."""
    from transformers import PreTrainedTokenizerFast

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, eos_token=EOS, pad_token=PAD)
    fast.save_pretrained(str(out))
    return out / TOKENIZER_FILE


def tokenizer_file(path: str | Path) -> Path:
    """``path`` itself when it is a file, else ``path/tokenizer.json``; a clear error if absent."""
    p = Path(path)
    f = p / TOKENIZER_FILE if p.is_dir() else p
    if not f.is_file():
        raise FileNotFoundError(
            f"no tokenizer at {path!s}: give a tokenizer.json (or a folder holding one), "
            "or train one with `corpus tokenizer train`"
        )
    return f


def sha256(path: str | Path) -> str:
    """Fingerprint of the tokenizer (hash of ``tokenizer.json``'s bytes)."""
    return hashlib.sha256(tokenizer_file(path).read_bytes()).hexdigest()


def special_id(tok: Tokenizer, token: str) -> int:
    """Id of a special token; an error when the tokenizer lacks it."""
    tid = tok.token_to_id(token)
    if tid is None:
        raise ValueError(f"tokenizer has no {token!r} token")
    return tid


def sample_batch(batch: pa.RecordBatch, seed: int, rate: float) -> pa.RecordBatch:
    """Rows ``(key, text)`` of the documents in a training sample of ``rate`` (0..1): a document
    is in when hash(seed, id, "tokenizer_sample") falls under ``rate``, so the sample does not
    depend on file or partition order; training reads it in ``key`` order."""
    keys = [unit_hash(seed, i, "tokenizer_sample", 0) for i in batch.column("id").to_pylist()]
    texts = batch.column("text").to_pylist()
    limit = rate * 2.0**64
    pick = [i for i, k in enumerate(keys) if k < limit and texts[i]]
    return pa.RecordBatch.from_pydict(
        {
            "key": pa.array([keys[i] - (1 << 63) for i in pick], pa.int64()),
            "text": pa.array([texts[i] for i in pick], pa.large_string()),
        }
    )


def sample_texts(sample: pa.Table) -> list[str]:
    """Texts of a ``sample_batch`` result in training order (hash key, then text)."""
    return sample.sort_by([("key", "ascending"), ("text", "ascending")]).column("text").to_pylist()
