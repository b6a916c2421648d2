"""Final answers of reasoning traces, and checking them against a reference.

Extraction order (the conventions of math and contest data: MATH / GSM8K / multiple-choice
science sets): the last ``\\boxed{...}`` (braces balanced), else the last "answer is X" /
"Answer: X", else the last line. Checking (:func:`check`) by kind:

* ``choice``: a single option letter (A–J), read from "(B)", "B.", "B)" or "answer is B";
* ``numeric``: numbers (``1,000``, ``-3.5``, ``3/4``, ``25%``, LaTeX ``\\frac{3}{4}``) equal
  within a relative tolerance of 1e-6 (absolute 1e-9 near zero);
* ``exact``: strings equal after removing ``$``, spaces and a trailing period, ignoring case.

``auto`` picks ``choice`` for a one-letter reference, ``numeric`` when the reference reads as
a number, else ``exact``.
"""

from __future__ import annotations

import math
import re
from fractions import Fraction
from typing import Literal

Kind = Literal["auto", "exact", "numeric", "choice"]

_ANSWER_IS = re.compile(r"(?i)(?:final answer|answer)\s*(?:is|:)\s*[:\s]*(.+)")
_CHOICE = re.compile(r"^\(?([A-J])\)?(?:[.):]|\s|$)")
_NUMBER = re.compile(r"^[-+]?(\d{1,3}(,\d{3})+|\d+)(\.\d+)?%?$|^[-+]?\.\d+%?$")
_FRAC = re.compile(r"^([-+]?\d+)\s*/\s*(\d+)$")
_TEX_FRAC = re.compile(r"^([-+]?)\\d?frac\{([-+]?\d+)\}\{(\d+)\}$")


def boxed(text: str) -> str | None:
    """Content of the last ``\\boxed{...}`` with balanced braces, or None."""
    start = text.rfind("\\boxed{")
    if start < 0:
        return None
    i, depth = start + len("\\boxed{"), 1
    for j in range(i, len(text)):
        depth += {"{": 1, "}": -1}.get(text[j], 0)
        if depth == 0:
            return text[i:j].strip()
    return None


def final_answer(text: str | None) -> str | None:
    """The answer a response ends with (see the module docstring), or None when empty."""
    if not text or not text.strip():
        return None
    if (b := boxed(text)) is not None:
        return b
    matches = _ANSWER_IS.findall(text)
    if matches:
        return matches[-1].strip().rstrip(".")
    return text.strip().splitlines()[-1].strip()


def _clean(s: str) -> str:
    return re.sub(r"\s+", "", s.replace("$", "").replace("\\!", "")).rstrip(".").lower()


def number(s: str) -> float | None:
    """A number written as the module docstring lists, or None."""
    s = s.strip().replace("$", "").replace("\\%", "%").strip()
    if m := _TEX_FRAC.match(s.replace(" ", "")):
        sign = -1 if m.group(1) == "-" else 1
        return sign * float(Fraction(int(m.group(2)), int(m.group(3))))
    if m := _FRAC.match(s):
        return float(Fraction(int(m.group(1)), int(m.group(2)))) if int(m.group(2)) else None
    if _NUMBER.match(s):
        value = float(s.replace(",", "").rstrip("%"))
        return value / 100 if s.endswith("%") else value
    return None


def choice(s: str) -> str | None:
    """The option letter an answer names, or None."""
    m = _CHOICE.match(s.strip())
    return m.group(1) if m else None


def kind_of(reference: str) -> Kind:
    ref = reference.strip()
    if re.fullmatch(r"\(?[A-J]\)?", ref):
        return "choice"
    return "numeric" if number(ref) is not None else "exact"


def check(reference: str, predicted: str | None, kind: Kind = "auto") -> bool:
    """Whether ``predicted`` (an extracted final answer) matches ``reference``."""
    if predicted is None:
        return False
    kind = kind_of(reference) if kind == "auto" else kind
    if kind == "choice":
        return choice(predicted) == choice(reference.strip())
    if kind == "numeric":
        a, b = number(reference), number(predicted)
        return a is not None and b is not None and math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-9)
    return _clean(reference) == _clean(predicted)
