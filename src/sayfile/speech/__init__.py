"""Speech from a request: the plan (`plan.py`: what a request means), cutting it into pieces
(`pieces.py`), each piece's audio (`piece_audio.py`), the ordered pipeline (`pipeline.py`,
`in_order.py`), where the encoded audio goes (`outputs.py`), the synthesizer that ties them
(`synthesizer.py`), the sentence executor's fair turns, loudness levels and each voice's pace.

May import: text/, voices/, engines/, audio/ and the shared top-level modules; never books/,
the jobs or anything above them."""
