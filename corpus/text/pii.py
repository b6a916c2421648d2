"""Redact e-mail addresses, IP addresses and key-like secrets in text, with counts.

Placeholders are fixed strings so a model learns the shape, never a value: ``<EMAIL>``,
``<IP_ADDRESS>``, ``<SECRET>`` — the convention of The Stack v2 / StarCoder2's PII pass.
Secret patterns are the well-known, self-identifying token formats that secret scanners
(gitleaks' and detect-secrets' rule sets) match: private-key blocks, AWS access key ids,
GitHub / GitLab / Slack / Stripe / Google API tokens, JWTs. Generic high-entropy strings are not
touched: in code and diffs they are mostly hashes, and replacing them would corrupt the text.
"""

from __future__ import annotations

import ipaddress
import re
from collections import Counter

EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}(?![\w-])")
IPV4 = re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![\w.])")
SECRETS = re.compile(
    "|".join(
        [
            r"-----BEGIN (?:[A-Z]+ )*PRIVATE KEY-----[\s\S]*?-----END (?:[A-Z]+ )*PRIVATE KEY-----",
            r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b",  # AWS access key id
            r"\bgh[pousr]_[A-Za-z0-9]{36,255}\b",  # GitHub tokens
            r"\bgithub_pat_[A-Za-z0-9_]{60,255}\b",
            r"\bglpat-[A-Za-z0-9_-]{20}\b",  # GitLab
            r"\bxox[abposr]-[A-Za-z0-9-]{10,}\b",  # Slack
            r"\b[rs]k_live_[A-Za-z0-9]{20,}\b",  # Stripe
            r"\bAIza[0-9A-Za-z_-]{35}\b",  # Google API key
            r"\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\b",  # JWT
        ]
    )
)
SECRET_MARKERS = (
    "PRIVATE KEY",
    "AKIA",
    "ASIA",
    *(f"gh{c}_" for c in "pousr"),
    "github_pat_",
    "glpat-",
    "xox",
    "k_live_",
    "AIza",
    "eyJ",
)
"""A literal every :data:`SECRETS` alternative contains: text without any of them cannot match,
and searching for the literals is ~30x cheaper than the alternation (which Python's ``re`` tries
at every position)."""
_SECRET_MARKER = re.compile("|".join(map(re.escape, SECRET_MARKERS)))
"""Any of :data:`SECRET_MARKERS`: one scan (about 20 % cheaper than a substring search each)."""
PLACEHOLDERS = {"email": "<EMAIL>", "ip_address": "<IP_ADDRESS>", "secret": "<SECRET>"}


def _table(marks: dict[bytes, bytes], rest: bytes) -> bytes:
    """A ``bytes.translate`` table: each byte of a key maps to its value, the others to ``rest``."""
    table = bytearray(rest * 256)
    for chars, to in marks.items():
        for c in chars:
            table[c] = to[0]
    return bytes(table)


_ASCII_WORD = bytes(c for c in range(128) if chr(c).isalnum() or chr(c) == "_")
_HIGH = bytes(range(0x80, 0x100))  # any byte of a non-ASCII character: may be \w or \d
_EMAIL_BYTES = _table({_ASCII_WORD + b".+-" + _HIGH: b"w", b"@": b"@"}, b" ")
_IPV4_BYTES = _table({b"0123456789" + _HIGH: b"0", b".": b"."}, b" ")


def _may_have_email(data: bytes) -> bool:
    """False when :data:`EMAIL` cannot match the UTF-8 ``data``: every match has a local-part
    character right before "@" and a domain character right after (Python decorators and
    ``@`` operators have neither)."""
    return b"w@w" in data.translate(_EMAIL_BYTES)


_IPV4_FOLDED = re.compile(rb"0\.0+\.0+\.0")


def _may_have_ipv4(data: bytes) -> bool:
    r"""False when :data:`IPV4` cannot match: every match is four runs of 1-3 digits joined by
    dots, so once every digit becomes "0" the text holds "0.0+.0+.0". A non-ASCII byte counts
    as a digit (``\d`` matches other scripts' digits, which are several bytes each). The
    regex over the translated bytes starts only where "0." is (a literal prefix ``re`` finds
    with its fast search): about 7x cheaper than folding the runs of "0" with replaces."""
    return _IPV4_FOLDED.search(data.translate(_IPV4_BYTES)) is not None


_NUMBERING = re.compile(
    r"(?i)(sections?|sect\.|§|chapter|clause|rfc\s*\d+,?|version|ver\.|release)\s*[\"'(]?\s*$"
)


def _public_ip(text: str) -> bool:
    """A globally routable IPv4 address (``ipaddress``'s ``is_global``): private, loopback,
    shared (100.64/10), documentation-reserved and multicast addresses are left, as they
    identify no one."""
    try:
        ip = ipaddress.IPv4Address(text)
    except ValueError:
        return False
    return ip.is_global and not ip.is_multicast


def _is_numbering(m: re.Match[str]) -> bool:
    """Dotted numbers after "section", "RFC 2616", "version" … are section or version numbers
    (``section 7.1.4.34`` in the standard library's comments), not addresses."""
    return bool(_NUMBERING.search(m.string[max(0, m.start() - 24) : m.start()]))


def redact(text: str) -> tuple[str, Counter[str]]:
    """``text`` with secrets, e-mail addresses and public IPv4 addresses replaced by their
    placeholders, and how many of each were replaced."""
    counts: Counter[str] = Counter()

    def sub(kind: str, pattern: re.Pattern[str], s: str, keep=lambda m: False) -> str:
        def repl(m: re.Match[str]) -> str:
            if keep(m):
                return m.group(0)
            counts[kind] += 1
            return PLACEHOLDERS[kind]

        return pattern.sub(repl, s)

    if _SECRET_MARKER.search(text):
        text = sub("secret", SECRETS, text)
    data = text.encode("utf-8", "surrogatepass")  # the prefilters: same result, ~10x cheaper
    if "@" in text and _may_have_email(data):
        text = sub("email", EMAIL, text)
        data = text.encode("utf-8", "surrogatepass")
    if _may_have_ipv4(data):
        keep = lambda m: not _public_ip(m.group(0)) or _is_numbering(m)  # noqa: E731
        text = sub("ip_address", IPV4, text, keep=keep)
    return text, counts
