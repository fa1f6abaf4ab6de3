"""Audio as bytes and files: the format table and encoders, joining finished files without
encoding again, chapter marks and tags in finished files, remuxing's threads, and the timings
of what is said (captions).

May import only the shared top-level modules."""
