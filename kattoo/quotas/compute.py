"""The quota computation of RULES.md §4 (§11), as a pure function.

Rules, in order:
1. One new first-grade class-set per last-year 4th-grade class-set, with
   ``seats = min(max(n, min), max)`` from its actual size n (2026: 25..42).
2. Languages come from the school's current first grades. With K new class-sets and current
   first grades counted per language, the state language (Kyrgyz) gets
   ``max(ceil(K * share_ky), min(current_ky, K))`` class-sets — its share rounded up, and never
   fewer than last year's Kyrgyz class-sets (§11) — and the remaining class-sets are shared
   among the other languages by largest remainder (ties: more current class-sets first, then
   language code). With no current first grades the 4th grades' own languages are kept.
   When the school has more current Kyrgyz first grades than 4th grades, every new class-set
   is Kyrgyz and one more Kyrgyz class-set is added per Kyrgyz first grade left over, sized
   from that first grade (clamped): the number of Kyrgyz class-sets never falls below last
   year's Kyrgyz first grades (§11), whatever the 4th grades give.
3. Sizes go to languages by keeping a 4th-grade class-set's size on its own language where
   that language still has a class-set to fill, in the order the 4th grades are listed; the
   sizes left over fill the remaining slots, Kyrgyz first.
4. A new school without 4th-grade data takes this year's first-grade class-sets and sizes
   (clamped the same way). A school with neither gets no class-sets: it can add Kyrgyz ones.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

STATE_LANGUAGE = "ky"


@dataclass(frozen=True, slots=True)
class ExistingSet:
    language: str
    size: int
    label: str = ""


@dataclass(frozen=True, slots=True)
class PlannedSet:
    language: str
    seats: int
    source: str  # "fourth_grade" | "first_grade"
    source_label: str
    source_size: int


@dataclass(frozen=True, slots=True)
class QuotaPlan:
    class_sets: list[PlannedSet]
    basis: str  # "fourth_grade" | "new_school" | "none"
    kyrgyz_floor: int


def clamp_seats(n: int, *, low: int, high: int) -> int:
    """§11: n > high → high; low ≤ n ≤ high → n; n < low → low."""
    return min(max(n, low), high)


def language_slots(k: int, current: Counter[str]) -> Counter[str]:
    """How many of k new class-sets each language gets (rule 2)."""
    total = sum(current.values())
    if k == 0 or total == 0:
        return Counter()
    current_ky = current.get(STATE_LANGUAGE, 0)
    slots: Counter[str] = Counter()
    ky = max(math.ceil(k * current_ky / total), min(current_ky, k)) if current_ky else 0
    ky = min(ky, k)
    if ky:
        slots[STATE_LANGUAGE] = ky
    rest = k - ky
    others = {lang: n for lang, n in current.items() if lang != STATE_LANGUAGE and n > 0}
    others_total = sum(others.values())
    if rest and others_total:
        quotas = {lang: rest * n / others_total for lang, n in others.items()}
        for lang, q in quotas.items():
            if int(q):
                slots[lang] = int(q)
        left = rest - sum(slots[lang] for lang in others)
        order = sorted(
            others, key=lambda lang: (-(quotas[lang] - int(quotas[lang])), -others[lang], lang)
        )
        for lang in order[:left]:
            slots[lang] += 1
    elif rest:
        slots[STATE_LANGUAGE] += rest
    return slots


def plan_quota(
    *, fourth_grade: list[ExistingSet], first_grade: list[ExistingSet], low: int, high: int
) -> QuotaPlan:
    if not fourth_grade:
        if not first_grade:
            return QuotaPlan(class_sets=[], basis="none", kyrgyz_floor=0)
        sets = [
            PlannedSet(
                s.language, clamp_seats(s.size, low=low, high=high), "first_grade", s.label, s.size
            )
            for s in first_grade
        ]
        ky = sum(1 for s in sets if s.language == STATE_LANGUAGE)
        return QuotaPlan(class_sets=sets, basis="new_school", kyrgyz_floor=ky)

    current = Counter(s.language for s in first_grade) or Counter(s.language for s in fourth_grade)
    slots = language_slots(len(fourth_grade), current)
    remaining = Counter(slots)
    placed: list[PlannedSet | None] = []
    leftovers: list[ExistingSet] = []
    for s in fourth_grade:
        if remaining[s.language] > 0:
            remaining[s.language] -= 1
            placed.append(
                PlannedSet(
                    s.language,
                    clamp_seats(s.size, low=low, high=high),
                    "fourth_grade",
                    s.label,
                    s.size,
                )
            )
        else:
            leftovers.append(s)
    open_languages = [
        lang
        for lang in sorted(remaining, key=lambda lg: (lg != STATE_LANGUAGE, lg))
        for _ in range(remaining[lang])
    ]
    for lang, s in zip(open_languages, leftovers, strict=True):
        placed.append(
            PlannedSet(
                lang, clamp_seats(s.size, low=low, high=high), "fourth_grade", s.label, s.size
            )
        )
    sets = [p for p in placed if p is not None]
    # §11: never fewer Kyrgyz class-sets than last year's Kyrgyz first grades, even when the
    # 4th grades give fewer class-sets than that.
    kyrgyz_first = [s for s in first_grade if s.language == STATE_LANGUAGE]
    for s in kyrgyz_first[slots.get(STATE_LANGUAGE, 0) :]:
        sets.append(
            PlannedSet(
                STATE_LANGUAGE,
                clamp_seats(s.size, low=low, high=high),
                "first_grade",
                s.label,
                s.size,
            )
        )
    kyrgyz = sum(1 for p in sets if p.language == STATE_LANGUAGE)
    return QuotaPlan(class_sets=sets, basis="fourth_grade", kyrgyz_floor=kyrgyz)
