"""A synthetic Kyrgyzstan for load tests, demos and benchmarks: the catalog ("kattoo-catalog/1")
and the registry population ("kattoo-population/1") of a whole country, built from a seed.

The demo files (kattoo/demo) are hand-shaped and tiny; a campaign has to be rehearsed at the
size of the country (≈2,400 schools, ≈300,000 children of registration age), with the cases the
regulation singles out present in realistic proportions: twins (§25), teachers (§24), legal
representatives (§20), over-age children and people without documents (§9), addresses in two
microdistricts or in none (§19, §27).

The package is Django-free so it can run anywhere and be tested without a database; the
``generate_country`` management command is a thin wrapper. Modules, in the order data flows:

- ``scales``     — the size presets (small, national);
- ``geodata``    — real regions and districts with their names, centres and weights;
- ``names``      — Kyrgyz, Russian, Uzbek and Tajik names, street and village names;
- ``geography``  — settlements, streets and houses with SOATE-shaped codes;
- ``schools``    — schools, class-sets and microdistricts (and who each address belongs to);
- ``people``     — one person's registry record: PINs, passports, phones, addresses, acts;
- ``families``   — households, twins, wards, teachers: the population;
- ``demo``       — the interesting people a demo points at;
- ``writer``     — the two documents and writing them quickly;
- ``stats``      — measuring the files, for the command's report and the tests.
"""

from .country import Country, generate, write_country

__all__ = ["Country", "generate", "write_country"]
