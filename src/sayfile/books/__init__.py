"""Books before they are spoken: EPUB, Markdown and text read into chapters (with what an EPUB
says about itself), and a book cut into parts with its folder and manifest.

May import: text/, audio/ and the shared top-level modules."""
