"""What the server offers, for the page and GET /voices, /voices/languages and /lexicons: the
voices (best first for a language), the voice a request gets, the languages and the lexicons."""

from __future__ import annotations

from sayfile.models import Voice
from sayfile.speech.synthesizer import Synthesizer
from sayfile.text.language_detection import LanguageVoice


class CatalogueQueries:
    """Answers questions about the voices, languages and lexicons this process has."""

    def __init__(self, synthesizer: Synthesizer) -> None:
        self.synthesizer = synthesizer

    def voices(self, language: str | None = None) -> list[Voice]:
        """The catalogue (best first for `language`)."""
        return self.synthesizer.catalogue.voices(language)

    def voice(self, voice: str | None = None, language: str | None = None) -> Voice:
        """The voice a request naming `voice` or `language` (or neither) gets."""
        return self.synthesizer.catalogue.resolve(voice=voice, language=language)

    async def languages(self) -> list[LanguageVoice]:
        """Each language a voice speaks, the voice its text gets with no hint, whether that
        is neural and whether such text is recognised (the identifier loads off the loop)."""
        return await self.synthesizer.executor.run(self.synthesizer.languages.table)

    def lexicons(self) -> list[dict[str, object]]:
        """The pronunciation lexicons every request gets: each file, its language, entries."""
        return self.synthesizer.lexicon.describe()
