"""The sizes the generator builds: a national country for load tests and a small corner of it
for ``make run`` and the test-suite, which must stay fast.

Every rate below is a share the regulation makes matter: twins above quota (§25), legal
representatives limited to two registrations (§20), teachers' children above quota (§24),
people without documents and over-age children through the commission (§9), addresses outside
every microdistrict that open no school in stage 1 (§27).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Scale:
    name: str
    # District keys (geodata.DISTRICTS) to build; empty = the whole country.
    districts: tuple[str, ...]
    # Children born in the campaign's birth window (§8), and schools, to aim at.
    children: int
    schools: int


SCALES: dict[str, Scale] = {
    "national": Scale("national", (), children=300_000, schools=2_400),
    # Two Bishkek city districts (Russian, English classes) and two Osh-oblast districts
    # (Uzbek classes): a north-and-south country in miniature.
    "small": Scale("small", ("LEN", "SVE", "KSU", "ARA"), children=1_500, schools=30),
}


@dataclass(frozen=True, slots=True)
class Rates:
    """Shares of the country. Those the tests hold the data to — twins, triplets, wards,
    teachers, private schools, homes in no or in two microdistricts — are planned as exact
    counts or budgets rather than left to chance, so even the small scale meets them for any
    seed; the rest are probabilities."""

    twin_children: float = 0.015  # window children who are a twin
    triplet_sets_per_child: float = 0.00005  # national ≈ 15 sets; the small scale gets one
    wards: float = 0.01  # window children with a legal representative (§20)
    teachers: float = 0.04  # parents who teach at a school (§24)
    private_schools: float = 0.10
    private_opted_in: float = 0.35  # private and mixed schools that take part (§31)
    new_schools: float = 0.01  # first grades only, no 4th grade yet (§11)
    # Homes at the ends of streets in no microdistrict yet (§19, §27), and homes in two
    # schools' microdistricts where a settlement has several schools (§19).
    uncovered_houses: float = 0.03
    overlap_houses: float = 0.08
    second_window_child: float = 0.09  # families with a 2019 and a 2020 child
    single_mothers: float = 0.12
    widows: float = 0.01
    father_elsewhere: float = 0.05  # father registered at another address
    child_elsewhere: float = 0.03  # child registered at another address than the parents
    no_passport: float = 0.006  # an applicant without an identity document (§9)
    no_birth_act: float = 0.003  # a child without a digitised birth act (§9)
    # Families given an elder child born the year before the window (over-age, §9), on top of
    # the older siblings that fall in that year anyway.
    overage_first: float = 0.01
    email: float = 0.45  # adults with an e-mail address in their contacts


RATES = Rates()
