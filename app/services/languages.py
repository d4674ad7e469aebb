"""The languages a doctor may say they speak: ISO 639-1 codes and their English names.

A fixed list of the languages patients most often ask for, not all 184 codes: a short list
is easy to pick from, and Babel's locale data (the full list) would be a large dependency for
one select. A code missing here is added here, and every page and the API offer it.
"""

from __future__ import annotations

from collections.abc import Iterable

from app.services.errors import InvalidInput

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
    """(code, name) of every language offered, by name."""
    return sorted(LANGUAGES.items(), key=lambda item: item[1])


def language_name(code: str) -> str:
    return LANGUAGES.get(code, code)


def language_names(codes: Iterable[str]) -> list[str]:
    """Names to show, by name: ["en", "es"] -> ["English", "Spanish"]."""
    return sorted(language_name(code) for code in codes)


def check_language(code: str, field: str = "language") -> str:
    """A known code, lower-cased. Raises InvalidInput."""
    clean = (code or "").strip().lower()
    if clean not in LANGUAGES:
        raise InvalidInput(
            f"{code!r} is not a language we list: use an ISO 639-1 code such as en or es.",
            field=field,
        )
    return clean


def check_languages(codes: Iterable[str], field: str = "languages") -> list[str]:
    """Known codes, each once, sorted. Raises InvalidInput."""
    clean = sorted({check_language(code, field) for code in codes})
    if len(clean) > MAX_LANGUAGES:
        raise InvalidInput(f"Choose at most {MAX_LANGUAGES} languages.", field=field)
    return clean
