"""Measuring a generated country from its two documents alone, as a consumer would see them:
counts, the shares the scales plan (twins, wards, teachers, private schools, microdistrict
overlap and gaps, languages) and the integrity the importer and the registry rely on (valid
and unique PINs, addresses on catalog streets, parent and ward links that resolve).

Used by ``generate_country`` for its report and by the tests; independent of how the
generator built the data, so it checks it.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from typing import Any

from kattoo.integrations.registry.pin import InvalidPin, pin_parse

from .geography import house_value

Document = dict[str, Any]


def _window(academic_year: str) -> tuple[str, str]:
    first = int(academic_year[:4])
    return f"{first - 7}-01-01", f"{first - 6}-12-31"


def _holds(line: Document, value: int | None) -> bool:
    low, high = line.get("house_from"), line.get("house_to")
    if low is None or high is None:
        return True
    if value is None or not low <= value <= high:
        return False
    parity = line.get("parity", "all")
    return parity == "all" or (value % 2 == 0) == (parity == "even")


def measure(catalog: Document, population: Document) -> dict[str, Any]:
    """Counts, shares and integrity problems (lists of examples, empty when all is well)."""
    year = catalog["academic_year"]
    low, high = _window(year)
    people: list[Document] = population["people"]
    schools = catalog["schools"]
    participating = {
        s["code"] for s in schools if s["ownership"] in ("state", "municipal") or s.get("opted_in")
    }
    streets = {s["code"] for s in catalog["streets"]}
    lines: dict[str, list[Document]] = defaultdict(list)
    for line in catalog["microdistricts"]:
        if line["school"] in participating:
            lines[line["street"]].append(line)

    def covered_by(address: Document | None) -> int:
        if not address:
            return 0
        value = house_value(address["house"])
        return len({x["school"] for x in lines.get(address["streetId"], []) if _holds(x, value)})

    by_pin: dict[str, Document] = {}
    problems: dict[str, list[str]] = defaultdict(list)
    for person in people:
        pin = person["pin"]
        try:
            sex, born = pin_parse(pin)
        except InvalidPin:
            problems["invalid_pin"].append(pin)
            continue
        if pin in by_pin:
            problems["duplicate_pin"].append(pin)
        by_pin[pin] = person
        if person["gender"] != sex or person["dateOfBirth"] != born.isoformat():
            problems["pin_disagrees"].append(pin)
        address = person.get("address")
        if address and address["streetId"] not in streets:
            problems["unknown_street"].append(pin)

    window = [p for p in people if low <= p["dateOfBirth"] <= high]
    multiples: Counter[tuple[str, str]] = Counter()
    parents: set[str] = set()
    for person in people:
        act = person.get("birthAct")
        if not act:
            continue
        for key, sex in (("motherPin", "F"), ("fatherPin", "M")):
            parent_pin = act.get(key)
            if not parent_pin:
                continue
            parents.add(parent_pin)
            parent = by_pin.get(parent_pin)
            if parent is None:
                problems["unknown_parent"].append(person["pin"])
            elif parent["gender"] != sex or parent["dateOfBirth"] >= _years_before(
                person["dateOfBirth"], 14
            ):
                problems["implausible_parent"].append(person["pin"])
        if low <= person["dateOfBirth"] <= high and act.get("motherPin"):
            multiples[(act["motherPin"], person["dateOfBirth"])] += 1
    for ward in population["wards"]:
        for key in ("representativePin", "childPin"):
            if ward[key] not in by_pin:
                problems["unknown_ward_pin"].append(ward[key])
    codes = {s["code"] for s in schools}
    for teacher in catalog["teachers"]:
        if teacher["pin"] not in by_pin:
            problems["unknown_teacher"].append(teacher["pin"])
        if teacher["school"] not in codes:
            problems["unknown_teacher_school"].append(teacher["school"])

    coverage = Counter(min(covered_by(child.get("address")), 2) for child in window)
    first_grades = [c for c in catalog["class_sets"] if c["grade"] == "first"]
    languages = Counter(c["language"] for c in first_grades)
    private = [s for s in schools if s["ownership"] in ("private", "mixed")]
    fourth_schools = {c["school"] for c in catalog["class_sets"] if c["grade"] == "fourth"}
    twins = sum(n for n in multiples.values() if n == 2)
    adults = [p for p in people if p["dateOfBirth"] < _years_before(f"{year[:4]}-01-01", 18)]
    n_window = len(window) or 1
    return {
        "regions": len(catalog["regions"]),
        "districts": len(catalog["districts"]),
        "settlements": len(catalog["settlements"]),
        "streets": len(catalog["streets"]),
        "houses": len(catalog["houses"]),
        "schools": len(schools),
        "private_share": len(private) / (len(schools) or 1),
        "private_opted_in": sum(1 for s in private if s.get("opted_in")),
        "new_schools": sum(1 for s in schools if s["code"] not in fourth_schools),
        "microdistrict_lines": len(catalog["microdistricts"]),
        "class_sets_fourth": sum(1 for c in catalog["class_sets"] if c["grade"] == "fourth"),
        "class_sets_first": len(first_grades),
        "seats": sum(
            min(max(c["size"], 25), 42) for c in catalog["class_sets"] if c["grade"] == "fourth"
        ),
        "languages": {k: v / (len(first_grades) or 1) for k, v in languages.most_common()},
        "teachers": len(catalog["teachers"]),
        "people": len(people),
        "adults": len(adults),
        "window_children": len(window),
        "overage_children": sum(1 for p in people if p["dateOfBirth"][:4] == str(int(low[:4]) - 1)),
        "young_children": sum(1 for p in people if p["dateOfBirth"][:4] == str(int(high[:4]) + 1)),
        "parents": len(parents),
        "teacher_share": len(catalog["teachers"]) / (len(parents) or 1),
        "twin_share": twins / n_window,
        "twin_pairs": twins // 2,
        "triplet_sets": sum(1 for n in multiples.values() if n == 3),
        "ward_share": len(population["wards"]) / n_window,
        "representatives": len({w["representativePin"] for w in population["wards"]}),
        "overlap_share": coverage[2] / n_window,
        "none_share": coverage[0] / n_window,
        "no_passport_adults": sum(
            1 for p in adults if not p.get("passport") and not p.get("deathDate") and p["address"]
        ),
        "expired_passports": sum(
            1
            for p in adults
            if p.get("passport") and p["passport"]["expiredDate"] < f"{year[:4]}-04-01"
        ),
        "window_without_birth_act": sum(1 for p in window if not p.get("birthAct")),
        "emails": sum(1 for p in people if (p.get("contacts") or {}).get("email")),
        "problems": {k: v[:5] for k, v in problems.items()},
        "problem_counts": {k: len(v) for k, v in problems.items()},
    }


def _years_before(iso: str, years: int) -> str:
    day = dt.date.fromisoformat(iso)
    try:
        return day.replace(year=day.year - years).isoformat()
    except ValueError:
        return day.replace(year=day.year - years, day=28).isoformat()


def report_lines(stats: dict[str, Any]) -> list[str]:
    """The statistics as short lines for the command's output."""
    pct = "{:.2%}".format
    languages = ", ".join(f"{k} {pct(v)}" for k, v in stats["languages"].items())
    return [
        f"catalog: {stats['regions']} regions, {stats['districts']} districts, "
        f"{stats['settlements']} settlements, {stats['streets']} streets, {stats['houses']} houses",
        f"schools: {stats['schools']} ({pct(stats['private_share'])} private or mixed, "
        f"{stats['private_opted_in']} of them opted in, {stats['new_schools']} new), "
        f"{stats['microdistrict_lines']} microdistrict lines",
        f"class-sets: {stats['class_sets_fourth']} 4th grades ({stats['seats']} seats), "
        f"{stats['class_sets_first']} 1st grades: {languages}",
        f"people: {stats['people']} ({stats['adults']} adults), {stats['window_children']} "
        f"born in the window, {stats['overage_children']} a year before, "
        f"{stats['young_children']} a year after",
        f"twins {pct(stats['twin_share'])} ({stats['twin_pairs']} pairs), "
        f"{stats['triplet_sets']} triplet sets, wards {pct(stats['ward_share'])} "
        f"({stats['representatives']} representatives), teachers {stats['teachers']} = "
        f"{pct(stats['teacher_share'])} of {stats['parents']} parents",
        f"window children's addresses: {pct(stats['overlap_share'])} in two or more "
        f"microdistricts, {pct(stats['none_share'])} in none",
        f"documents: {stats['no_passport_adults']} living adults without a passport, "
        f"{stats['expired_passports']} expired passports, {stats['window_without_birth_act']} "
        f"window children without a birth act, {stats['emails']} e-mails",
        "integrity: "
        + (
            ", ".join(f"{k} {v}" for k, v in stats["problem_counts"].items())
            if stats["problem_counts"]
            else "every PIN valid and unique, every street known, every link resolves"
        ),
    ]
