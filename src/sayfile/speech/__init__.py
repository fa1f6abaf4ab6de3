"""Speech from a request: the plan (what a request means), the synthesizer (pieces through an
engine in order, levelled and encoded), the sentence executor's fair turns, loudness levels and
each voice's pace.

May import: text/, voices/, engines/, audio/ and the shared top-level modules; never books/,
the jobs or anything above them."""
