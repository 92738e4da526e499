"""The benchmark's seed database: a synthetic country ready for the opening minute.

Built once per (scale, migrations, seed code, generator code) and kept in the benchmark's own
cluster as a template database ``seed_<scale>_<hash>``; every run copies it with ``CREATE
DATABASE … TEMPLATE`` in seconds.

What is in it (all written in bulk with COPY, the way the registry would have filled it):
the catalog of the synthetic country and every school's computed quota (seat pools); every
window child with a birth act, with both parents as the registry gives them (addresses,
passports, contacts); the child links; one applicant account per family (the mother when she
has a passport, else the father) with an API token (only its SHA-256 stored); and one prepared
draft per child for a school whose microdistrict holds the child's, the mother's or the
father's registered address (§10, stage 1), chosen with a popularity skew so some pools are
wanted by far more parents than they have seats.

``bench_target`` lists, in arrival order, what the load generators need per child: the raw
token, the child, the draft's school, language and pool, the applicant and the user.

    python -m bench.seed --build --country DIR   # run by bench.flash_crowd, DATABASE_URL set
"""

# ruff: noqa: S603 - the bench runs its own fixed commands (manage.py, this module)
from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import math
import os
import random
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# Language preference of families when a school offers several (the synthetic country's mix).
LANGUAGE_PREFERENCE = {"ky": 0.55, "ru": 0.35, "uz": 0.08, "en": 0.02}
SEED = 2026
# The key of personal data at rest (§7, KATTOO_FIELD_KEYS) the seed is encrypted with; the
# app under test gets the same one.
FIELD_KEY = "kattoo-bench-field-key-not-a-secret"


def seed_hash(scale: str) -> str:
    """Changes when anything that shapes the seed changes: migrations, this file, the
    country generator."""
    digest = hashlib.sha256(scale.encode())
    paths = sorted(ROOT.glob("kattoo/*/migrations/*.py")) + sorted(
        ROOT.glob("kattoo/synthetic/*.py")
    )
    paths.append(Path(__file__))
    for path in paths:
        digest.update(str(path.relative_to(ROOT)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def country_dir(scale: str) -> Path:
    """The synthetic country's files (generated once; the same seed gives the same bytes)."""
    out = ROOT / "var" / "bench" / f"country-{scale}"
    if not (out / "population.json").exists():
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test"}
        env.pop("DATABASE_URL", None)
        subprocess.run(
            [
                sys.executable,
                "manage.py",
                "generate_country",
                "--scale",
                scale,
                "--seed",
                "1",
                "--out",
                str(out),
                "--no-stats",
            ],
            cwd=ROOT,
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
    return out


# -- building (inside Django) ----------------------------------------------------------------


def _copy(model: Any, rows: list[dict[str, Any]]) -> None:
    """COPY rows (dicts by attname) into the model's table; missing fields take the field's
    default, so a new column with a default never breaks the seed."""
    from django.db import connection
    from django.db.models import NOT_PROVIDED
    from fernet_fields import EncryptedField

    missing = object()
    fields = list(model._meta.concrete_fields)
    # Encrypted columns (§7) take the field's own encryption, exactly as the ORM writes them.
    encrypt = {f.attname for f in fields if isinstance(f, EncryptedField)}
    defaults: dict[str, Any] = {}
    for f in fields:
        if f.default is not NOT_PROVIDED:
            defaults[f.attname] = f.get_default()
        elif f.null:
            defaults[f.attname] = None
        elif f.get_internal_type() in ("CharField", "TextField", "SlugField", "EmailField"):
            defaults[f.attname] = ""
        else:
            defaults[f.attname] = missing
    cols = ", ".join(f'"{f.column}"' for f in fields)
    with connection.cursor() as cursor:
        raw = cursor.cursor
        with raw.copy(f'COPY "{model._meta.db_table}" ({cols}) FROM STDIN') as copy:
            for row in rows:
                values = []
                for f in fields:
                    value = row.get(f.attname, defaults[f.attname])
                    if value is missing:
                        raise ValueError(f"{model.__name__}.{f.attname} has no value")
                    if f.attname in encrypt:
                        value = f.get_db_prep_save(value, connection)
                    values.append(value)
                copy.write_row(values)


def _next_id(model: Any) -> int:
    from django.db.models import Max

    return (model.objects.aggregate(m=Max("pk"))["m"] or 0) + 1


def _reset_sequence(model: Any) -> None:
    from django.db import connection

    table, pk = model._meta.db_table, model._meta.pk.column
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT setval(pg_get_serial_sequence('\"{table}\"', '{pk}'), "
            f'(SELECT coalesce(max("{pk}"), 1) FROM "{table}"))'
        )


def _person_row(p: dict[str, Any], pk: int, now: dt.datetime) -> dict[str, Any]:
    address = p.get("address") or {}
    row: dict[str, Any] = {
        "id": pk,
        "pin": p["pin"],
        "surname": p["surname"],
        "name": p["name"],
        "patronymic": p.get("patronymic") or "",
        "sex": "F" if str(p["gender"]).upper().startswith("F") else "M",
        "birth_date": dt.date.fromisoformat(p["dateOfBirth"]),
        "address_text": address.get("text", ""),
        "address_settlement_code": address.get("villageId", ""),
        "address_street_code": address.get("streetId", ""),
        "address_house": address.get("house", ""),
        "address_flat": address.get("flat", ""),
        "address_registered_on": dt.date.fromisoformat(address["dateCreated"])
        if address.get("dateCreated")
        else None,
        "fetched_at": now,
    }
    act = p.get("birthAct")
    if act:
        row.update(
            birth_certificate_series=act.get("certificateSeries", ""),
            birth_certificate_number=act.get("certificateNumber", ""),
            birth_certificate_date=dt.date.fromisoformat(act["actDate"])
            if act.get("actDate")
            else None,
            birth_certificate_issuer=act.get("issuer", ""),
            mother_pin=act.get("motherPin") or "",
            father_pin=act.get("fatherPin") or "",
        )
    passport = p.get("passport")
    if passport and not passport.get("voidStatus"):
        row.update(
            passport_series=passport.get("passportSeries", ""),
            passport_number=passport.get("passportNumber", ""),
            passport_expires=dt.date.fromisoformat(passport["expiredDate"])
            if passport.get("expiredDate")
            else None,
        )
    contacts = p.get("contacts") or {}
    row.update(phone=contacts.get("phone") or "", email=contacts.get("email") or "")
    return row


def raw_token(pin: str) -> str:
    return "bench_" + hashlib.sha256(f"kattoo-bench:{pin}".encode()).hexdigest()[:40]


def _check_stored_facts(drafts: list[dict[str, Any]]) -> None:
    """The seed's stored facts of a sample of drafts read as the full facts query reads them
    (the hypothesis property of tests/enrollment/test_facts_loaders.py covers the loaders; this
    covers the seed's own decision of them)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from kattoo.accounts.models import User, token_digest
    from kattoo.enrollment import fastpath
    from kattoo.enrollment.models import Draft

    for row in drafts:
        user = User.objects.select_related("person").get(pk=row["user_id"])
        stored = fastpath.draft_facts(user=user, child_id=row["child_id"])
        # The slim handler's short read (ADR 0046): one statement, the same facts.
        assert user.person is not None
        digest = token_digest(raw_token(user.person.pin))
        with CaptureQueriesContext(connection) as queries:
            _holder, short = fastpath.token_draft_facts(digest=digest, child_id=row["child_id"])
        reads = [q for q in queries if q["sql"].lstrip().upper().startswith(("WITH", "SELECT"))]
        assert short == stored and len(reads) == 1, (row, short, stored)
        Draft.objects.filter(pk=row["id"]).update(facts=None)
        full = fastpath.draft_facts(user=user, child_id=row["child_id"])
        Draft.objects.filter(pk=row["id"]).update(facts=json.loads(row["facts"]))
        assert stored is not None and full is not None and stored.stored and not full.stored
        assert stored.facts == full.facts, (row, stored.facts, full.facts)
        assert stored.has_phone == full.has_phone, row


def build(country: Path) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    import django

    django.setup()
    from django.db import connection

    from kattoo.accounts.models import ApiToken, Role, User, token_digest
    from kattoo.campaigns.models import Campaign
    from kattoo.catalog.importing import catalog_import
    from kattoo.catalog.models import MicrodistrictAddress, Parity, School, Teacher
    from kattoo.catalog.selectors import house_number_value, schools_participating
    from kattoo.core import clock
    from kattoo.core.actors import Actor
    from kattoo.enrollment.models import Draft, Route, SeatPool
    from kattoo.people.models import ChildLink, Person, Relation
    from kattoo.quotas.services import quota_compute

    rng = random.Random(SEED)
    actor = Actor(user=None, channel="cli")
    campaign = Campaign.objects.get(is_active=True)
    t0 = time.perf_counter()

    def step(what: str) -> None:
        print(f"  seed: {what} ({time.perf_counter() - t0:.0f} s)", flush=True)

    catalog = json.loads((country / "catalog.json").read_text(encoding="utf-8"))
    catalog_import(data=catalog, actor=actor, campaign=campaign)
    # The rosters: the import asks the registry for every teacher (§24) and the seed's registry
    # is empty, so they are written here from the population, as the registry's answer would
    # have put them (alive adults only; the PIN's own checks already passed in the import).
    roster_rows = catalog.get("teachers", [])
    del catalog
    step("catalog imported")
    before = campaign.stage1_starts_at - dt.timedelta(days=30)
    with clock.frozen(before):
        for school in schools_participating():
            quota_compute(school=school, campaign=campaign, actor=actor)
    step(f"quotas computed, {SeatPool.objects.filter(campaign=campaign).count()} pools")

    people = json.loads((country / "population.json").read_text(encoding="utf-8"))["people"]
    by_pin = {p["pin"]: p for p in people}
    step(f"population read ({len(people)} people)")
    school_ids = dict(School.objects.values_list("code", "pk"))
    adult_before = (campaign.stage1_starts_at - dt.timedelta(days=18 * 366)).date().isoformat()
    Teacher.objects.bulk_create(
        [
            Teacher(
                school_id=school_ids[row["school"]],
                pin=row["pin"],
                full_name=row.get("full_name", ""),
                added_at=before,
            )
            for row in roster_rows
            if row["school"] in school_ids
            and (person := by_pin.get(row["pin"]))
            and not person.get("deathDate")
            and person["dateOfBirth"] <= adult_before
        ],
        ignore_conflicts=True,
    )
    step(f"{Teacher.objects.count()} teachers on the rosters")
    lo, hi = campaign.birth_from.isoformat(), campaign.birth_to.isoformat()
    window = [
        p
        for p in people
        if lo <= p["dateOfBirth"] <= hi and p.get("birthAct") and not p.get("deathDate")
    ]
    del people

    def has_passport(pin: str) -> bool:
        p = by_pin.get(pin)
        return bool(p and p.get("passport") and not p["passport"].get("voidStatus"))

    # The applicant of each child: the mother when she has a passport, else the father.
    families = []
    for child in window:
        act = child["birthAct"]
        mother, father = act.get("motherPin") or "", act.get("fatherPin") or ""
        applicant = mother if has_passport(mother) else father if has_passport(father) else ""
        if applicant:
            families.append((child, mother if mother in by_pin else "", father, applicant))
    now = clock.now()
    person_id = _next_id(Person)
    ids: dict[str, int] = {}
    rows: list[dict[str, Any]] = []

    def add(pin: str) -> None:
        nonlocal person_id
        if pin and pin in by_pin and pin not in ids:
            ids[pin] = person_id
            rows.append(_person_row(by_pin[pin], person_id, now))
            person_id += 1

    for child, mother, father, _applicant in families:
        add(child["pin"])
        add(mother)
        add(father)
    _copy(Person, rows)
    _reset_sequence(Person)
    step(f"{len(rows)} people")
    people_rows = {r["pin"]: r for r in rows}

    link_rows = []
    link_id = _next_id(ChildLink)
    for child, mother, father, _applicant in families:
        for pin, relation in ((mother, Relation.MOTHER), (father, Relation.FATHER)):
            if pin and pin in ids:
                link_rows.append(
                    {
                        "id": link_id,
                        "applicant_id": ids[pin],
                        "child_id": ids[child["pin"]],
                        "relation": relation.value,
                        "verified_at": now,
                    }
                )
                link_id += 1
    _copy(ChildLink, link_rows)
    _reset_sequence(ChildLink)
    step(f"{len(link_rows)} child links")
    del link_rows

    user_id = _next_id(User)
    users: dict[str, int] = {}
    user_rows, token_rows = [], []
    token_id = _next_id(ApiToken)
    for _child, _mother, _father, applicant in families:
        if applicant in users:
            continue
        users[applicant] = user_id
        user_rows.append(
            {
                "id": user_id,
                "username": applicant,
                "password": "!",
                "role": Role.APPLICANT.value,
                "person_id": ids[applicant],
                "is_active": True,
                "date_joined": now,
                "language": "ky",
            }
        )
        token_rows.append(
            {
                "id": token_id,
                "user_id": user_id,
                "digest": token_digest(raw_token(applicant)),
                "label": "bench",
                "created_at": now,
                # every token expires (ADR 0021); a bench seed is reused for weeks
                "expires_at": now + dt.timedelta(days=365),
            }
        )
        user_id += 1
        token_id += 1
    _copy(User, user_rows)
    _reset_sequence(User)
    _copy(ApiToken, token_rows)
    _reset_sequence(ApiToken)
    step(f"{len(user_rows)} applicants with tokens")
    del user_rows, token_rows

    # Stage-1 schools of an address, as catalog.selectors._address_match decides (§10, §19).
    participating = set(schools_participating().values_list("pk", flat=True))
    pools: dict[int, dict[str, int]] = defaultdict(dict)
    for pk, school_id, language in SeatPool.objects.filter(
        campaign=campaign, quota_seats__gt=0
    ).values_list("pk", "school_id", "language"):
        if school_id in participating:
            pools[school_id][language] = pk
    lines: dict[str, list[tuple[int, int | None, int | None, str]]] = defaultdict(list)
    for school_id, code, house_from, house_to, parity in MicrodistrictAddress.objects.values_list(
        "school_id", "street__code", "house_from", "house_to", "parity"
    ):
        if school_id in pools:
            lines[code].append((school_id, house_from, house_to, parity))

    def schools_at(street: str, house: str) -> set[int]:
        value = house_number_value(house)
        found = set()
        for school_id, house_from, house_to, parity in lines.get(street, ()):
            if house_from is None:
                found.add(school_id)
            elif value is not None and house_from <= value <= house_to:
                even = Parity.EVEN if value % 2 == 0 else Parity.ODD
                if parity in (Parity.ALL, even):
                    found.add(school_id)
        return found

    # The facts draft_save stores (ADR 0029, enrollment.facts.stored_facts), decided here from
    # the rows just written, the way the ORM loader decides them: documents, a parent (or the
    # applicant) on the chosen school's roster, co-twins by the mother's PIN else the father's.
    # The microdistrict holds by construction (the school is chosen among those covering a
    # family address). ``_check_stored_facts`` compares a sample with the full read.
    roster = set(Teacher.objects.values_list("school_id", "pin"))
    school_epochs = dict(School.objects.values_list("pk", "facts_epoch"))
    born_to: dict[tuple[str, str, dt.date], list[int]] = defaultdict(list)
    for written in rows:
        for parent in ("mother_pin", "father_pin"):
            if written.get(parent):
                key = (parent, written[parent], written["birth_date"])
                born_to[key].append(ids[written["pin"]])

    def stored(child: dict[str, Any], applicant: str, school_id: int) -> dict[str, Any]:
        row = people_rows[child["pin"]]
        relation = Relation.MOTHER if applicant == row.get("mother_pin") else Relation.FATHER
        mother, father = row.get("mother_pin", ""), row.get("father_pin", "")
        parent = "mother_pin" if mother else "father_pin" if father else ""
        twins = born_to[(parent, mother or father, row["birth_date"])] if parent else []
        family = {mother, father, applicant} - {""}
        return {
            "stamp": [school_id, school_epochs[school_id], 0, ids[applicant], 0],
            "certificate": bool(row.get("birth_certificate_number")),
            "passport": bool(people_rows[applicant].get("passport_number")),
            "teacher": any((school_id, pin) in roster for pin in family),
            "microdistrict": True,
            "twins": sorted(t for t in twins if t != ids[child["pin"]]),
            "phone": bool(people_rows[applicant].get("phone")),
            # ADR 0046: what the short read takes from the draft (``facts._vouched``); the
            # draft's ``phone`` is the applicant's, encrypted by ``_copy`` like the person's.
            "vouched": {
                "relation": relation.value,
                "surname": row["surname"],
                "name": row["name"],
                "birth_date": row["birth_date"].isoformat(),
            },
        }

    # Popularity: a heavy-tailed weight per school, so a few are wanted by far more parents.
    popularity = {s: math.exp(rng.gauss(0, 1.3)) for s in pools}
    draft_rows, targets = [], []
    draft_id = _next_id(Draft)
    uncovered = 0
    for child, mother, father, applicant in families:
        covering: set[int] = set()
        for pin in (child["pin"], mother, father):
            row = people_rows.get(pin)
            if row and row["address_street_code"]:
                covering |= schools_at(row["address_street_code"], row["address_house"])
        if not covering:
            uncovered += 1
            continue
        options = [
            (school_id, language, pool_id)
            for school_id in sorted(covering)
            for language, pool_id in pools[school_id].items()
        ]
        weights = [popularity[s] * LANGUAGE_PREFERENCE.get(lang, 0.01) for s, lang, _p in options]
        school_id, language, pool_id = rng.choices(options, weights)[0]
        child_id, uid = ids[child["pin"]], users[applicant]
        draft_rows.append(
            {
                "id": draft_id,
                "user_id": uid,
                "campaign_id": campaign.pk,
                "child_id": child_id,
                "school_id": school_id,
                "language": language,
                "route": Route.MICRODISTRICT.value,
                "checked_at": now,
                "facts": json.dumps(stored(child, applicant, school_id)),
                "phone": people_rows[applicant].get("phone") or "",
            }
        )
        draft_id += 1
        targets.append(
            (
                raw_token(applicant),
                child_id,
                uid,
                ids[applicant],
                school_id,
                language,
                pool_id,
                campaign.pk,
            )
        )
    _copy(Draft, draft_rows)
    _reset_sequence(Draft)
    step(f"{len(draft_rows)} drafts ({uncovered} children in no microdistrict left out)")
    _check_stored_facts(rng.sample(draft_rows, min(200, len(draft_rows))))
    rng.shuffle(targets)  # arrival order at the opening
    with connection.cursor() as cursor:
        cursor.execute(
            """CREATE TABLE bench_target (
                 n bigserial PRIMARY KEY, token text NOT NULL, child_id bigint NOT NULL,
                 user_id bigint NOT NULL, applicant_id bigint NOT NULL, school_id bigint NOT NULL,
                 language text NOT NULL, pool_id bigint NOT NULL, campaign_id bigint NOT NULL,
                 route text NOT NULL DEFAULT 'microdistrict')"""
        )
        with cursor.cursor.copy(
            "COPY bench_target (n, token, child_id, user_id, applicant_id, school_id, language,"
            " pool_id, campaign_id) FROM STDIN"
        ) as copy:
            for n, target in enumerate(targets, start=1):
                copy.write_row((n, *target))
        cursor.execute("SELECT setval('bench_target_n_seq', (SELECT max(n) FROM bench_target))")
        cursor.execute("VACUUM ANALYZE")
    step(f"{len(targets)} targets")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--build", action="store_true", required=True)
    parser.add_argument("--country", type=Path, required=True)
    args = parser.parse_args()
    build(args.country)


if __name__ == "__main__":
    main()


def ensure_seed(cluster: Any, scale: str, log: Any = print) -> str:
    """The template database for this scale, built when missing; returns its name."""
    name = f"seed_{scale}_{seed_hash(scale)}"
    if cluster.psql(f"SELECT 1 FROM pg_database WHERE datname = '{name}'"):
        return name
    country = country_dir(scale)
    building = f"seed_build_{scale}"
    cluster.psql(f'DROP DATABASE IF EXISTS "{building}"')
    cluster.psql(f'CREATE DATABASE "{building}"')
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": cluster.url(building),
        "KATTOO_FIELD_KEYS": FIELD_KEY,
    }
    started = time.perf_counter()
    log(f"building the seed database {name} (once; later runs copy it)")
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True
    )
    subprocess.run(
        [sys.executable, "-m", "bench.seed", "--build", "--country", str(country)],
        cwd=ROOT,
        env=env,
        check=True,
    )
    for old in cluster.psql(
        f"SELECT datname FROM pg_database WHERE datname LIKE 'seed\\_{scale}\\_%'"
    ).split():
        cluster.psql(f'ALTER DATABASE "{old}" IS_TEMPLATE false')
        cluster.psql(f'DROP DATABASE "{old}"')
    cluster.psql(f'ALTER DATABASE "{building}" RENAME TO "{name}"')
    cluster.psql(f'ALTER DATABASE "{name}" IS_TEMPLATE true')
    log(f"seed built in {time.perf_counter() - started:.0f} s")
    return name
