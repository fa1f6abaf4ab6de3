"""The voices: the catalogue across engines (choosing by id or by language), OpenAI's voice
and model names, and languages' own names.

May import: text/ (the language of a text), engines/, audio/ and the shared top-level
modules."""
