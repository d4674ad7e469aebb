"""The catalogues are complete and current: every string the sources mark for translation
(app/ and templates/, as babel.cfg extracts them) has a Spanish translation that is not fuzzy,
keeps the same placeholders, and is in the compiled .mo the app reads; and no template shows
English text that is not marked for translation."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
LOCALES = ("es",)
# As the Makefile's `extract` target calls pybabel (BABEL_KEYWORDS), on top of Babel's own.
KEYWORDS = {
    "_": None,
    "gettext": None,
    "ngettext": (1, 2),
    "lazy_gettext": None,
    "lazy_ngettext": (1, 2),
    "_l": None,
    "N_": None,
}
PLACEHOLDER = re.compile(r"%\((\w+)\)[sdr]")


def _extracted() -> dict[str | tuple[str, ...], list[str]]:
    """msgid -> where it is used ('templates/x.html:12'), straight from the sources."""
    with open(ROOT / "babel.cfg") as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    found: dict = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=KEYWORDS, strip_comment_tags=True
    ):
        key = message if isinstance(message, str) else tuple(message)
        found.setdefault(key, []).append(f"{filename}:{lineno}")
    return found


@pytest.fixture(scope="module")
def extracted():
    return _extracted()


def _catalog(locale: str) -> Catalog:
    with open(ROOT / "translations" / locale / "LC_MESSAGES" / "messages.po", "rb") as po:
        return read_po(po, locale=locale)


@pytest.mark.parametrize("locale", LOCALES)
def test_every_marked_string_is_translated(extracted, locale):
    catalog = _catalog(locale)
    missing = []
    for msgid, places in sorted(extracted.items(), key=lambda item: str(item[0])):
        message = catalog.get(msgid)
        strings = () if message is None else message.string
        strings = (strings,) if isinstance(strings, str) else tuple(strings)
        if message is None or message.fuzzy or not strings or not all(strings):
            missing.append(f"{places[0]}: {msgid!r}")
    assert not missing, (
        f"{len(missing)} strings have no {locale} translation (run `make extract`, translate "
        "them in the .po, then `make translations`):\n" + "\n".join(missing)
    )


@pytest.mark.parametrize("locale", LOCALES)
def test_translations_keep_the_placeholders(locale):
    catalog = _catalog(locale)
    wrong = []
    for message in catalog:
        if not message.id or not message.string:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        wanted = set(PLACEHOLDER.findall(ids[-1])) | set(PLACEHOLDER.findall(ids[0]))
        for string in strings:
            got = set(PLACEHOLDER.findall(string))
            # A plural form may leave out the count (%(num)d) but nothing else.
            if got - wanted or (wanted - got) - {"num"}:
                wrong.append(f"{message.id!r}: {string!r}")
    assert not wrong, "\n".join(wrong)


def _hashable(value):
    return tuple(value) if isinstance(value, list | tuple) else value


@pytest.mark.parametrize("locale", LOCALES)
def test_the_compiled_catalogue_is_current(locale):
    """The .mo the app reads holds exactly the .po's translations (`make translations`)."""
    catalog = _catalog(locale)
    with open(ROOT / "translations" / locale / "LC_MESSAGES" / "messages.mo", "rb") as mo:
        compiled = read_mo(mo)

    def entries(messages) -> dict:
        return {
            _hashable(m.id): _hashable(m.string)
            for m in messages
            if m.id and m.string and not m.fuzzy
        }

    expected, actual = entries(catalog), entries(compiled)
    stale = sorted(str(k) for k in expected.keys() ^ actual.keys()) + sorted(
        str(k) for k in expected.keys() & actual.keys() if expected[k] != actual[k]
    )
    assert not stale, "the .mo is out of date, run `make translations`:\n" + "\n".join(stale[:20])


def test_no_catalogue_entry_is_stale(extracted):
    """The .po holds only strings the sources still use (`make extract` drops the others)."""
    catalog = _catalog(LOCALES[0])
    unused = sorted(str(m.id) for m in catalog if m.id and m.id not in extracted)
    assert not unused, "run `make extract`:\n" + "\n".join(unused)


# --- templates: no English left unmarked -----------------------------------------------------

TOKEN = re.compile(r"({#.*?#}|{%.*?%}|{{.*?}}|<(?:[^<>{]|{{.*?}}|{%.*?%}|{)*>)", re.S)
TEXT_ATTRIBUTE = re.compile(r'\b(placeholder|title|aria-label|alt|data-confirm)="([^"{}]*)"')
# Text that reads the same in every language.
UNTRANSLATED = {"Carebook", "· Carebook"}


def _unmarked(path: Path) -> list[str]:
    source = path.read_text()
    found, line, in_script = [], 1, False
    for i, part in enumerate(TOKEN.split(source)):
        if i % 2:
            lowered = part.lower()
            in_script = lowered.startswith("<script") or (
                in_script and not lowered.startswith("</script")
            )
            if part.startswith("<"):
                found += [
                    f"{path.relative_to(ROOT)}:{line}: {m.group(1)}={m.group(2)!r}"
                    for m in TEXT_ATTRIBUTE.finditer(part)
                    if re.search(r"[A-Za-z]{2}", m.group(2))
                ]
        else:
            text = " ".join(part.split())
            if not in_script and re.search(r"[A-Za-z]{2}", text) and text not in UNTRANSLATED:
                found.append(f"{path.relative_to(ROOT)}:{line}: {text[:80]!r}")
        line += part.count("\n")
    return found


def test_templates_show_no_unmarked_english():
    """Words between tags and in text attributes go through _() / {% trans %}."""
    unmarked = [
        hit for path in sorted((ROOT / "templates").rglob("*.html")) for hit in _unmarked(path)
    ]
    assert not unmarked, "mark these for translation:\n" + "\n".join(unmarked)


def test_every_script_that_translates_binds_the_lookup():
    """Each top-level function of static/js that calls _("...") binds it first (i18n.js)."""
    unbound = []
    for path in sorted((ROOT / "static" / "js").glob("*.js")):
        if path.name == "i18n.js":
            continue
        for number, chunk in enumerate(re.split(r"\n(?=\(function)", path.read_text())):
            if re.search(r'\b_\("', chunk) and "var _ = window.carebookGettext;" not in chunk:
                unbound.append(f"{path.relative_to(ROOT)} (block {number + 1})")
    assert not unbound, "\n".join(unbound)
