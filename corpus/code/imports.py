"""Which files of a repository a source file imports, and an order that puts imports first.

Imports are read with tree-sitter grammars (``tree-sitter-language-pack``, bundled offline) for
Python, JavaScript/TypeScript, Go, Java, C/C++ (``#include "..."``) and Rust (``mod`` / ``use``),
then resolved to files of the same repository; imports of anything outside it (the standard
library, packages) resolve to nothing and are ignored.

:func:`order` is DeepSeek-Coder's repository ordering: repeatedly take the file with the fewest
unplaced dependencies (ties by path), so a file comes after the files it imports and a cycle
still yields an order; :func:`cycle_pairs` reports the import pairs a cycle put the wrong way.
"""

from __future__ import annotations

import functools
import posixpath
import re
from collections.abc import Iterable

GRAMMARS = {
    "Python": "python",
    "JavaScript": "javascript",
    "TypeScript": "typescript",
    "TSX": "tsx",
    "Go": "go",
    "Java": "java",
    "C": "c",
    "C++": "cpp",
    "Rust": "rust",
}
JS_EXTS = (".js", ".mjs", ".cjs", ".jsx", ".ts", ".tsx", ".d.ts")


@functools.cache
def _parser(grammar: str):
    from tree_sitter_language_pack import get_parser

    return get_parser(grammar)


def _nodes(node, types: set[str]) -> Iterable:
    stack = [node]
    while stack:
        n = stack.pop()
        if n.type in types:
            yield n
        stack.extend(reversed(n.children))


def _text(node, src: bytes) -> str:
    return src[node.start_byte : node.end_byte].decode("utf-8", "replace")


def raw_imports(lang: str, source: str) -> list[tuple[str, str]]:
    """``(kind, target)`` pairs as written in the file: ``module`` (dotted), ``relative`` (a
    path), ``package`` (Go import path), ``include`` (C header), ``mod`` / ``use`` (Rust)."""
    grammar = GRAMMARS.get(lang)
    if grammar is None:
        return []
    src = source.encode("utf-8")
    root = _parser(grammar).parse(src).root_node
    out: list[tuple[str, str]] = []
    if grammar == "python":
        for n in _nodes(root, {"import_statement", "import_from_statement"}):
            if n.type == "import_statement":
                out += [
                    ("module", _text(c, src).split(" as ")[0].strip())
                    for c in n.children
                    if c.type in ("dotted_name", "aliased_import")
                ]
            else:
                module = n.child_by_field_name("module_name")
                base = _text(module, src) if module is not None else ""
                out.append(("module", base))
                for c in n.children_by_field_name("name"):  # a name may be a submodule
                    name = _text(c, src).split(" as ")[0].strip()
                    out.append(("module", base + name if base.endswith(".") else f"{base}.{name}"))
    elif grammar in ("javascript", "typescript", "tsx"):
        for n in _nodes(root, {"import_statement", "export_statement", "call_expression"}):
            if n.type == "call_expression":
                fn = n.child_by_field_name("function")
                if fn is None or _text(fn, src) not in ("require", "import"):
                    continue
                strings = [c for c in _nodes(n.child_by_field_name("arguments") or n, {"string"})]
            else:
                s = n.child_by_field_name("source")
                strings = [s] if s is not None else []
            out += [("relative", _text(s, src).strip("'\"`")) for s in strings[:1]]
    elif grammar == "go":
        for n in _nodes(root, {"import_spec"}):
            path = n.child_by_field_name("path")
            if path is not None:
                out.append(("package", _text(path, src).strip('"`')))
    elif grammar == "java":
        for n in _nodes(root, {"import_declaration"}):
            body = _text(n, src).removeprefix("import").removesuffix(";").strip()
            out.append(("module", body.removeprefix("static ").strip()))
    elif grammar in ("c", "cpp"):
        for n in _nodes(root, {"preproc_include"}):
            path = n.child_by_field_name("path")
            if path is not None and path.type == "string_literal":
                out.append(("include", _text(path, src).strip('"')))
    elif grammar == "rust":
        for n in _nodes(root, {"mod_item"}):
            if n.child_by_field_name("body") is None:
                name = n.child_by_field_name("name")
                if name is not None:
                    out.append(("mod", _text(name, src)))
        for n in _nodes(root, {"use_declaration"}):
            arg = n.child_by_field_name("argument")
            if arg is not None:
                out.append(("use", re.split(r"::\{|\s+as\s+", _text(arg, src))[0]))
    return out


def resolve(
    path: str, lang: str, imports: list[tuple[str, str]], files: set[str], repo: str | None = None
) -> set[str]:
    """Files of the repository (``files``: every path) that ``path``'s imports name. ``repo``:
    the repository's name — when the repository root is itself a package (an installed Python
    package, a crate), ``import <repo>.x`` names ``x`` at the root."""
    here = posixpath.dirname(path)
    found: set[str] = set()

    def by_suffix(*candidates: str) -> None:
        for c in candidates:
            c = posixpath.normpath(c)
            if c in files:
                found.add(c)
                return
        for c in candidates:
            tail = "/" + posixpath.normpath(c)
            hits = sorted(f for f in files if f.endswith(tail))
            if hits:
                found.add(hits[0])
                return

    for kind, target in imports:
        if not target:
            continue
        if kind == "module" and lang == "Python":
            dots = len(target) - len(target.lstrip("."))
            rel = target.lstrip(".").replace(".", "/")
            if dots:
                base = here
                for _ in range(dots - 1):
                    base = posixpath.dirname(base)
                stem = posixpath.join(base, rel) if rel else base
                for c in (stem + ".py", posixpath.join(stem, "__init__.py")):
                    if posixpath.normpath(c) in files:
                        found.add(posixpath.normpath(c))
                        break
            else:
                cands = [rel + ".py", posixpath.join(rel, "__init__.py")]
                top, _, rest = rel.partition("/")
                if repo and top == repo:
                    cands += [rest + ".py", posixpath.join(rest, "__init__.py")] if rest else ["__init__.py"]
                by_suffix(*cands)
        elif kind == "module" and lang == "Java":
            rel = target.replace(".", "/")
            if rel.endswith("/*"):
                d = rel[:-2]
                found |= {
                    f
                    for f in files
                    if f.endswith(".java")
                    and (posixpath.dirname(f) == d or posixpath.dirname(f).endswith("/" + d))
                }
            else:
                by_suffix(rel + ".java")
        elif kind == "relative" and target.startswith("."):
            stem = posixpath.normpath(posixpath.join(here, target))
            cands = (
                [stem] + [stem + e for e in JS_EXTS] + [posixpath.join(stem, "index" + e) for e in JS_EXTS]
            )
            for c in cands:
                if c in files:
                    found.add(c)
                    break
        elif kind == "package":  # Go: every .go file of the directory the import path ends with
            parts = target.split("/")
            for k in range(len(parts)):
                d = "/".join(parts[k:])
                hits = {
                    f
                    for f in files
                    if f.endswith(".go")
                    and (posixpath.dirname(f) == d or posixpath.dirname(f).endswith("/" + d))
                }
                if hits:
                    found |= hits
                    break
        elif kind == "include":
            by_suffix(posixpath.join(here, target), target)
        elif kind == "mod":
            stem = posixpath.splitext(posixpath.basename(path))[0]
            base = here if stem in ("lib", "main", "mod") else posixpath.join(here, stem)
            by_suffix(posixpath.join(base, target + ".rs"), posixpath.join(base, target, "mod.rs"))
        elif kind == "use":
            segs = [s for s in target.split("::") if s not in ("crate", "self", "super", "")]
            for k in range(len(segs), 0, -1):
                rel = "/".join(segs[:k])
                before = len(found)
                by_suffix(f"src/{rel}.rs", f"src/{rel}/mod.rs")
                if len(found) > before:
                    break
    found.discard(path)
    return found


def order(paths: list[str], deps: dict[str, set[str]]) -> list[str]:
    """``paths`` with each file after the files it depends on; in a cycle the file with the
    fewest unplaced dependencies (then the smallest path) goes first (DeepSeek-Coder)."""
    remaining = {p: set(deps.get(p, ())) & set(paths) for p in paths}
    dependents: dict[str, set[str]] = {p: set() for p in paths}
    for p, ds in remaining.items():
        for d in ds:
            dependents[d].add(p)
    import heapq

    heap = [(len(ds), p) for p, ds in remaining.items()]
    heapq.heapify(heap)
    placed: list[str] = []
    done: set[str] = set()
    while heap:
        n, p = heapq.heappop(heap)
        if p in done or n != len(remaining[p]):
            continue  # placed already, or a stale entry
        done.add(p)
        placed.append(p)
        for q in dependents[p]:
            if q not in done:
                remaining[q].discard(p)
                heapq.heappush(heap, (len(remaining[q]), q))
    return placed


def cycle_pairs(placed: list[str], deps: dict[str, set[str]]) -> list[tuple[str, str]]:
    """``(importer, imported)`` pairs where the imported file comes later (cycles only)."""
    pos = {p: i for i, p in enumerate(placed)}
    return sorted((a, b) for a in placed for b in deps.get(a, ()) if b in pos and pos[b] > pos[a])
