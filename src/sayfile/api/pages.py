"""GET /: the page people use, in the visitor's language. Works without JavaScript (Download
is a plain form post); app.js adds links with progress, a preview and recent links."""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates

from sayfile.api import interface_languages as languages
from sayfile.audio.formats import BOOK_FORMATS, FORMATS
from sayfile.errors import SayfileError
from sayfile.models import Quality, Voice
from sayfile.text.language_tags import primary
from sayfile.text.markup import TEXT_FORMATS
from sayfile.voices.language_names import own_name

router = APIRouter(include_in_schema=False)

# "Listen" previews text up to this long: a preview should start in about a second.
PREVIEW_CHARS = 300
_COOKIE_SECONDS = 365 * 24 * 3600


@dataclass(frozen=True)
class LanguageGroup:
    """One language (a primary tag) as the picker shows it: its own name, whether a neural
    voice speaks it, and its voices (neural first)."""

    tag: str
    label: str
    neural: bool
    voices: list[Voice]


def _label(tag: str, voices: list[Voice]) -> str:
    # The table of own names first; a language it lacks is named as espeak-ng names its voice
    # (in English), else shown as its tag. app.js names those in their own words where the
    # browser knows them.
    named = own_name(tag)
    if named:
        return named
    for voice in voices:
        if voice.engine == "espeak":
            return voice.name.split("(")[0].strip() or tag
    return tag


def language_groups(voices: list[Voice]) -> list[LanguageGroup]:
    """Voices grouped by primary language; the languages with a neural voice first, each
    part by name. Voices that speak their language badly (`auto` False: espeak-ng's
    Mandarin, which reads Chinese text's Latin letters as English or pinyin) are left out:
    the API still takes them by id."""
    by_tag: dict[str, list[Voice]] = defaultdict(list)
    for voice in voices:
        if voice.auto:
            by_tag[primary(voice.language)].append(voice)
    groups = []
    for tag, members in by_tag.items():
        ordered = sorted(members, key=lambda v: (-v.quality, v.language, v.name))
        neural = ordered[0].quality == Quality.neural
        groups.append(LanguageGroup(tag, _label(tag, members), neural, ordered))
    return sorted(groups, key=lambda g: (not g.neural, g.label.casefold(), g.tag))


def _speech_language(request: Request, lang: str) -> str:
    """The language tag preselected for a visitor who has chosen none (see SPEECH_LANGUAGE)."""
    wanted = languages.SPEECH_LANGUAGE.get(lang)
    if not wanted:
        return ""
    try:
        return primary(request.app.state.services.catalogue.voice(language=wanted).language)
    except SayfileError:
        return ""


def page_language(request: Request) -> str:
    return languages.choose_language(
        request.query_params.get("lang"),
        request.cookies.get(languages.COOKIE),
        request.headers.get("accept-language"),
    )


def render_page(
    request: Request,
    *,
    status: int = 200,
    error: str | None = None,
    code: str | None = None,
    form: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """The page, optionally with an error (its `code` picks the plain-words lead in the page's
    language, `error` is the detail) and the user's input kept in the form."""
    templates: Jinja2Templates = request.app.state.templates
    settings = request.app.state.settings
    lang = page_language(request)
    words = languages.words(lang)
    catalogue = request.app.state.services.catalogue
    default = catalogue.voice()
    kept = dict(form or {})
    if not form:
        kept["language"] = _speech_language(request, lang)
    app_data = {
        "lang": lang,
        "messages": words,
        "limits": {
            "direct": settings.max_chars_direct,
            "job": settings.max_chars_job,
            "preview": PREVIEW_CHARS,
        },
        "default_voice": {"name": default.name, "neural": default.quality == Quality.neural},
    }
    return templates.TemplateResponse(
        request,
        "index.html",
        {
            "lang": lang,
            "t": words,
            "switch": [(tag, languages.LANGUAGE_NAMES[tag]) for tag in languages.LANGUAGES],
            "groups": [
                # A language's own name in the page's script: 中文（普通話） on Taiwan's page.
                dataclasses.replace(group, label=languages.written(lang, group.label))
                for group in language_groups(catalogue.voices())
            ],
            "neural": Quality.neural,
            "default_voice": default,
            "formats": list(FORMATS),
            "book_formats": list(BOOK_FORMATS),
            "text_formats": list(TEXT_FORMATS),
            "form": kept,
            "kept": bool(form),
            "error": error,
            "error_lead": words.get(f"error_{code}") if code else None,
            "max_chars": settings.max_chars_direct,
            "max_chars_job": settings.max_chars_job,
            "preview_chars": PREVIEW_CHARS,
            "key_required": bool(settings.api_keys),
            "app_data": app_data,
        },
        status_code=status,
        headers={"Content-Language": lang, **(headers or {})},
    )


@router.get("/", response_class=HTMLResponse)
async def index(
    request: Request,
    lang: str | None = Query(
        default=None, description="Interface language: en, zh-CN, zh-TW or zh-HK."
    ),
) -> Response:
    response = render_page(request)
    chosen = languages.supported_language(lang)
    if chosen is not None:
        # The switch is remembered, so a later visit (or a form post's answer) keeps it.
        response.set_cookie(
            languages.COOKIE,
            chosen,
            max_age=_COOKIE_SECONDS,
            path=request.scope.get("root_path", "") or "/",
            samesite="lax",
            httponly=True,
        )
    return response
