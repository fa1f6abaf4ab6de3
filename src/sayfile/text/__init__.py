"""Text as it will be said: clean-up and sentences, Markdown and HTML as a reader sees them,
SSML and its say-as, pronunciation lexicons, per-language normalisation, the language of
unlabelled sentences, and the encodings of text files.

May import: engines/, audio/ and the shared modules at the package's top (errors, models,
settings...). Never voices/ (language detection takes the catalogue as a small protocol, so
the voices may ask a text's language), speech/, books/ or anything above them."""
