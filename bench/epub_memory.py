"""Peak memory of reading a picture-heavy EPUB into chapters (issue 21): sayfile's reader, which
unpacks only the package, navigation and text documents, against ebooklib's `read_epub`, which
the reader used before and which unpacks every item of the manifest, pictures too.

The book is built at run time: tests/data/moby-dick-epub3.epub with N MiB of pictures added
(random bytes stored as JPEG members listed in the manifest, the way real EPUBs store
pictures, uncompressed; 1 MiB each). Each reader runs in a fresh process that imports both
readers, reads the file's bytes (the upload, which both are given), then reads the book; the
figure is the process's peak RSS (VmHWM) less its RSS once the bytes are loaded, so it is what
reading the book itself costs.

    PYTHONPATH=src .venv/bin/python bench/epub_memory.py --mib 8 --mib 190
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

SAMPLE = Path(__file__).resolve().parent.parent / "tests" / "data" / "moby-dick-epub3.epub"

_CHILD = """
import io, sys
from pathlib import Path

def rss(field):
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field):
            return int(line.split()[1]) * 1024
    raise RuntimeError(field)

from ebooklib import epub
from sayfile.books.reading import open_book

data = Path(sys.argv[2]).read_bytes()
base = rss("VmRSS:")
if sys.argv[1] == "sayfile":
    chapters = open_book(data, "book.epub").chapters
    held = 0
else:
    book = epub.read_epub(io.BytesIO(data), {"ignore_ncx": True})
    chapters = list(book.get_items())
    held = sum(len(item.get_content() or b"") for item in chapters)
print(rss("VmHWM:") - base, len(chapters), held)
"""


def build(path: Path, mib: int) -> None:
    names = [f"images/plate-{number:03d}.jpg" for number in range(mib)]
    items = "".join(
        f'<item id="plate{n}" href="{name}" media-type="image/jpeg"/>'
        for n, name in enumerate(names)
    )
    with zipfile.ZipFile(SAMPLE) as source, zipfile.ZipFile(path, "w") as book:
        for member in source.infolist():
            content = source.read(member)
            if member.filename.endswith(".opf"):
                # The pictures are in the manifest, as a book's pictures are.
                content = content.replace(b"</manifest>", items.encode() + b"</manifest>")
            book.writestr(member, content)
        for name in names:
            book.writestr(f"OPS/{name}", os.urandom(1 << 20))


def measure(reader: str, path: Path) -> int:
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, reader, str(path)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return int(out[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mib", type=int, action="append", help="MiB of pictures (repeatable)")
    args = parser.parse_args()
    print("| pictures | EPUB size | sayfile reader | ebooklib read_epub |")
    print("|---|---|---|---|")
    with tempfile.TemporaryDirectory() as folder:
        for mib in args.mib or [8, 190]:
            path = Path(folder) / f"book-{mib}.epub"
            build(path, mib)
            ours = measure("sayfile", path)
            theirs = measure("ebooklib", path)
            size = path.stat().st_size / 2**20
            cells = [f"{mib} MiB", f"{size:.1f} MiB", f"{ours / 2**20:.1f} MiB"]
            print(f"| {' | '.join(cells)} | {theirs / 2**20:.1f} MiB |")
            path.unlink()


if __name__ == "__main__":
    main()
