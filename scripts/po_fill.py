"""Fill empty translations in locale/{ky,ru,uz,en}/LC_MESSAGES/django.po from a JSON file:
``{"<msgid>": {"ky": "...", "ru": "...", "uz": "..."}, ...}``; English takes the msgid itself.
A plural entry takes a list of forms: ``{"<msgid>": {"ky": ["…", "…"], "ru": ["…", "…", "…"],
"uz": ["…", "…"]}}``.

    .venv/bin/python scripts/po_fill.py translations.json

Only empty or fuzzy entries are touched; the file keeps makemessages' layout."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ENTRY = re.compile(r'^msgid ((?:".*"\n)+)msgstr ((?:".*"\n?)+)$', re.M)


def unquote(block: str) -> str:
    parts = re.findall(r'"((?:[^"\\]|\\.)*)"', block)
    return "".join(parts).encode().decode("unicode_escape").encode("latin-1").decode("utf-8")


def quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def fill(language: str, table: dict[str, dict[str, str]]) -> int:
    path = ROOT / "locale" / language / "LC_MESSAGES" / "django.po"
    entries = path.read_text(encoding="utf-8").split("\n\n")
    filled = 0
    for i, entry in enumerate(entries):
        if "\nmsgid_plural " in "\n" + entry:
            filled += _fill_plural(entries, i, language, table)
            continue
        match = ENTRY.search(entry + "\n")
        if not match:
            continue
        msgid = unquote(match.group(1))
        fuzzy = "#, fuzzy" in entry
        if not msgid or (unquote(match.group(2)) and not fuzzy):
            continue
        text = msgid if language == "en" else table.get(msgid, {}).get(language)
        if text:
            head = entry[: match.start(2) - len("msgstr ")]
            if fuzzy:  # makemessages' guess from another msgid: replace it, drop the flag
                head = "\n".join(
                    line.replace("#, fuzzy, ", "#, ")
                    for line in head.split("\n")
                    if line != "#, fuzzy" and not line.startswith("#| ")
                )
            entries[i] = head + "msgstr " + quote(text)
            filled += 1
    path.write_text("\n\n".join(entries), encoding="utf-8")
    return filled


PLURAL = re.compile(
    r'^msgid ((?:".*"\n)+)msgid_plural ((?:".*"\n)+)((?:msgstr\[\d\] (?:".*"\n?)+)+)$', re.M
)


def _fill_plural(entries: list[str], i: int, language: str, table: dict) -> int:
    """A plural entry: the JSON gives a list of forms (``{"ky": [one, other], "ru": [one, few,
    many]}``); English takes the msgid and msgid_plural."""
    entry = entries[i]
    match = PLURAL.search(entry + "\n")
    if not match:
        return 0
    msgid, plural = unquote(match.group(1)), unquote(match.group(2))
    current = re.findall(r'msgstr\[(\d)\] ((?:".*"\n?)+)', match.group(3))
    fuzzy = "#, fuzzy" in entry
    if all(unquote(text) for _n, text in current) and not fuzzy:
        return 0
    forms = [msgid, plural] if language == "en" else table.get(msgid, {}).get(language)
    if not forms or len(forms) != len(current):
        return 0
    head = entry[: match.start(3)]
    if fuzzy:
        head = "\n".join(
            line.replace("#, fuzzy, ", "#, ")
            for line in head.split("\n")
            if line != "#, fuzzy" and not line.startswith("#| ")
        )
    body = "\n".join(f"msgstr[{n}] {quote(text)}" for n, text in enumerate(forms))
    entries[i] = head + body
    return 1


def main() -> None:
    table = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
    for language in ("ky", "ru", "uz", "en"):
        print(language, fill(language, table))


if __name__ == "__main__":
    main()
