"""The two documents (docs/data-formats.md) and writing them fast.

The national population is about a million records (≈0.8 GB of JSON). ``json.dump`` would
encode it with the pure-Python encoder (only ``json.dumps`` takes the C path), which alone takes
minutes; so each row is encoded with the C encoder and written on its own line, through a
large buffer. One row per line also keeps the files greppable and diffs small, like the demo
files. orjson is not a dependency of the project, so the standard library does it all.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

from .families import Population
from .geography import Geography
from .schools import Schools

CATALOG_FORMAT = "kattoo-catalog/1"
POPULATION_FORMAT = "kattoo-population/1"
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
_CHUNK = 20_000


def catalog_document(
    geo: Geography,
    schools: Schools,
    population: Population,
    academic_year: str,
    demo: dict[str, Any],
) -> dict[str, Any]:
    return {
        "format": CATALOG_FORMAT,
        "academic_year": academic_year,
        "regions": [
            {
                "soate": r.soate,
                "name_ky": r.data.name_ky,
                "name_ru": r.data.name_ru,
                "name_en": r.data.name_en,
            }
            for r in geo.regions
        ],
        "districts": [
            {
                "soate": d.soate,
                "region": d.region.soate,
                "name_ky": d.data.name_ky,
                "name_ru": d.data.name_ru,
                "name_en": d.data.name_en,
            }
            for d in geo.districts
        ],
        "settlements": [
            {
                "soate": s.soate,
                "district": s.district.soate,
                "name_ky": s.name_ky,
                "name_ru": s.name_ru,
            }
            for s in geo.settlements
        ],
        "streets": [
            {
                "code": st.code,
                "settlement": st.settlement.soate,
                "name_ky": st.name_ky,
                "name_ru": st.name_ru,
            }
            for st in geo.streets
        ],
        "houses": [
            {"street": h.street.code, "number": h.number, "code": h.code} for h in geo.houses
        ],
        "schools": [
            {
                "code": s.code,
                "name_ky": s.name_ky,
                "name_ru": s.name_ru,
                "name_en": s.name_en,
                "district": s.district.soate,
                "settlement": s.settlement.soate,
                "address_ky": s.address_ky,
                "address_ru": s.address_ru,
                "ownership": s.ownership,
                "opted_in": s.opted_in,
            }
            for s in schools.schools
        ],
        "microdistricts": [
            {
                key: value
                for key, value in (
                    ("school", line.school),
                    ("street", line.street.code),
                    ("house_from", line.house_from),
                    ("house_to", line.house_to),
                    ("parity", line.parity),
                    ("note", line.note),
                )
                if value not in (None, "")
            }
            for school in schools.schools
            for line in school.lines
        ],
        "class_sets": [
            {"school": s.code, "grade": grade, "letter": letter, "language": lang, "size": size}
            for s in schools.schools
            for grade, sets in (("fourth", s.fourth), ("first", s.first))
            for letter, lang, size in sets
        ],
        "teachers": population.teachers,
        "demo": demo,
    }


def population_document(population: Population, demo: dict[str, Any]) -> dict[str, Any]:
    return {
        "format": POPULATION_FORMAT,
        "people": population.people,
        "wards": population.wards,
        "demo": {k: v for k, v in demo.items() if k != "schools"},
    }


def _rows(handle: Any, rows: list[Any]) -> None:
    encode = _ENCODER.encode
    for start in range(0, len(rows), _CHUNK):
        if start:
            handle.write(",\n")
        handle.write(",\n".join(map(encode, rows[start : start + _CHUNK])))


def _write(handle: Any, document: dict[str, Any]) -> None:
    handle.write("{\n")
    for index, (key, value) in enumerate(document.items()):
        if index:
            handle.write(",\n")
        handle.write(_ENCODER.encode(key) + ":")
        if isinstance(value, list) and value and isinstance(value[0], dict):
            handle.write("[\n")
            _rows(handle, value)
            handle.write("\n]")
        else:
            handle.write(_ENCODER.encode(value))
    handle.write("\n}\n")


def write_json(path: Path, document: dict[str, Any]) -> int:
    """Writes ``document`` with one row of each list per line; returns the file size."""
    with open(path, "w", encoding="utf-8", buffering=1 << 22) as handle:
        _write(handle, document)
    return path.stat().st_size


def dumps(document: dict[str, Any]) -> str:
    """The text ``write_json`` writes, without a file."""
    buffer = io.StringIO()
    _write(buffer, document)
    return buffer.getvalue()
