"""Service-level registration benchmark on PostgreSQL (``make bench``).

Builds a fresh database ``<name>_bench``: S schools with Kyrgyz and Russian pools, C children
with their parents' accounts, and a popularity skew (a few schools wanted by far more parents
than they have seats). Then T threads register every child once, through
``application_register`` — every rule, the history row and the audit row in place — and the
run reports accepted and refused registrations per second, latency percentiles, and checks
the invariants in SQL afterwards. HTTP and the flash crowd are measured in a later benchmark.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import threading
import time
from collections import Counter

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--schools", type=int, default=200)
    parser.add_argument("--children", type=int, default=20000)
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args()

    from bench.common import fresh_database

    fresh_database("bench")
    from django.db import connection, connections, transaction

    from kattoo.accounts.models import Role, User
    from kattoo.campaigns.models import Campaign
    from kattoo.catalog.models import (
        District,
        MicrodistrictAddress,
        Region,
        School,
        Settlement,
        Street,
    )
    from kattoo.core import clock
    from kattoo.core.actors import Actor
    from kattoo.core.errors import RuleViolation
    from kattoo.enrollment.pools import pools_sync
    from kattoo.enrollment.services import application_register
    from kattoo.people.models import ChildLink, Person, Relation
    from kattoo.quotas.models import ClassSet, ClassSetSource, Quota

    rng = random.Random(2026)
    campaign = Campaign.objects.get(code="2026-2027")
    now = clock.now()
    region = Region.objects.create(soate="41711000000000", name_ky="Бишкек", name_ru="Бишкек")
    district = District.objects.create(
        region=region, soate="41711100000000", name_ky="Ленин", name_ru="Ленинский"
    )
    settlement = Settlement.objects.create(
        district=district, soate="41711100000001", name_ky="Бишкек", name_ru="Бишкек"
    )
    schools, streets = [], []
    for i in range(args.schools):
        school = School.objects.create(
            code=f"B{i:05d}",
            name_ky=f"№{i} мектеп",
            name_ru=f"Школа №{i}",
            district=district,
            settlement=settlement,
            address_ky="-",
            address_ru="-",
            ownership="state",
        )
        street = Street.objects.create(
            settlement=settlement, code=f"BS{i:05d}", name_ky=f"Көчө {i}", name_ru=f"Улица {i}"
        )
        MicrodistrictAddress.objects.create(school=school, street=street)
        quota = Quota.objects.create(
            school=school, campaign=campaign, computed_at=now, basis="bench"
        )
        ClassSet.objects.create(
            quota=quota,
            number=1,
            language="ky",
            seats=rng.randint(25, 42),
            source=ClassSetSource.ADDED,
        )
        ClassSet.objects.create(
            quota=quota,
            number=2,
            language="ky",
            seats=rng.randint(25, 42),
            source=ClassSetSource.ADDED,
        )
        ClassSet.objects.create(
            quota=quota,
            number=3,
            language="ru",
            seats=rng.randint(25, 42),
            source=ClassSetSource.ADDED,
        )
        seats: Counter[str] = Counter()
        for class_set in quota.class_sets.all():
            seats[class_set.language] += class_set.seats
        with transaction.atomic():
            pools_sync(campaign_id=campaign.pk, school_id=school.pk, seats=seats)
        schools.append(school)
        streets.append(street)

    # Popularity skew: a Zipf-like weight, so the first schools are heavily oversubscribed.
    weights = [1 / (rank + 1) ** 0.9 for rank in range(args.schools)]
    parents, children, choices = [], [], []
    for i in range(args.children):
        k = rng.choices(range(args.schools), weights)[0]
        street = streets[k]
        parents.append(
            Person(
                pin=f"1010119900{i:04d}"[:9] + f"{i:05d}",
                surname="Ата",
                name="Эне",
                sex="F",
                birth_date=dt.date(1990, 1, 1),
                fetched_at=now,
                address_street_code=street.code,
                address_house="1",
                passport_series="ID",
                passport_number=f"{i:07d}",
            )
        )
        children.append(
            Person(
                pin=f"2010120190{i:04d}"[:9] + f"{i:05d}",
                surname="Бала",
                name="Бала",
                sex="M",
                birth_date=dt.date(2019, 1, 1),
                fetched_at=now,
                address_street_code=street.code,
                address_house="1",
                birth_certificate_series="I-AN",
                birth_certificate_number=f"{i:07d}",
            )
        )
        choices.append((k, "ky" if rng.random() < 0.8 else "ru"))
    Person.objects.bulk_create(parents + children, batch_size=5000)
    parents = list(Person.objects.filter(pin__startswith="101").order_by("pin"))
    children = list(Person.objects.filter(pin__startswith="201").order_by("pin"))
    for p, c in zip(parents, children, strict=True):
        c.mother_pin = p.pin
    Person.objects.bulk_update(children, ["mother_pin"], batch_size=5000)
    ChildLink.objects.bulk_create(
        [
            ChildLink(applicant=p, child=c, relation=Relation.MOTHER, verified_at=now)
            for p, c in zip(parents, children, strict=True)
        ],
        batch_size=5000,
    )
    User.objects.bulk_create(
        [User(username=p.pin, role=Role.APPLICANT, person=p) for p in parents], batch_size=5000
    )
    users = {u.person_id: u for u in User.objects.select_related("person")}
    connection.close()

    work = list(range(args.children))
    rng.shuffle(work)
    latencies: list[float] = []
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()
    at = campaign.stage1_starts_at + dt.timedelta(minutes=1)

    def worker(items: list[int]) -> None:
        local_lat, local_out = [], Counter()
        for i in items:
            k, language = choices[i]
            user = users[parents[i].pk]
            start = time.perf_counter()
            try:
                application_register(
                    campaign=campaign,
                    user=user,
                    child=children[i],
                    school=schools[k],
                    language=language,
                    actor=Actor(user=user),
                )
                local_out["accepted"] += 1
            except RuleViolation as exc:
                local_out[exc.code] += 1
            local_lat.append(time.perf_counter() - start)
        connections.close_all()
        with lock:
            latencies.extend(local_lat)
            outcomes.update(local_out)

    chunks = [work[t :: args.threads] for t in range(args.threads)]
    with clock.frozen(at):
        started = time.perf_counter()
        threads = [threading.Thread(target=worker, args=(c,)) for c in chunks]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - started

    latencies.sort()

    def pct(p: float) -> float:
        return latencies[min(int(len(latencies) * p), len(latencies) - 1)] * 1000

    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM enrollment_seatpool WHERE taken > capacity")
        over = cur.fetchone()[0]
        cur.execute("""SELECT count(*) FROM enrollment_seatpool p WHERE taken <> (SELECT count(*)
                       FROM enrollment_application a WHERE a.pool_id = p.id AND a.status IN ('registered','admitted'))""")
        mismatched = cur.fetchone()[0]
        cur.execute("""SELECT count(*) FROM (SELECT child_id FROM enrollment_application
                       WHERE status IN ('registered','admitted') GROUP BY child_id HAVING count(*) > 1) d""")
        doubles = cur.fetchone()[0]
        cur.execute("SELECT count(*) FROM audit_auditevent WHERE action = 'application.register'")
        audits = cur.fetchone()[0]

    total = sum(outcomes.values())
    print(
        f"registration benchmark (service level, PostgreSQL, {args.threads} threads, 2 cores shared with the DB)"
    )
    print(f"  schools {args.schools}, children {args.children}, elapsed {elapsed:.2f} s")
    print(
        f"  attempts/s {total / elapsed:.0f}; accepted {outcomes['accepted']} "
        f"({outcomes['accepted'] / elapsed:.0f}/s); refused {dict((k, v) for k, v in outcomes.items() if k != 'accepted')}"
    )
    print(
        f"  latency ms p50 {pct(0.5):.1f}  p95 {pct(0.95):.1f}  p99 {pct(0.99):.1f}  mean {statistics.mean(latencies) * 1000:.1f}"
    )
    print(
        f"  invariants: pools over capacity {over}, taken mismatches {mismatched}, children with two seats {doubles}, "
        f"audit rows {audits} (= accepted: {audits == outcomes['accepted']})"
    )
    ok = over == 0 and mismatched == 0 and doubles == 0 and audits == outcomes["accepted"]
    raise SystemExit(0 if ok else 1)


if __name__ == "__main__":
    main()
