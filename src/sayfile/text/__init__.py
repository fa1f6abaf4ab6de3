"""Text as it will be said: clean-up and sentences, Markdown and HTML as a reader sees them,
SSML and its say-as, pronunciation lexicons, per-language normalisation, the language of
unlabelled sentences, and the encodings of text files.

May import: voices/, engines/, audio/ and the shared modules at the package's top
(errors, models, settings...). Never speech/, books/ or anything above them."""
