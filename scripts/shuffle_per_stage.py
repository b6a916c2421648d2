"""How much each stage of a pipeline shuffles: runs the pipeline one stage at a time
(``corpus run --only <stage>``, one Spark application each, with Spark's event log on) and
sums the task metrics Spark logged for that application.

    .venv/bin/python scripts/shuffle_per_stage.py pipelines/web.yaml --output /tmp/shuffle/web

Prints per stage: rows in, bytes of the stage's committed shards (kept + removed), shuffle
bytes written and read, and shuffle written per row in. The numbers are Spark's own
(``Shuffle Bytes Written``, ``Remote/Local Bytes Read`` of every ``SparkListenerTaskEnd``).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml


def task_totals(event_log: Path) -> dict[str, int]:
    """Shuffle write / read bytes and records summed over every task of one application
    (``event_log``: a file, or Spark 4's ``eventlog_v2_<app>/`` folder of ``events_*`` files)."""
    totals = dict.fromkeys(("shuffle_write", "shuffle_read", "shuffle_records"), 0)
    files = sorted(event_log.glob("events_*")) if event_log.is_dir() else [event_log]
    for line in (ln for f in files for ln in f.read_text(errors="replace").splitlines()):
        ev = json.loads(line)
        if ev.get("Event") != "SparkListenerTaskEnd":
            continue
        m = ev.get("Task Metrics") or {}
        w = m.get("Shuffle Write Metrics") or {}
        r = m.get("Shuffle Read Metrics") or {}
        totals["shuffle_write"] += w.get("Shuffle Bytes Written", 0)
        totals["shuffle_records"] += w.get("Shuffle Records Written", 0)
        totals["shuffle_read"] += r.get("Remote Bytes Read", 0) + r.get("Local Bytes Read", 0)
    return totals


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("pipeline")
    ap.add_argument("--output", required=True, help="a fresh output root")
    ap.add_argument("--master", default="local[2]")
    args = ap.parse_args()
    spec = yaml.safe_load(Path(args.pipeline).read_text())
    events = Path(tempfile.mkdtemp(prefix="corpus-events-"))
    spec.setdefault("spark", {}).setdefault("conf", {}).update(
        {
            "spark.eventLog.enabled": "true",
            "spark.eventLog.dir": f"file://{events}",
            "spark.eventLog.compress": "false",
        }
    )
    spec["output"] = args.output
    tmp_yaml = events / "pipeline.yaml"
    tmp_yaml.write_text(yaml.safe_dump(spec, sort_keys=False))
    names = [s.get("name", s["kind"]) for s in spec["stages"]]
    rows = []
    for name in names:
        before = set(events.iterdir())
        subprocess.run(
            [
                sys.executable,
                "-m",
                "corpus.cli",
                "run",
                str(tmp_yaml),
                "--only",
                name,
                "--master",
                args.master,
                "--no-progress",
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        [log] = [p for p in set(events.iterdir()) - before if p.name != "pipeline.yaml"]
        m = json.loads((Path(args.output) / name / "_manifest.json").read_text())
        stored = sum(e["bytes"] for e in m.get("shards", []) + m.get("removed_shards", []))
        rows.append((name, m.get("rows_in") or 0, stored, task_totals(log)))
    print(
        f"{'stage':<14}{'rows in':>9}{'shards (B)':>13}{'shuffle write (B)':>19}{'shuffle read (B)':>18}{'write/row':>11}"
    )
    for name, rows_in, stored, t in rows:
        per_row = t["shuffle_write"] / rows_in if rows_in else 0
        print(
            f"{name:<14}{rows_in:>9,}{stored:>13,}{t['shuffle_write']:>19,}{t['shuffle_read']:>18,}{per_row:>11,.0f}"
        )


if __name__ == "__main__":
    main()
