"""Forming first classes with the gender balance of §19, as a pure, deterministic function.

1. Class sizes: the admitted children of a language are shared among its class-sets in
   proportion to their seats (largest remainder, ties to the lower class-set number), so a
   class never gets more than its share and above-quota children spread evenly.
2. Boys per class: the boys are shared among the classes in proportion to the class sizes
   (largest remainder), so every class's share of boys is within one child of the ideal;
   girls fill the rest.
3. Who goes where: children in a fixed order (surname, name, id) are dealt one by one to the
   class with the most free places for their sex (ties: lower number) — the same input always
   gives the same classes, whatever order it comes in.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction


@dataclass(frozen=True, slots=True)
class Pupil:
    key: str  # a stable id (the application id)
    sex: str  # "F" | "M"
    surname: str
    name: str


@dataclass(frozen=True, slots=True)
class ClassSlot:
    number: int
    seats: int


def share(total: int, weights: list[int]) -> list[int]:
    """Split ``total`` in proportion to ``weights`` by largest remainder (ties: first)."""
    weight_sum = sum(weights)
    if total == 0 or weight_sum == 0:
        return [0 for _ in weights]
    exact = [Fraction(total * w, weight_sum) for w in weights]
    parts = [int(x) for x in exact]
    left = total - sum(parts)
    order = sorted(range(len(weights)), key=lambda i: (-(exact[i] - parts[i]), i))
    for i in order[:left]:
        parts[i] += 1
    return parts


def form_classes(pupils: list[Pupil], slots: list[ClassSlot]) -> dict[int, list[Pupil]]:
    """Class-set number → its pupils, in the fixed order."""
    slots = sorted(slots, key=lambda s: s.number)
    if not slots:
        return {}
    ordered = sorted(pupils, key=lambda p: (p.surname.casefold(), p.name.casefold(), p.key))
    sizes = share(len(ordered), [s.seats for s in slots])
    boys = [p for p in ordered if p.sex == "M"]
    girls = [p for p in ordered if p.sex != "M"]
    boys_per_class = share(len(boys), sizes)
    free = {
        "M": dict(zip((s.number for s in slots), boys_per_class, strict=True)),
        "F": {s.number: size - b for s, size, b in zip(slots, sizes, boys_per_class, strict=True)},
    }
    classes: dict[int, list[Pupil]] = {s.number: [] for s in slots}
    for pupil in boys + girls:
        sex = "M" if pupil.sex == "M" else "F"
        target = max(free[sex], key=lambda n: (free[sex][n], -n))
        classes[target].append(pupil)
        free[sex][target] -= 1
    for number in classes:
        classes[number].sort(key=lambda p: (p.surname.casefold(), p.name.casefold(), p.key))
    return classes
