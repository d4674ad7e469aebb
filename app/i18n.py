"""Languages: which one a page, an email or a text is in, and the footer's switch.

English is the source language (the msgids); translations/<code>/LC_MESSAGES/messages.po holds
the others (`make extract` updates them from the sources, `make translations` compiles them;
the compiled .mo files are committed and tests/unit/test_translations.py checks both are
complete and current).

A page's language is, in order: the account's setting (User.locale), the visitor's choice in
the footer (a cookie, for visitors who are not signed in), the best match of the browser's
Accept-Language, English. The JSON API is for integrators and stays in English. Mail and texts
leave outside the recipient's request: they use `recipient_locale(user)`, the account's
setting, else the language the browser asked for when the person last signed in.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

from flask import Flask, has_request_context, request
from flask_babel import Babel, force_locale, get_locale, gettext, refresh
from flask_babel.speaklater import LazyString
from flask_login import current_user
from markupsafe import escape

DEFAULT_LOCALE = "en"
# The languages Carebook speaks, each in its own words (the footer switch, the account page).
LANGUAGES: dict[str, str] = {"en": "English", "es": "Español"}
COOKIE = "carebook_lang"
COOKIE_MAX_AGE = 365 * 24 * 3600

babel = Babel()

# Flask-Babel's lazy strings (form labels, errors defined at import) call themselves safe HTML:
# rendered raw, "Policy page (/policies/<slug>)" would become a tag. They are text like any
# other string: their HTML is their escaped text.
LazyString.__html__ = lambda self: escape(str(self))


def N_(text: str) -> str:
    """Mark `text` for the catalogue without translating it here (it is translated where it
    is shown, e.g. by Flask-Login's localize_callback)."""
    return text


def supported(code: str | None) -> str | None:
    """`code` if Carebook speaks it ('es-MX' and 'es_MX' count as 'es'), else None."""
    if not code:
        return None
    base = code.replace("_", "-").split("-")[0].lower()
    return base if base in LANGUAGES else None


def browser_locale() -> str | None:
    """The best match of this request's Accept-Language among the languages spoken."""
    if not has_request_context():
        return None
    return supported(request.accept_languages.best_match(list(LANGUAGES)))


def visitor_locale() -> str | None:
    """What this browser asks for: the footer's choice (a cookie), else Accept-Language."""
    if not has_request_context():
        return None
    return supported(request.cookies.get(COOKIE)) or browser_locale()


def _account_locale() -> str | None:
    try:
        user = current_user
        if user and user.is_authenticated:
            return supported(getattr(user, "locale", None))
    except Exception:
        return None
    return None


def select_locale() -> str:
    """Flask-Babel's locale selector (see the module's docstring for the order)."""
    if not has_request_context():
        return DEFAULT_LOCALE
    if request.path.startswith(("/api/", "/webhooks/")):
        return DEFAULT_LOCALE
    return _account_locale() or visitor_locale() or DEFAULT_LOCALE


def current_locale() -> str:
    """'en' or 'es': the language being rendered now."""
    locale = get_locale()
    return supported(str(locale)) if locale is not None else DEFAULT_LOCALE


def recipient_locale(user) -> str:
    """The language to write to `user` in when they are not the one asking (mail, texts): the
    account's setting, else their browser's at their last sign-in, else English."""
    if user is None:
        return DEFAULT_LOCALE
    return (
        supported(getattr(user, "locale", None))
        or supported(getattr(user, "browser_locale", None))
        or DEFAULT_LOCALE
    )


@contextmanager
def speaking(locale: str | None) -> Iterator[None]:
    """Render what follows in `locale` (a mail to someone else, a worker's job)."""
    with force_locale(supported(locale) or DEFAULT_LOCALE):
        yield


# _("...") in the scripts (babel.cfg extracts the same calls into the catalogue).
_JS_MESSAGE = re.compile(r"""\b_\(\s*"((?:[^"\\]|\\.)*)"\s*[,)]""")


@cache
def js_messages(folder: str) -> tuple[str, ...]:
    """The English texts static/js asks for, read once per process."""
    found: set[str] = set()
    for path in sorted(Path(folder).glob("*.js")):
        found.update(_JS_MESSAGE.findall(path.read_text(encoding="utf-8")))
    return tuple(sorted(found))


def js_strings() -> dict[str, str]:
    """English text -> its translation, for the scripts of this page (none in English)."""
    if current_locale() == DEFAULT_LOCALE:
        return {}
    from flask import current_app  # noqa: PLC0415

    folder = str(Path(current_app.static_folder) / "js")
    return {text: gettext(text) for text in js_messages(folder)}


def init_i18n(app: Flask) -> None:
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT_LOCALE)
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(app.root_path + "/../translations"))
    babel.init_app(app, locale_selector=select_locale)
    # {% trans %} blocks read as one line whatever their indentation (babel.cfg extracts them
    # the same way).
    app.jinja_env.policies["ext.i18n.trimmed"] = True
    # The locale is cached on `g`, which outlives one request where an app context is held
    # open (tests, the embedded delivery): it is chosen afresh for each request.
    app.before_request(refresh)

    @app.context_processor
    def _languages():
        return {
            "languages": LANGUAGES,
            "current_locale": current_locale(),
            "js_strings": js_strings,
        }
