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
and substring search is ~30x cheaper than the alternation (which Python's ``re`` tries at every
position)."""
PLACEHOLDERS = {"email": "<EMAIL>", "ip_address": "<IP_ADDRESS>", "secret": "<SECRET>"}


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

    if any(marker in text for marker in SECRET_MARKERS):
        text = sub("secret", SECRETS, text)
    if "@" in text:
        text = sub("email", EMAIL, text)
    text = sub("ip_address", IPV4, text, keep=lambda m: not _public_ip(m.group(0)) or _is_numbering(m))
    return text, counts
