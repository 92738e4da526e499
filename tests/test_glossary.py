"""The Kyrgyz and Russian catalogs speak the glossary's language (docs/glossary.md, issue 14).

No native-speaker review is available, so the catalogs are held to three mechanical rules:
no English words outside an allowlist of technical tokens, none of the glossary's "avoid" forms,
and every translation keeps exactly the placeholders of its message id.
"""

from __future__ import annotations

import re
from collections import Counter
from functools import cache
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
GLOSSARY = ROOT / "docs" / "glossary.md"
CHECKED = ["ky", "ru"]

# Latin-script tokens a Kyrgyz or Russian user may meet: product and file-format names, the
# authenticator apps staff install, and field names and codes users type in files or headers.
ALLOWED_LATIN = {
    "kattoo",
    "sms",
    "pdf",
    "csv",
    "xlsx",
    "json",
    "jpeg",
    "png",
    "utf",
    "sha",
    "uuid",
    "ip",
    "id",  # the ID card («ID-карта»), the document's own name
    "api",
    "qr",
    "idempotency-key",
    "freeotp",
    "aegis",
    "google",
    "microsoft",
    "authenticator",
    "house_from",
    "house_to",
    "kind",
    "true",
    "false",
    "audit_verify",
    "content-type",  # an HTTP header named in an API problem: Content-Type: application/json
    "child_pin",  # API body fields of a commission decision
    "child",
    "rehearsal",  # the suffix of a rehearsal campaign's code, typed as is: 2027-2028-rehearsal
}

PLACEHOLDER = re.compile(r"%\((\w+)\)[sdif]|%[sdif]|\{[^{}]*\}")
HTML_TAG = re.compile(r"<[^>]+>")
URL = re.compile(
    r"\b(?:https?://|www\.)\S+|\b[\w.-]+\.(?:kg|org|com)\b|\b[\w./-]+\.md\b"
    r"|\b(?:application|text|image)/[\w.+-]+"  # media types
)
LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z0-9_]*(?:-[A-Za-z][A-Za-z0-9_]*)*")


@cache
def catalog(language: str) -> Catalog:
    with open(ROOT / "locale" / language / "LC_MESSAGES" / "django.po", "rb") as handle:
        return read_po(handle)


def pairs(language: str) -> list[tuple[str, str]]:
    """(msgid, msgstr) for every translated form; a plural form pairs with the plural msgid."""
    found = []
    for message in catalog(language):
        if not message.id:
            continue
        if isinstance(message.id, tuple):
            singular, plural = message.id[0], message.id[1]
            for index, text in enumerate(message.string):
                found.append((singular if index == 0 else plural, text))
        else:
            found.append((message.id, message.string))
    return [(msgid, text) for msgid, text in found if text]


def cleaned(text: str) -> str:
    return URL.sub(" ", HTML_TAG.sub(" ", PLACEHOLDER.sub(" ", text)))


def latin_words(text: str) -> list[str]:
    return [word for word in LATIN_WORD.findall(cleaned(text)) if word.lower() not in ALLOWED_LATIN]


def placeholders(text: str) -> Counter[str]:
    return Counter(match.group(0) for match in PLACEHOLDER.finditer(text))


# ---- the glossary's table ------------------------------------------------------------------------


def cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


@cache
def glossary() -> list[dict[str, str]]:
    rows = [line for line in GLOSSARY.read_text(encoding="utf-8").splitlines() if line[:1] == "|"]
    header = cells(rows[0])
    assert header == ["en", "ky", "ru", "uz", "avoid", "note"], header
    return [dict(zip(header, cells(row), strict=True)) for row in rows[2:]]


def forms(cell: str) -> list[str]:
    return [form.strip() for form in cell.split(";") if form.strip()]


def avoided(language: str) -> list[str]:
    found = []
    for row in glossary():
        current = None
        for item in forms(row["avoid"]):
            prefix, _, rest = item.partition(":")
            if rest and prefix.strip() in ("ky", "ru", "uz", "en"):
                current, item = prefix.strip(), rest.strip()
            assert current, f"an avoid form needs its language: {row['avoid']!r}"
            if current == language:
                found.append(item)
    return found


def pattern(form: str) -> re.Pattern[str]:
    stem = form.endswith("*")
    body = re.escape(form.rstrip("*"))
    return re.compile(rf"(?<!\w){body}" + ("" if stem else r"(?!\w)"), re.IGNORECASE)


def without_allowed(text: str, language: str, patterns: list[re.Pattern[str]]) -> str:
    """Remove the language's own glossary forms that contain an avoided word (longest first)."""
    allowed = {form for row in glossary() for form in forms(row[language])}
    for form in sorted(allowed, key=len, reverse=True):
        if any(p.search(form) for p in patterns):
            text = re.sub(re.escape(form), " ", text, flags=re.IGNORECASE)
    return text


# ---- the rules -----------------------------------------------------------------------------------


def test_the_glossary_covers_the_main_terms_in_four_languages() -> None:
    rows = glossary()
    assert len(rows) >= 25
    for row in rows:
        for language in ("en", "ky", "ru", "uz"):
            assert forms(row[language]), f"{row['en']}: no {language} term"
    english = {row["en"].split(" (")[0] for row in rows}
    for term in ("registration", "address registration", "microdistrict", "quota", "class-set"):
        assert term in english, term
    assert avoided("ru") and avoided("ky")


@pytest.mark.parametrize("language", CHECKED)
def test_no_english_in_the_catalog(language: str) -> None:
    english = {msgid: words for msgid, text in pairs(language) if (words := latin_words(text))}
    assert english == {}, f"{language}: English words in {len(english)} translations"


@pytest.mark.parametrize("language", CHECKED)
def test_no_avoided_form_in_the_catalog(language: str) -> None:
    patterns = [pattern(form) for form in avoided(language)]
    hits = {}
    for msgid, text in pairs(language):
        rest = without_allowed(text, language, patterns)
        if found := [p.pattern for p in patterns if p.search(rest)]:
            hits[msgid] = (text, found)
    assert hits == {}, f"{language}: {len(hits)} translations use an avoided form"


@pytest.mark.parametrize("language", CHECKED)
def test_every_translation_keeps_the_placeholders_of_its_msgid(language: str) -> None:
    broken = {
        msgid: text for msgid, text in pairs(language) if placeholders(msgid) != placeholders(text)
    }
    assert broken == {}, f"{language}: {len(broken)} translations change their placeholders"


def test_the_rules_catch_what_they_are_for() -> None:
    """The checks themselves: English is found, allowed tokens are not, avoid forms match words."""
    assert latin_words("Kattoo: код %(code)s. Download the file") == ["Download", "the", "file"]
    assert latin_words("Kattoo'до SMS, PDF, house_from <b>код</b> https://1mektep.edu.gov.kg") == []
    assert latin_words("2027-2028-rehearsal; FreeOTP, Google Authenticator") == []
    assert latin_words("(Content-Type: application/json)") == []
    stem, word = pattern("регистрац*"), pattern("близнец")
    assert stem.search("Регистрация начинается") and not stem.search("перерегистрация")
    assert word.search("близнец (сверх квоты)") and not word.search("один из близнецов")
    patterns = [pattern(form) for form in avoided("ru")]
    kept = without_allowed("адрес регистрации (прописки) ребёнка", "ru", patterns)
    assert not any(p.search(kept) for p in patterns)
    assert any(p.search(without_allowed("Регистрация ребёнка", "ru", patterns)) for p in patterns)
