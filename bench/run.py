"""Run every benchmark in bench/ one after another, print their tables, and write them with
the machine's notes to bench/results/latest.md (`make bench`). docs/benchmarks.md quotes them.

    .venv/bin/python bench/run.py [--quick] [--only bigfile.py repeats.py]

`--quick` runs the long job with 20,000 characters instead of 200,000, and fairness.py's long
jobs with 10,000 instead of 100,000 (minutes, not most of an hour, on 2 cores).
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

SCRIPTS: tuple[tuple[str, ...], ...] = (
    ("engines.py",),
    ("pace.py",),
    ("memory.py",),
    ("web.py",),
    ("repeats.py",),
    ("bigfile.py",),
    ("longjob.py",),
    ("levels.py",),
    ("loudness.py",),
    ("scaleout.py",),
    ("fairness.py",),
    ("books.py",),
)


def machine() -> str:
    memory = "?"
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            memory = f"{int(line.split()[1]) / (1 << 20):.0f} GiB"
    system = platform.platform()
    release = Path("/etc/os-release")
    if release.is_file():
        for line in release.read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                system = line.split("=", 1)[1].strip('"')
    return (
        f"{os.cpu_count()} cores, {memory}, {system}, Python {platform.python_version()}; "
        "a shared machine where other work may run at the same time, so compare ratios "
        "(measured side by side in one run) rather than absolute numbers."
    )


def run(command: list[str]) -> str:
    """Run one script, echoing its output as it comes; returns the output."""
    lines = []
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as process:
        assert process.stdout is not None
        for line in process.stdout:
            print(line, end="", flush=True)
            lines.append(line)
    if process.returncode:
        raise SystemExit(f"{' '.join(command)} failed with exit code {process.returncode}")
    return "".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="shorter long jobs")
    parser.add_argument("--only", nargs="+", metavar="SCRIPT", help="run only these scripts")
    args = parser.parse_args()
    here = Path(__file__).parent
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    sections = [
        "# Latest benchmark results\n",
        f"Written by `make bench` (bench/run.py) on {when}.",
        f"Machine: {machine()}\n",
    ]
    for script, *extra in SCRIPTS:
        if args.only and script not in args.only:
            continue
        if script == "longjob.py" and args.quick:
            extra = ["--chars", "20000"]
        if script == "fairness.py" and args.quick:
            extra = ["--quick"]
        if script == "books.py" and args.quick:
            extra = ["--chars", "20000", "--workers", "1,2"]
        shown = " ".join([".venv/bin/python", f"bench/{script}", *extra])
        print(f"\n## {shown}\n", flush=True)
        output = run([sys.executable, str(here / script), *extra])
        sections.append(f"## {script}\n\n`{shown}`\n\n```\n{output.rstrip()}\n```\n")
    results = here / "results"
    results.mkdir(exist_ok=True)
    (results / "latest.md").write_text("\n".join(sections), encoding="utf-8")
    print(f"\nwritten to {results / 'latest.md'}")


if __name__ == "__main__":
    main()
