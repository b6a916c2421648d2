"""What a source file is: its language and whether it belongs in a code corpus.

Language, vendored, generated, binary and documentation decisions come from go-enry (GitHub
linguist's rules, through the ``enry-python`` bindings), not from a hand-written extension
table. The order of the checks, and so the removal reason a file gets, is:

``repos:too_large`` (over ``max_bytes``, The Stack's 1 MB by default) → ``repos:vendored``
(``node_modules/``, ``vendor/``, ``third_party/`` … per linguist's vendor list) →
``repos:lock_file`` (dependency lock files) → ``repos:binary`` (NUL bytes / images) →
``repos:generated`` (linguist's generated-file rules) → ``repos:undecodable`` (not UTF-8) →
``repos:no_language`` (linguist knows no language for it).

A repository's licence is read from its licence file (``LICENSE``, ``COPYING`` …) or a
``Cargo.toml`` / ``package.json`` licence field and reported as an SPDX id where the text is
recognisable.
"""

from __future__ import annotations

import posixpath
import re

LOCK_FILES = frozenset(
    {
        "package-lock.json",
        "yarn.lock",
        "pnpm-lock.yaml",
        "Cargo.lock",
        "poetry.lock",
        "Pipfile.lock",
        "go.sum",
        "composer.lock",
        "Gemfile.lock",
        "uv.lock",
        "pdm.lock",
        "flake.lock",
        "mix.lock",
        "pubspec.lock",
        "packages.lock.json",
        "npm-shrinkwrap.json",
    }
)
LICENSE_FILE = re.compile(r"^(licen[cs]e|copying|unlicense)([-._][\w.-]*)?$", re.I)

_SPDX_TEXT = [
    ("Apache-2.0", [r"Apache License", r"Version 2\.0"]),
    ("AGPL-3.0", [r"GNU AFFERO GENERAL PUBLIC LICENSE", r"Version 3"]),
    ("LGPL-3.0", [r"GNU LESSER GENERAL PUBLIC LICENSE", r"Version 3"]),
    ("LGPL-2.1", [r"GNU LESSER GENERAL PUBLIC LICENSE", r"Version 2\.1"]),
    ("GPL-3.0", [r"GNU GENERAL PUBLIC LICENSE", r"Version 3"]),
    ("GPL-2.0", [r"GNU GENERAL PUBLIC LICENSE", r"Version 2"]),
    ("MPL-2.0", [r"Mozilla Public License,? [Vv]ersion 2\.0"]),
    ("MIT", [r"Permission is hereby granted, free of charge"]),
    ("BSD-3-Clause", [r"Redistribution and use in source and binary forms", r"[Nn]either the name"]),
    ("BSD-2-Clause", [r"Redistribution and use in source and binary forms"]),
    ("ISC", [r"Permission to use, copy, modify, and(/or)? distribute this software for any purpose"]),
    ("Unlicense", [r"This is free and unencumbered software released into the public domain"]),
]


def classify(path: str, content: bytes, max_bytes: int) -> tuple[str | None, str | None]:
    """``(language, removal reason)`` of a file at ``path`` (relative to its repository); the
    reason is None for a file to keep."""
    import enry

    name = posixpath.basename(path)
    if len(content) > max_bytes:
        return None, "repos:too_large"
    if enry.is_vendor(path):
        return None, "repos:vendored"
    if name in LOCK_FILES:
        return None, "repos:lock_file"
    if enry.is_binary(content) or enry.is_image(path):
        return None, "repos:binary"
    if enry.is_generated(path, content):
        return None, "repos:generated"
    try:
        content.decode("utf-8")
    except UnicodeDecodeError:
        return None, "repos:undecodable"
    lang = enry.get_language(path, content)
    if not lang:
        return None, "repos:no_language"
    return lang, None


def spdx_from_text(text: str) -> str | None:
    """The SPDX id of a licence text, by the phrases that identify it; None when unknown."""
    for spdx, needles in _SPDX_TEXT:
        if all(re.search(n, text) for n in needles):
            return spdx
    return None


def spdx_from_manifest(name: str, text: str) -> str | None:
    """The ``license`` field of a ``Cargo.toml`` or ``package.json`` (already an SPDX expression)."""
    if name == "Cargo.toml":
        m = re.search(r'(?m)^license\s*=\s*"([^"]+)"', text)
    elif name == "package.json":
        m = re.search(r'"license"\s*:\s*"([^"]+)"', text)
    else:
        return None
    return m.group(1).strip() if m else None
