"""Builds the two small EPUBs in this folder (run from the repository root:
`.venv/bin/python tests/data/make_books.py`): an EPUB 2 shaped as Calibre makes them (a guide,
`<meta name="cover">`, an NCX that lists the title, copyright and contents pages) with the
start of Lu Xun's 《呐喊》 (1923), and an EPUB 3 shaped as IDPF's epub3-samples Moby-Dick
(nav document with landmarks, a `cover-image` item, a brief contents page in the spine) with
the first lines of Herman Melville's Moby-Dick (1851). Both texts are in the public domain."""

from __future__ import annotations

import io
import zipfile
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

HERE = Path(__file__).parent
XHTML = (
    '<?xml version="1.0" encoding="utf-8"?>\n<html xmlns="http://www.w3.org/1999/xhtml" '
    'xmlns:epub="http://www.idpf.org/2007/ops" xml:lang="{lang}"><head><title>{title}</title>'
    "</head><body>{body}</body></html>"
)
CONTAINER = (
    '<?xml version="1.0"?><container version="1.0" '
    'xmlns="urn:oasis:names:tc:opendocument:xmlns:container"><rootfiles>'
    '<rootfile full-path="{opf}" media-type="application/oebps-package+xml"/>'
    "</rootfiles></container>"
)


def cover_jpeg(width: int = 120, height: int = 180) -> bytes:
    """A small JPEG picture (a gradient) for a cover."""
    y, x = np.mgrid[0:height, 0:width]
    rgb = np.stack([x * 2 % 256, y % 256, (x + y) % 256], axis=-1).astype(np.uint8)
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="mjpeg") as output:
        stream = output.add_stream("mjpeg", rate=1)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuvj420p"
        stream.time_base = Fraction(1, 1)
        frame = av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(format="yuvj420p")
        for packet in stream.encode(frame):
            output.mux(packet)
        for packet in stream.encode():
            output.mux(packet)
    return buffer.getvalue()


def write_epub(path: Path, opf: str, files: dict[str, bytes | str]) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(zipfile.ZipInfo("mimetype"), "application/epub+zip")
        archive.writestr("META-INF/container.xml", CONTAINER.format(opf=opf))
        for name, content in files.items():
            archive.writestr(name, content)


NAHAN_PAGES = [
    ("titlepage.xhtml", "封面", '<div><img src="cover.jpeg" alt="封面"/></div>'),
    ("text/part0000.html", "呐喊", "<h1>呐喊</h1><p>鲁迅</p>"),
    (
        "text/part0001.html",
        "版权信息",
        "<h2>版权信息</h2><p>书名：呐喊</p><p>作者：鲁迅</p><p>本书由公版文本整理，版权所有，"
        "侵权必究。</p>",
    ),
    (
        "text/part0002.html",
        "目 录",
        "<h2>目 录</h2><p>自序</p><p>狂人日记</p><p>孔乙己</p>",
    ),
    (
        "text/part0003.html",
        "自序",
        "<h2>自序</h2><p>我在年青时候也曾经做过许多梦，后来大半忘却了，但自己也并不以为可惜。"
        "所谓回忆者，虽说可以使人欢欣，有时也不免使人寂寞，使精神的丝缕还牵着已逝的寂寞的时光，"
        "又有什么意味呢，而我偏苦于不能全忘却，这不能全忘却的一部分，到现在便成了《呐喊》的来由。"
        "</p>",
    ),
    (
        "text/part0004.html",
        "狂人日记",
        "<h2>狂人日记</h2><p>某君昆仲，今隐其名，皆余昔日在中学校时良友；分隔多年，消息渐阙。"
        "日前偶闻其一大病；适归故乡，迂道往访，则仅晤一人，言病者其弟也。</p>"
        "<p>今天晚上，很好的月光。我不见他，已是三十多年；今天见了，精神分外爽快。"
        "才知道以前的三十多年，全是发昏；然而须十分小心。不然，那赵家的狗，何以看我两眼呢？"
        "我怕得有理。</p>",
    ),
]


def nahan() -> None:
    items = "".join(
        f'<item id="p{n}" href="{path}" media-type="application/xhtml+xml"/>'
        for n, (path, _, _) in enumerate(NAHAN_PAGES)
    )
    spine = "".join(f'<itemref idref="p{n}"/>' for n in range(len(NAHAN_PAGES)))
    points = "".join(
        f'<navPoint id="n{n}" playOrder="{n}"><navLabel><text>{title}</text></navLabel>'
        f'<content src="{path}"/></navPoint>'
        for n, (path, title, _) in enumerate(NAHAN_PAGES)
        if n > 0
    )
    opf = (
        '<?xml version="1.0" encoding="utf-8"?><package xmlns="http://www.idpf.org/2007/opf" '
        'unique-identifier="uuid_id" version="2.0"><metadata '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:opf="http://www.idpf.org/2007/opf">'
        "<dc:title>呐喊</dc:title>"
        '<dc:creator opf:file-as="鲁迅" opf:role="aut">鲁迅</dc:creator>'
        '<dc:identifier id="uuid_id" opf:scheme="uuid">0b9ae8a0-1923-4e3c-9a7f-6c1f1d6e0a11'
        "</dc:identifier><dc:language>zh</dc:language>"
        "<dc:date>1923-08-01T00:00:00+00:00</dc:date>"
        '<meta name="calibre:timestamp" content="2019-03-02T10:00:00+00:00"/>'
        '<meta name="cover" content="cover"/></metadata><manifest>'
        f'{items}<item id="cover" href="cover.jpeg" media-type="image/jpeg"/>'
        '<item id="ncx" href="toc.ncx" media-type="application/x-dtbncx+xml"/></manifest>'
        f'<spine toc="ncx">{spine}</spine><guide>'
        '<reference type="cover" title="封面" href="titlepage.xhtml"/>'
        '<reference type="toc" title="目 录" href="text/part0002.html"/></guide></package>'
    )
    ncx = (
        '<?xml version="1.0" encoding="utf-8"?><ncx xmlns="http://www.daisy.org/z3986/2005/ncx/" '
        'version="2005-1" xml:lang="zh"><head/><docTitle><text>呐喊</text></docTitle>'
        f"<navMap>{points}</navMap></ncx>"
    )
    files: dict[str, bytes | str] = {"content.opf": opf, "toc.ncx": ncx, "cover.jpeg": cover_jpeg()}
    for path, title, body in NAHAN_PAGES:
        files[path] = XHTML.format(lang="zh", title=title, body=body)
    write_epub(HERE / "nahan-calibre-epub2.epub", "content.opf", files)


MOBY_PAGES = [
    ("cover.xhtml", None, '<div><img src="images/cover.jpg" alt="Cover"/></div>', "no"),
    (
        "titlepage.xhtml",
        "Moby-Dick",
        "<h1>Moby-Dick</h1><p>or, The Whale</p><p>Herman Melville</p>",
        "yes",
    ),
    (
        "toc-short.xhtml",
        None,
        "<h2>Contents</h2><ol><li>Chapter 1. Loomings.</li><li>Chapter 2. The Carpet-Bag.</li>"
        "</ol>",
        "yes",
    ),
    (
        "chapter_001.xhtml",
        "Chapter 1. Loomings.",
        "<h1>Chapter 1. Loomings.</h1><p>Call me Ishmael. Some years ago, never mind how long "
        "precisely, having little or no money in my purse, and nothing particular to interest "
        "me on shore, I thought I would sail about a little and see the watery part of the "
        "world.</p>",
        "yes",
    ),
    (
        "chapter_002.xhtml",
        "Chapter 2. The Carpet-Bag.",
        "<h1>Chapter 2. The Carpet-Bag.</h1><p>I stuffed a shirt or two into my old carpet-bag, "
        "tucked it under my arm, and started for Cape Horn and the Pacific.</p>",
        "yes",
    ),
    (
        "copyright.xhtml",
        "Copyright Page",
        '<section epub:type="copyright-page"><p>Moby-Dick, by Herman Melville. This edition '
        "is in the public domain.</p></section>",
        "yes",
    ),
]


def moby_dick() -> None:
    items = "".join(
        f'<item id="x{n}" href="{path}" media-type="application/xhtml+xml"/>'
        for n, (path, _, _, _) in enumerate(MOBY_PAGES)
    )
    spine = "".join(
        f'<itemref idref="x{n}" linear="{linear}"/>' for n, (*_, linear) in enumerate(MOBY_PAGES)
    )
    links = "".join(
        f'<li><a href="{path}">{title}</a></li>' for path, title, _, _ in MOBY_PAGES if title
    )
    nav = XHTML.format(
        lang="en",
        title="Moby-Dick",
        body=(
            '<section epub:type="frontmatter toc"><h1>Contents</h1>'
            f'<nav epub:type="toc" id="toc"><ol>{links}</ol></nav>'
            '<nav epub:type="landmarks" id="guide"><ol>'
            '<li><a epub:type="cover" href="cover.xhtml">Cover</a></li>'
            '<li><a epub:type="toc" href="#toc">Table of Contents</a></li>'
            '<li><a epub:type="bodymatter" href="chapter_001.xhtml">Begin Reading</a></li>'
            '<li><a epub:type="copyright-page" href="copyright.xhtml">Copyright Page</a></li>'
            "</ol></nav></section>"
        ),
    )
    opf = (
        '<?xml version="1.0" encoding="UTF-8"?><package xmlns="http://www.idpf.org/2007/opf" '
        'version="3.0" xml:lang="en" unique-identifier="pub-id">'
        '<metadata xmlns:dc="http://purl.org/dc/elements/1.1/">'
        '<dc:title id="title">Moby-Dick</dc:title>'
        '<dc:creator id="creator">Herman Melville</dc:creator>'
        '<meta refines="#creator" property="role" scheme="marc:relators">aut</meta>'
        '<dc:identifier id="pub-id">code.google.com.epub-samples.moby-dick-basic</dc:identifier>'
        "<dc:language>en-US</dc:language><dc:date>1851-10-18</dc:date>"
        '<meta property="dcterms:modified">2012-01-13T12:28:00Z</meta></metadata><manifest>'
        '<item id="toc" properties="nav" href="toc.xhtml" media-type="application/xhtml+xml"/>'
        '<item id="cover-image" properties="cover-image" href="images/cover.jpg" '
        f'media-type="image/jpeg"/>{items}</manifest><spine>{spine}</spine></package>'
    )
    files: dict[str, bytes | str] = {
        "OPS/package.opf": opf,
        "OPS/toc.xhtml": nav,
        "OPS/images/cover.jpg": cover_jpeg(),
    }
    for path, title, body, _ in MOBY_PAGES:
        files[f"OPS/{path}"] = XHTML.format(lang="en", title=title or "Moby-Dick", body=body)
    write_epub(HERE / "moby-dick-epub3.epub", "OPS/package.opf", files)


if __name__ == "__main__":
    nahan()
    moby_dick()
