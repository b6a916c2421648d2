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
PLACEHOLDERS = {"email": "<EMAIL>", "ip_address": "<IP_ADDRESS>", "secret": "<SECRET>"}


def _public_ip(text: str) -> bool:
    """A routable IPv4 address. Private, loopback, reserved and multicast addresses are left
    (they identify no one). A four-part version number that is also a valid public address
    (``version 1.2.3.4``) cannot be told apart and is redacted; ``v1.2.3.4`` is not matched."""
    try:
        ip = ipaddress.IPv4Address(text)
    except ValueError:
        return False
    return not (ip.is_private or ip.is_loopback or ip.is_unspecified or ip.is_reserved or ip.is_multicast)


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

    text = sub("secret", SECRETS, text)
    text = sub("email", EMAIL, text)
    text = sub("ip_address", IPV4, text, keep=lambda m: not _public_ip(m.group(0)))
    return text, counts
