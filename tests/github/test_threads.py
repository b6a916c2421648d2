"""GitHub threads on the bc project's real export (``../shared/data/github/bc``): linking,
diff-formatted commits, accounting of every item, anonymised usernames and redacted e-mails;
plus the pure rules (diff cuts, PII patterns, mention handling) on text the test writes."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from corpus.github import threads as th
from corpus.text import pii


@pytest.fixture(scope="module")
def bc(shared_data) -> Path:
    folder = shared_data / "github" / "bc"
    if not folder.is_dir():
        pytest.skip("github/bc export absent")
    return folder


def _load(bc: Path):
    issues = {i["number"]: i for i in json.loads((bc / "github_issues.json").read_text())}
    prs = {p["number"]: p for p in json.loads((bc / "github_prs.json").read_text())}
    commits: dict[str, dict] = {}
    for name in ("pr_commits_with_diffs.jsonl", "master_last500_commits_with_diffs.jsonl"):
        for line in (bc / name).read_text().splitlines():
            c = json.loads(line)
            commits.setdefault(c["sha"], c)
    return issues, prs, commits


def _identities(issues, prs, commits) -> tuple[set[str], set[str]]:
    """Every login, display name and e-mail address in the inputs."""
    people, emails = set(), set()

    def actor(a):
        if isinstance(a, dict):
            people.update(x for x in (a.get("login"), a.get("name")) if x)
            if a.get("email"):
                emails.add(a["email"])

    for item in [*issues.values(), *prs.values()]:
        actor(item.get("author"))
        actor(item.get("mergedBy"))
        for c in item.get("comments") or []:
            actor(c.get("author"))
        for r in item.get("reviews") or []:
            actor(r.get("author"))
        for c in item.get("commits") or []:
            for a in c.get("authors") or []:
                actor(a)
    for c in commits.values():
        people.update(x for x in (c.get("author"), c.get("committer")) if x)
        emails.update(re.findall(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", c.get("message") or ""))
    people -= {p for p in people if p.lower() in th.SERVICE_IDENTITIES}  # "GitHub" (web-flow commits)
    return people, emails


def test_bc_threads_through_the_stage(spark, bc, tmp_path):
    import duckdb

    from corpus.engine.manifest import read_manifest
    from corpus.engine.runner import run_stage_for_test

    out = tmp_path / "out"
    m = run_stage_for_test(
        spark, "github_threads", {"repos": [str(bc)], "repo_names": {"bc": "gavinhoward/bc"}}, str(out)
    )
    assert m["rows_in"] == m["rows_kept"] + m["rows_removed"]
    docs = duckdb.sql(
        f"select id, text, issues, prs, commits from '{out}/github_threads/part-*.parquet'"
    ).fetchall()
    issues, prs, commits = _load(bc)

    # every issue, PR and commit in exactly one document (no bot PRs in this export)
    seen = {"issue": [], "pr": [], "commit": []}
    for _, _, i, p, c in docs:
        seen["issue"] += i
        seen["pr"] += p
        seen["commit"] += c
    assert sorted(seen["issue"]) == sorted(issues) and sorted(seen["pr"]) == sorted(prs)
    assert sorted(seen["commit"]) == sorted(commits)
    assert m["rows_removed"] == 0 and read_manifest(str(out / "github_threads"))["metrics"][
        "items_in_documents"
    ] == {
        "issue": len(issues),
        "pr": len(prs),
        "commit": len(commits),
    }

    doc_of_pr = {n: text for _, text, _, p, _ in docs for n in p}
    doc_of_issue = {n: text for _, text, i, _, _ in docs for n in i}
    # every PR whose commits are in the commit files renders with all of their diffs
    checked = 0
    for n, pr in prs.items():
        for c in pr.get("commits") or []:
            if c["oid"] in commits:
                text = doc_of_pr[n]
                assert f"commit {c['oid']}" in text, (n, c["oid"])
                first = re.search(r"(?m)^diff --git .*$", commits[c["oid"]]["diff"])
                if first:
                    assert first.group(0) in text
                checked += 1
    assert checked > 100
    # issues a PR references (closing keyword or bare #N, not in bot comments) share its document
    for n, pr in prs.items():
        bodies = [pr["title"], pr["body"]] + [
            c["body"] for c in pr["comments"] if c["author"]["login"] != "codecov"
        ]
        for ref in re.findall(r"(?<![\w/&])#(\d+)\b", " ".join(bodies)):
            if int(ref) in issues:
                assert doc_of_pr[n] is doc_of_issue[int(ref)] or doc_of_pr[n] == doc_of_issue[int(ref)]
    assert doc_of_issue[43] == doc_of_pr[44], "issue 43 is answered by PR 44"

    # no login, display name or e-mail address of the input survives
    people, emails = _identities(issues, prs, commits)
    assert len(people) > 20 and emails
    for _, text, *_ in docs:
        for who in people:
            if len(who) >= 3:
                assert not re.search(rf"(?<![\w-]){re.escape(who)}(?![\w-])", text, re.I), who
        for email in emails:
            assert email not in text
        assert not re.search(r"[\w.+-]+@[\w-]+\.[A-Za-z]{2,}", text)
    assert "username_0" in doc_of_issue[43] and "<EMAIL>" in "".join(t for _, t, *_ in docs)


def test_diff_cuts_lock_files_binaries_and_long_patches():
    long_patch = "".join(f"+line {i}\n" for i in range(50))
    diff = (
        " 3 files changed\n\n"
        "diff --git a/src/x.c b/src/x.c\n--- a/src/x.c\n+++ b/src/x.c\n@@ -1 +1,50 @@\n"
        + long_patch
        + "diff --git a/Cargo.lock b/Cargo.lock\n--- a/Cargo.lock\n+++ b/Cargo.lock\n@@ -1 +1 @@\n-a\n+b\n"
        + "diff --git a/logo.png b/logo.png\nBinary files a/logo.png and b/logo.png differ\n"
    )
    out = th.format_diff(diff, th.Limits(max_file_diff_lines=10))
    assert "+line 5\n" in out and "+line 20" not in out and "[... 44 more lines of this diff cut ...]" in out
    assert "diff --git a/Cargo.lock b/Cargo.lock\n[lock file diff omitted]" in out
    assert "diff --git a/logo.png b/logo.png\n[binary diff omitted]" in out
    assert th.format_diff(diff, th.Limits(max_diff_chars=100)).count("[... diff cut:") == 1


def test_usernames_are_replaced_by_first_appearance_and_short_logins_only_as_mentions():
    issue = {
        "number": 1,
        "title": "crash",
        "body": "ping @ab and @Carol-X, see carol-x's fork",
        "author": {"login": "Carol-X", "name": "Carol Example"},
        "createdAt": "2024-01-01",
        "comments": [
            {"author": {"login": "ab"}, "body": "ab is also a word: ab", "createdAt": "2024-01-02"},
            {"author": {"login": "dependabot[bot]"}, "body": "bump", "createdAt": "2024-01-03"},
        ],
    }
    thread = th.Thread(issues=[1])
    text = th.render(thread, {1: issue}, {}, {}, None).text
    assert "username_0: ping @username_1 and @username_0, see username_0's fork" in text
    assert "username_1 commented:\nab is also a word: ab" in text
    assert "bump" not in text and "dependabot" not in text


def test_pii_patterns():
    key = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7\n-----END RSA PRIVATE KEY-----"
    text = (
        f"mail jane.doe+x@example.org from 8.8.8.8 (local 192.168.1.4, 127.0.0.1), v1.2.3.4,\n"
        f"token ghp_{'a' * 36} aws AKIAABCDEFGHIJKLMNOP\n{key}\nsha 3f786850e387550fdab836ed7e6dc881de23001b"
    )
    out, counts = pii.redact(text)
    assert counts == {"secret": 3, "email": 1, "ip_address": 1}
    assert "<EMAIL> from <IP_ADDRESS> (local 192.168.1.4, 127.0.0.1), v1.2.3.4" in out
    assert "3f786850e387550fdab836ed7e6dc881de23001b" in out and "PRIVATE KEY" not in out
