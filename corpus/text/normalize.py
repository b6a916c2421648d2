"""Text normalisation for duplicate detection, vectorised over Arrow arrays.

Two texts that differ only in case, punctuation, digits, accents or spacing should hash the
same (FineWeb / datatrove's ``simplify_text`` does the same steps). The work runs in Arrow's
C++ kernels over a whole batch, so a Python loop per document is never needed.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

_NUMBER = r"\p{Nd}+([.,\x{060C}\x{066B}]\p{Nd}+)?"
_PUNCT_OR_SYMBOL = r"[\p{P}\p{S}]"
_MARK = r"\p{Mn}"
_SPACES = r"\s+"


def normalize_array(
    texts: pa.Array | pa.ChunkedArray, collapse_spaces: bool = True
) -> pa.Array | pa.ChunkedArray:
    """Lower-case, numbers to ``0``, punctuation/symbols to spaces, accents stripped (NFD minus
    combining marks), whitespace collapsed and trimmed. Nulls stay null.

    ``collapse_spaces=False`` skips the (slowest) last two steps for callers that split on
    whitespace runs anyway."""
    x = pc.utf8_lower(texts)
    x = pc.replace_substring_regex(x, _NUMBER, "0")
    x = pc.replace_substring_regex(x, _PUNCT_OR_SYMBOL, " ")
    x = pc.utf8_normalize(x, "NFD")
    x = pc.replace_substring_regex(x, _MARK, "")
    if not collapse_spaces:
        return x
    x = pc.replace_substring_regex(x, _SPACES, " ")
    return pc.utf8_trim_whitespace(x)


def normalize(text: str) -> str:
    """:func:`normalize_array` for one string (same kernels, so the two always agree)."""
    return normalize_array(pa.array([text], pa.large_string()))[0].as_py()
