"""Generating a country from a scale and a seed, and writing its two files.

Each stage draws from its own random stream derived from the seed, so the output is the same
bytes for the same seed and adding a draw to one stage does not reshuffle the others.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .demo import demo_section
from .families import Population, population_build
from .geography import Geography, geography_build
from .scales import SCALES, Scale
from .schools import Schools, schools_build
from .writer import catalog_document, population_document, write_json

ACADEMIC_YEAR = "2026-2027"
CATALOG_FILE = "catalog.json"
POPULATION_FILE = "population.json"


@dataclass(slots=True)
class Country:
    scale: Scale
    seed: int
    academic_year: str
    geography: Geography
    schools: Schools
    population: Population
    demo: dict[str, Any]

    def catalog(self) -> dict[str, Any]:
        return catalog_document(
            self.geography, self.schools, self.population, self.academic_year, self.demo
        )

    def registry(self) -> dict[str, Any]:
        return population_document(self.population, self.demo)


def _rng(seed: int, stage: str) -> random.Random:
    # A string seed is hashed with SHA-512: stable across runs and Python versions.
    return random.Random(f"kattoo-synthetic/{seed}/{stage}")  # noqa: S311 - not secrets


def generate(scale: str | Scale, seed: int, academic_year: str = ACADEMIC_YEAR) -> Country:
    """The country of ``scale`` ("small", "national" or a Scale) for ``seed``; the birth window
    and every date follow ``academic_year`` ("2026-2027": children born 2019–2020)."""
    chosen = SCALES[scale] if isinstance(scale, str) else scale
    first_year = int(academic_year[:4])
    geography = geography_build(chosen, _rng(seed, "geography"))
    schools = schools_build(geography, chosen, _rng(seed, "schools"))
    population = population_build(geography, schools, chosen, _rng(seed, "population"), first_year)
    demo = demo_section(population, schools, academic_year, chosen.name, seed)
    return Country(chosen, seed, academic_year, geography, schools, population, demo)


def write_country(country: Country, out: Path) -> dict[str, int]:
    """Writes catalog.json and population.json into ``out``; returns their sizes in bytes."""
    out.mkdir(parents=True, exist_ok=True)
    return {
        CATALOG_FILE: write_json(out / CATALOG_FILE, country.catalog()),
        POPULATION_FILE: write_json(out / POPULATION_FILE, country.registry()),
    }
