"""The languages a doctor may say they speak: ISO 639-1 codes and their English names.

A fixed list of the languages patients most often ask for, not all 184 codes: a short list
is easy to pick from. A code missing here is added here, and every page and the API offer it.
The API names them in English; pages in the reader's language (Babel's CLDR names: 'inglés').
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

from babel import Locale
from flask_babel import gettext

from app.services.errors import InvalidInput
from app.services.l10n import locale_code

LANGUAGES: dict[str, str] = {
    "ar": "Arabic",
    "bn": "Bengali",
    "bg": "Bulgarian",
    "zh": "Chinese",
    "hr": "Croatian",
    "cs": "Czech",
    "da": "Danish",
    "nl": "Dutch",
    "en": "English",
    "fa": "Persian",
    "fi": "Finnish",
    "fr": "French",
    "de": "German",
    "el": "Greek",
    "gu": "Gujarati",
    "he": "Hebrew",
    "hi": "Hindi",
    "hu": "Hungarian",
    "id": "Indonesian",
    "ga": "Irish",
    "it": "Italian",
    "ja": "Japanese",
    "ko": "Korean",
    "ms": "Malay",
    "no": "Norwegian",
    "pa": "Punjabi",
    "pl": "Polish",
    "pt": "Portuguese",
    "ro": "Romanian",
    "ru": "Russian",
    "sr": "Serbian",
    "so": "Somali",
    "es": "Spanish",
    "sw": "Swahili",
    "sv": "Swedish",
    "tl": "Tagalog",
    "ta": "Tamil",
    "th": "Thai",
    "tr": "Turkish",
    "uk": "Ukrainian",
    "ur": "Urdu",
    "vi": "Vietnamese",
    "cy": "Welsh",
    "yo": "Yoruba",
}
# More than this many on one profile is a mistake, not a polyglot.
MAX_LANGUAGES = 12


def language_choices() -> list[tuple[str, str]]:
    """(code, name) of every language offered, by name in the reader's language."""
    return sorted(
        ((code, local_language_name(code)) for code in LANGUAGES),
        key=lambda item: strxfrm_key(item[1]),
    )


def language_name(code: str) -> str:
    """The English name (the API's)."""
    return LANGUAGES.get(code, code)


def local_language_name(code: str) -> str:
    """The name in the language being rendered: 'Spanish' in English, 'español' in Spanish."""
    language = locale_code()
    if language == "en" or code not in LANGUAGES:
        return language_name(code)
    return Locale.parse(language).languages.get(code) or language_name(code)


def strxfrm_key(name: str) -> str:
    """Sort 'árabe' with the a's, not after 'zulú'."""
    return unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()


def language_names(codes: Iterable[str]) -> list[str]:
    """Names to show, by name: ["en", "es"] -> ["English", "Spanish"] (in Spanish: ["español",
    "inglés"])."""
    return sorted((local_language_name(code) for code in codes), key=strxfrm_key)


def check_language(code: str, field: str = "language") -> str:
    """A known code, lower-cased. Raises InvalidInput."""
    clean = (code or "").strip().lower()
    if clean not in LANGUAGES:
        raise InvalidInput(
            gettext(
                "%(code)r is not a language we list: use an ISO 639-1 code such as en or es.",
                code=code,
            ),
            field=field,
        )
    return clean


def check_languages(codes: Iterable[str], field: str = "languages") -> list[str]:
    """Known codes, each once, sorted. Raises InvalidInput."""
    clean = sorted({check_language(code, field) for code in codes})
    if len(clean) > MAX_LANGUAGES:
        raise InvalidInput(
            gettext("Choose at most %(MAX_LANGUAGES)s languages.", MAX_LANGUAGES=MAX_LANGUAGES),
            field=field,
        )
    return clean
