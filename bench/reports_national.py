"""Report timings at national scale (issue 5: every report page under 1 s).

Loads the national synthetic country (``generate_country --scale national``) into a fresh
PostgreSQL database ``<name>_reports``, computes every school's quota, registers most of the
window's children in bulk (a realistic mix of statuses, routes and stages — written directly,
this measures reads, not the registration path), then times each report query.

    DATABASE_URL=postgres://… python -m bench.reports_national --country /tmp/national
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import time
import uuid
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--country", required=True, help="directory with catalog.json and population.json"
    )
    parser.add_argument(
        "--share", type=float, default=0.85, help="share of window children registered"
    )
    args = parser.parse_args()

    from bench.common import fresh_database

    fresh_database("reports")
    from django.db import connection

    from kattoo.accounts.models import Role, User
    from kattoo.campaigns.models import Campaign
    from kattoo.catalog.importing import catalog_import
    from kattoo.catalog.models import School
    from kattoo.core import clock
    from kattoo.core.actors import Actor
    from kattoo.enrollment.models import Application, SeatPool
    from kattoo.people.models import Person
    from kattoo.quotas.services import quota_compute
    from kattoo.reports.selectors import report_applications, report_seats

    actor = Actor(user=None, channel="cli")
    campaign = Campaign.objects.get(code="2026-2027")
    t = time.perf_counter()
    catalog = json.loads(Path(args.country, "catalog.json").read_text(encoding="utf-8"))
    catalog_import(data=catalog, actor=actor, campaign=campaign)
    print(f"catalog imported in {time.perf_counter() - t:.1f} s")

    t = time.perf_counter()
    with clock.frozen(clock.bishkek(2026, 3, 2, 9)):
        for school in School.objects.all():
            quota_compute(school=school, campaign=campaign, actor=actor)
    print(f"quotas of {School.objects.count()} schools computed in {time.perf_counter() - t:.1f} s")

    t = time.perf_counter()
    people = json.loads(Path(args.country, "population.json").read_text(encoding="utf-8"))["people"]
    rng = random.Random(2026)
    now = clock.now()
    window = [
        p for p in people if "2019-01-01" <= p["dateOfBirth"] <= "2020-12-31" and p.get("birthAct")
    ]
    rng.shuffle(window)
    window = window[: int(len(window) * args.share)]
    Person.objects.bulk_create(
        [
            Person(
                pin=p["pin"],
                surname=p["surname"],
                name=p["name"],
                sex=p["gender"],
                birth_date=dt.date.fromisoformat(p["dateOfBirth"]),
                fetched_at=now,
            )
            for p in window
        ],
        batch_size=10000,
    )
    children = list(Person.objects.values_list("pk", flat=True))
    clerk = User.objects.create(username="bench-clerk", role=Role.OPERATOR)
    pools = list(
        SeatPool.objects.filter(campaign=campaign).values("pk", "school_id", "language", "capacity")
    )
    rows, taken = [], {}
    stage1 = campaign.stage1_starts_at
    for child_id in children:
        pool = rng.choice(pools)
        position = taken.get(pool["pk"], 0) + 1
        taken[pool["pk"]] = position
        late = rng.random() < 0.3
        created = (
            stage1 + dt.timedelta(seconds=rng.randint(0, 3600))
            if not late
            else (campaign.stage2_starts_at + dt.timedelta(hours=rng.randint(0, 500)))
        )
        status = rng.choices(["registered", "admitted", "refused", "cancelled"], [50, 40, 3, 7])[0]
        route = "open" if late else rng.choices(["microdistrict", "teacher", "twin"], [95, 3, 2])[0]
        rows.append(
            Application(
                id=uuid.uuid4(),
                campaign=campaign,
                child_id=child_id,
                applicant_id=child_id,
                user=clerk,
                school_id=pool["school_id"],
                language=pool["language"],
                pool_id=pool["pk"],
                status=status,
                route=route,
                position=position,
                created_at=created,
                status_changed_at=created,
            )
        )
    Application.objects.bulk_create(rows, batch_size=10000)
    for pool_id, n in taken.items():
        SeatPool.objects.filter(pk=pool_id).update(
            taken=min(n, 10**6), capacity=max(n, 1) + 0, quota_seats=max(n, 1)
        )
    with connection.cursor() as cur:
        cur.execute("ANALYZE")
    print(f"{len(rows)} registrations written in {time.perf_counter() - t:.1f} s")

    reports = [
        ["region"],
        ["district"],
        ["school"],
        ["region", "language"],
        ["district", "language", "sex"],
        ["birth_year", "stage", "route"],
        ["region", "district", "school", "language"],
    ]
    print("report (applications + seats)             ms (best of 3)")
    for by in reports:
        best = float("inf")
        for _ in range(3):
            t = time.perf_counter()
            report_applications(campaign=campaign, applications=Application.objects.all(), by=by)
            report_seats(campaign=campaign, pools=SeatPool.objects.all(), by=by)
            best = min(best, time.perf_counter() - t)
        print(f"  {','.join(by):45s} {best * 1000:8.0f}")


if __name__ == "__main__":
    main()
