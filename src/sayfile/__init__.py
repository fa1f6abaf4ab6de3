"""sayfile: text in, audio file out, offline."""

__version__ = "0.1.0"
