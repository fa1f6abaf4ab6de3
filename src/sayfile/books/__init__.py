"""Books before they are spoken: EPUB, Markdown and text read into chapters (with what an EPUB
says about itself), and a book cut into parts with its folder and manifest. `reading` is the
one way in; `epub`, `markdown_book` and `text_book` read each kind into a `chapters` draft.
A finished book written as a read-along EPUB: `read_along`, `read_along_epub`.

May import: text/, audio/ and the shared top-level modules."""
