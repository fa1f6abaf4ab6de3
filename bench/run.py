"""Run every benchmark in bench/ one after another and print their tables (`make bench`)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCRIPTS = ("engines.py", "memory.py", "web.py", "scaleout.py")


def main() -> None:
    here = Path(__file__).parent
    for script in SCRIPTS:
        print(f"\n## {script}\n", flush=True)
        subprocess.run([sys.executable, str(here / script)], check=True)


if __name__ == "__main__":
    main()
