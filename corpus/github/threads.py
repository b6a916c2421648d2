"""GitHub issues, pull requests and commits of one repository → linked threads → documents.

Input shapes: issues and pull requests as the GitHub CLI exports them (``gh issue/pr list
--json ...``: ``number``, ``title``, ``body``, ``author{login,name,is_bot}``, ``createdAt``,
``comments[]``; pull requests also ``reviews[]``, ``commits[{oid, authors[{login,name,email}]}]``,
``mergeCommit{oid}``, ``files[]``, ``state``); commits as JSON objects ``sha, parents, author,
authored, committer, committed, message, diff, diff_truncated`` (``git show --stat --patch``).

Linking (:func:`link`): a pull request and the issues it references (``fixes/closes/resolves
#N``, bare ``#N``, full ``github.com/<owner>/<repo>/issues/N`` or ``/pull/N`` URLs, in either
direction) form one thread — connected components over issue–PR references; a pull request
takes its commits (``commits[].oid``) and its merge commit; a commit outside every pull request
joins the thread of an issue or PR its message references, else it stands alone.

Rendering (:func:`render`): one document per thread, in time order — the issues (title, body,
comments), then each pull request (title, body, reviews and comments interleaved by time) with
its commits as ``git show``-style text (header, indented message, stat and unified diff). Bot
comments and reviews are dropped; lock-file and binary patches are replaced by a marker; a
file's patch over ``max_file_diff_lines`` lines, a commit's diff over ``max_diff_chars`` and a
comment over ``max_comment_chars`` are cut with a visible marker (StarCoder's issue pass cut
long comments the same way). Usernames, their display names and ``@mentions`` become
``username_0``, ``username_1`` … per thread in order of appearance (StarCoder's convention), and
e-mail addresses, IP addresses and key-like secrets are redacted (:mod:`corpus.text.pii`).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from corpus.text import pii

BOTS = {
    "codecov",
    "codecov-io",
    "codecov-commenter",
    "dependabot",
    "dependabot-preview",
    "github-actions",
    "renovate",
    "coveralls",
    "allcontributors",
    "stale",
    "mergify",
    "netlify",
    "vercel",
    "sonarcloud",
    "pre-commit-ci",
}
"""Accounts whose comments are dropped besides ``*[bot]`` logins and ``is_bot`` authors."""
SERVICE_IDENTITIES = {"github", "web-flow", "github enterprise", "gitlab"}
"""Committer names of a hosting service (commits made in the web UI): not people, not replaced."""

LOCK_FILES = re.compile(
    r"(^|/)(package-lock\.json|yarn\.lock|pnpm-lock\.yaml|Cargo\.lock|poetry\.lock|Pipfile\.lock|go\.sum|"
    r"composer\.lock|Gemfile\.lock|uv\.lock|pdm\.lock|flake\.lock|mix\.lock|pubspec\.lock|packages\.lock\.json)$"
)
_CLOSING = r"(?:close[sd]?|fix(?:e[sd])?|resolve[sd]?)"
_REF = re.compile(r"(?<![\w/&])#(\d+)\b")
_URL = re.compile(r"https?://github\.com/([\w.-]+)/([\w.-]+)/(?:issues|pull)/(\d+)")


@dataclass(frozen=True)
class Limits:
    max_comment_chars: int = 8_000
    max_file_diff_lines: int = 400
    max_diff_chars: int = 60_000


@dataclass
class Thread:
    """One linked group: issue and PR numbers, commit shas (each in time order)."""

    issues: list[int] = field(default_factory=list)
    prs: list[int] = field(default_factory=list)
    commits: list[str] = field(default_factory=list)

    @property
    def key(self) -> str:
        if self.prs or self.issues:
            return "thread:" + ",".join([f"pr{n}" for n in self.prs] + [f"issue{n}" for n in self.issues])
        return "commit:" + self.commits[0]


def _login(author: Any) -> str | None:
    return author.get("login") if isinstance(author, dict) else None


def is_bot(author: Any) -> bool:
    """A bot account: GitHub's ``is_bot`` flag, a ``*[bot]`` login, or a known CI/service bot."""
    login = (_login(author) or "").lower()
    return bool(isinstance(author, dict) and author.get("is_bot")) or login.endswith("[bot]") or login in BOTS


def references(text: str, repo: str | None) -> set[int]:
    """Issue/PR numbers ``text`` refers to: ``#N`` (closing keywords included) and GitHub URLs
    of the same repository (``owner/name``; any repository when ``repo`` is None)."""
    refs = {int(n) for n in _REF.findall(text or "")}
    for owner, name, n in _URL.findall(text or ""):
        if repo is None or f"{owner}/{name}".lower() == repo.lower():
            refs.add(int(n))
    return refs


def _texts(item: dict[str, Any]) -> list[str]:
    out = [item.get("title") or "", item.get("body") or ""]
    out += [c.get("body") or "" for c in item.get("comments") or [] if not is_bot(c.get("author"))]
    out += [r.get("body") or "" for r in item.get("reviews") or [] if not is_bot(r.get("author"))]
    return out


class _Union:
    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, x: str) -> str:
        self.parent.setdefault(x, x)
        while self.parent[x] != x:
            self.parent[x] = self.parent[self.parent[x]]
            x = self.parent[x]
        return x

    def union(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def link(
    issues: dict[int, dict], prs: dict[int, dict], commits: dict[str, dict], repo: str | None = None
) -> list[Thread]:
    """Threads covering every issue, PR and commit exactly once (see the module docstring).
    Threads come sorted by their first item's time, ties by key."""
    u = _Union()
    node = {**{n: f"i{n}" for n in issues}, **{n: f"p{n}" for n in prs}}  # PR numbers win a clash
    for n in issues:
        u.find(f"i{n}")
    for n, pr in prs.items():
        u.find(f"p{n}")
        for ref in references(" ".join(_texts(pr)), repo):
            if ref in issues and ref != n:
                u.union(f"p{n}", f"i{ref}")
        for c in pr.get("commits") or []:
            if c.get("oid") in commits:
                u.union(f"p{n}", f"c{c['oid']}")
        merge = (pr.get("mergeCommit") or {}).get("oid")
        if merge in commits:
            u.union(f"p{n}", f"c{merge}")
    for n, issue in issues.items():
        for ref in references(" ".join(_texts(issue)), repo):
            if ref in prs and ref != n:
                u.union(f"i{n}", f"p{ref}")
    for sha, commit in commits.items():
        c = f"c{sha}"
        if u.find(c) == c:  # not in any pull request: follow its message's references
            for ref in sorted(references(commit.get("message") or "", repo)):
                if ref in node:
                    u.union(c, node[ref])
                    break
    groups: dict[str, Thread] = {}
    for n in sorted(issues, key=lambda n: (issues[n].get("createdAt") or "", n)):
        groups.setdefault(u.find(f"i{n}"), Thread()).issues.append(n)
    for n in sorted(prs, key=lambda n: (prs[n].get("createdAt") or "", n)):
        groups.setdefault(u.find(f"p{n}"), Thread()).prs.append(n)
    for sha in sorted(commits, key=lambda s: (commits[s].get("committed") or "", s)):
        groups.setdefault(u.find(f"c{sha}"), Thread()).commits.append(sha)

    def first(t: Thread) -> str:
        times = [issues[n].get("createdAt") or "" for n in t.issues] + [
            prs[n].get("createdAt") or "" for n in t.prs
        ]
        times += [commits[s].get("committed") or "" for s in t.commits]
        return min(times)

    return sorted(groups.values(), key=lambda t: (first(t), t.key))


def _cut(text: str, limit: int, what: str) -> str:
    if len(text) <= limit:
        return text
    return text[:limit] + f"\n[... {what} cut: {len(text) - limit:,} more characters ...]"


def format_diff(diff: str, limits: Limits, truncated_at_source: bool = False) -> str:
    """A commit's ``--stat --patch`` text with lock-file and binary patches replaced by a marker
    and long patches cut (markers say what was cut)."""
    head, *files = re.split(r"(?m)^(?=diff --git )", diff)
    out = [head]
    for f in files:
        first = f.split("\n", 1)[0]
        path = first.rsplit(" b/", 1)[-1]
        if LOCK_FILES.search(path):
            out.append(f"{first}\n[lock file diff omitted]\n")
        elif "\nGIT binary patch\n" in f or re.search(r"(?m)^Binary files .* differ$", f):
            out.append(f"{first}\n[binary diff omitted]\n")
        else:
            lines = f.splitlines(keepends=True)
            if len(lines) > limits.max_file_diff_lines:
                more = len(lines) - limits.max_file_diff_lines
                lines = lines[: limits.max_file_diff_lines] + [
                    f"[... {more:,} more lines of this diff cut ...]\n"
                ]
            out.append("".join(lines))
    text = _cut("".join(out), limits.max_diff_chars, "diff")
    if truncated_at_source:
        text += "\n[diff truncated in the source export]"
    return text


def render_commit(commit: dict[str, Any], limits: Limits) -> str:
    """``git show``-style text: header, message indented by four spaces, then the diff."""
    message = "\n".join(
        ("    " + line) if line else "" for line in (commit.get("message") or "").splitlines()
    )
    header = f"commit {commit['sha']}\nAuthor: {commit.get('author') or 'unknown'}\nDate:   {commit.get('authored') or ''}"
    diff = format_diff(commit.get("diff") or "", limits, bool(commit.get("diff_truncated")))
    return f"{header}\n\n{message}\n\n{diff}".rstrip() + "\n"


def _discussion(item: dict[str, Any], limits: Limits) -> list[str]:
    """Body, then comments and reviews interleaved by time (bots dropped)."""
    parts = []
    author = _login(item.get("author")) or "ghost"
    body = _cut((item.get("body") or "").strip(), limits.max_comment_chars, "comment")
    if body:
        parts.append(f"{author}: {body}")
    events = [(c.get("createdAt") or "", "commented", c) for c in item.get("comments") or []]
    events += [
        (r.get("submittedAt") or "", f"reviewed ({r.get('state', '').lower()})", r)
        for r in item.get("reviews") or []
    ]
    for _, verb, e in sorted(events, key=lambda x: x[0]):
        if is_bot(e.get("author")):
            continue
        text = _cut((e.get("body") or "").strip(), limits.max_comment_chars, "comment")
        if text or verb != "commented":
            parts.append(f"{_login(e.get('author')) or 'ghost'} {verb}:" + (f"\n{text}" if text else ""))
    return parts


def people(
    issues: list[dict], prs: list[dict], commits: list[dict], repo: str | None
) -> list[tuple[str, list[str]]]:
    """``(login or name, [strings naming that person])`` in order of first appearance; the
    repository's owner first (its login is part of the repository name and of URLs)."""
    found: dict[str, list[str]] = {}
    names: dict[str, str] = {}  # display name -> login

    def add(login: str | None, *aliases: str | None) -> None:
        if not login:
            return
        key = login.lower()
        entry = found.setdefault(key, [login])
        for a in aliases:
            if a and a not in entry:
                entry.append(a)
                names.setdefault(a, key)

    def actor(a: Any) -> None:
        if isinstance(a, dict):
            add(a.get("login"), a.get("name"))

    if repo and "/" in repo:
        add(repo.split("/", 1)[0])
    for item in [*issues, *prs]:
        actor(item.get("author"))
        for c in item.get("comments") or []:
            actor(c.get("author"))
        for r in item.get("reviews") or []:
            actor(r.get("author"))
        for c in item.get("commits") or []:
            for a in c.get("authors") or []:
                actor(a)
        actor(item.get("mergedBy"))
    for c in commits:
        for who in (c.get("author"), c.get("committer")):
            if who and who not in names and who.lower() not in SERVICE_IDENTITIES:
                add(who, who)
    return list(found.items())


def _alias_patterns(alias: str) -> list[re.Pattern[str]]:
    mention = re.compile(rf"(?<=@){re.escape(alias)}(?![\w-])", re.I)
    if len(alias) < 3:  # too likely to be ordinary text as a word: @mentions and author labels
        label = re.compile(rf"(?m)^{re.escape(alias)}(?=: | commented:| reviewed \()")
        return [mention, label]
    return [mention, re.compile(rf"(?<![\w-]){re.escape(alias)}(?![\w-])", re.I)]


def anonymise(text: str, people: list[tuple[str, list[str]]]) -> tuple[str, int]:
    """Every login, display name and ``@mention`` of a person → ``username_N``, numbered in the
    order of ``people`` among those who occur in ``text`` (so ``username_0`` is the first
    person of the thread); returns the text and how many people were replaced. Logins shorter
    than three characters are replaced only as ``@mentions`` and as the author labels the
    renderer writes (``ab commented:``)."""
    numbered: dict[str, str] = {}
    for key, aliases in people:
        if key not in numbered and any(p.search(text) for a in aliases for p in _alias_patterns(a)):
            numbered[key] = f"username_{len(numbered)}"
    pairs = [(a, numbered[k]) for k, aliases in people if k in numbered for a in aliases]
    for alias, placeholder in sorted(pairs, key=lambda p: -len(p[0])):  # "Gavin D. Howard" before "Gavin"
        for pattern in _alias_patterns(alias):
            text = pattern.sub(placeholder, text)
    return text, len(numbered)


@dataclass
class Rendered:
    text: str
    redactions: Counter[str]
    usernames: int


def render(
    thread: Thread,
    issues: dict[int, dict],
    prs: dict[int, dict],
    commits: dict[str, dict],
    repo: str | None,
    limits: Limits = Limits(),
    everyone: list[tuple[str, list[str]]] | None = None,
) -> Rendered:
    """One thread as one document (see the module docstring). ``everyone``: the people of the
    whole repository (:func:`people`), so a name quoted from another thread (a diff of an
    exported issue list, a mention) is replaced too."""
    parts = [f"Repository: {repo}"] if repo else []
    for n in thread.issues:
        issue = issues[n]
        state = (issue.get("state") or "").lower()
        parts.append(f"Issue #{n}: {issue.get('title') or ''}" + (f" [{state}]" if state else ""))
        parts += _discussion(issue, limits)
    in_prs: set[str] = set()
    for n in thread.prs:
        pr = prs[n]
        state = (pr.get("state") or "").lower()
        parts.append(f"Pull request #{n}: {pr.get('title') or ''}" + (f" [{state}]" if state else ""))
        parts += _discussion(pr, limits)
        shas = [c.get("oid") for c in pr.get("commits") or []] + [(pr.get("mergeCommit") or {}).get("oid")]
        for sha in shas:
            if sha in commits and sha in thread.commits and sha not in in_prs:
                in_prs.add(sha)
                parts.append(render_commit(commits[sha], limits))
    parts += [render_commit(commits[s], limits) for s in thread.commits if s not in in_prs]
    here = people(
        [issues[n] for n in thread.issues],
        [prs[n] for n in thread.prs],
        [commits[s] for s in thread.commits],
        repo,
    )
    merged = dict(here)  # thread people first (their numbers), with every alias the repository knows
    for key, aliases in everyone or []:
        merged[key] = merged.get(key, []) + [a for a in aliases if a not in merged.get(key, [])]
    here = list(merged.items())
    text, counts = pii.redact("\n\n".join(p.rstrip("\n") for p in parts) + "\n")
    text, n_people = anonymise(text, here)
    return Rendered(text, counts, n_people)
