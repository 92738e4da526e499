"""``manage.py load_demo``: a realistic demo, built the way a deployment is set up.

The demo is one use of the real lifecycle (docs/runbooks/campaign.md), replayed on a timeline
that ends now: the ministry administrator creates a *rehearsal* campaign by copying the
official 2026–2027 one (its birth window and limits, with stage times around today) and
publishes it; creates the district officers and an analyst; the officer creates the director
of a school; the catalog file is imported and the quotas are computed automatically (§11);
directors confirm some quotas before the lock; after the lock the district approves all but a
few; stage 1 opens and parents register; one of them appeals. Every step is the service a page
or an API call uses, as the person who would take it, with the clock set to when they would.

It runs in one transaction on a database that holds no catalog yet (``make run`` starts from
a new SQLite file), so a failure leaves nothing half-built. The demo staff's passwords and
authenticator secrets are printed; their enrolment went through the same one-time link as a
real person's, completed here with the printed secret.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from base64 import b32encode
from collections import Counter
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from kattoo.accounts.models import Role, User
from kattoo.accounts.services import applicant_for_pin, token_issue
from kattoo.accounts.staff import staff_create, staff_enrolment_complete, staff_enrolment_start
from kattoo.appeals.services import appeal_file
from kattoo.campaigns.models import Campaign
from kattoo.campaigns.selectors import Stage, campaign_quota_lock_at
from kattoo.campaigns.services import campaign_create, campaign_publish
from kattoo.catalog.models import District, School
from kattoo.catalog.selectors import AddressKey, microdistrict_school_ids
from kattoo.core import clock
from kattoo.core.actors import Actor
from kattoo.enrollment.models import SeatPool
from kattoo.enrollment.selectors import schools_open_to_child
from kattoo.enrollment.services import application_register
from kattoo.integrations.registry.client import registry_reset
from kattoo.people.models import Person
from kattoo.people.services import applicant_children_sync
from kattoo.quotas.automatic import catalog_import_with_quotas
from kattoo.quotas.models import Quota
from kattoo.quotas.services import QuotaOperation, quota_approve, quota_change, quota_confirm
from kattoo.synthetic.country import generate, write_country

DATA = Path(__file__).resolve().parents[2] / "data"
OFFICIAL_CODE = "2026-2027"
DEMO_CODE = "2026-2027-rehearsal"
STAFF_PASSWORD = "demo-pass-2026"  # noqa: S105 - demo accounts on a local database
# Registered children waiting for the demo director, and quotas left for the district.
REGISTERED_AT_DIRECTOR = 5
UNAPPROVED_IN_DISTRICT = 2


class Command(BaseCommand):
    help = (
        "Build the demo on an empty database through the same services as the pages: a "
        "rehearsal campaign, staff, the catalog with automatic quotas, registrations, an appeal."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--stage",
            choices=["before", "1", "2"],
            default="1",
            help="which stage of the rehearsal campaign is open now (default: 1)",
        )
        parser.add_argument(
            "--country",
            choices=["small", "curated"],
            default="small",
            help="a generated small country (default) or the hand-shaped demo in kattoo/demo/data",
        )
        parser.add_argument("--seed", type=int, default=1, help="seed of the generated country")

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.KATTOO_DEMO_ALLOWED:
            raise CommandError(
                "The demo is not built under production settings: its staff accounts have a "
                "published password. A deployment starts with create_staff "
                "(docs/runbooks/campaign.md)."
            )
        if School.objects.exists() or Campaign.objects.filter(code=DEMO_CODE).exists():
            raise CommandError(
                "The demo is built on a database without a catalog; this one already has "
                "schools. `make run` starts from a new SQLite file (var/kattoo.sqlite3); for "
                "another database, point DATABASE_URL at an empty one."
            )
        official = Campaign.objects.filter(code=OFFICIAL_CODE).first()
        if official is None:
            raise CommandError(f"The official {OFFICIAL_CODE} campaign is missing: run migrate.")
        source = self._source(options["country"], options["seed"])
        catalog = json.loads((source / "catalog.json").read_text(encoding="utf-8"))
        population = json.loads((source / "population.json").read_text(encoding="utf-8"))
        self._population(source / "population.json")
        with transaction.atomic():
            demo = _DemoBuild(official=official, catalog=catalog, population=population)
            demo.run(options["stage"])
        self._report(demo)

    def _source(self, country: str, seed: int) -> Path:
        """Where the catalog and the population come from: the synthetic country generator
        (deterministic for a seed), or the hand-shaped files."""
        if country == "curated":
            return DATA
        out = Path(settings.VAR_DIR) / f"country-small-{seed}"
        if not (out / "population.json").exists():
            write_country(generate("small", seed), out)
        return out

    def _population(self, source: Path) -> None:
        """The registry's people: where the registry fake (and the simulator) read them."""
        target = Path(settings.KATTOO_REGISTRY["POPULATION_FILE"])
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        registry_reset()

    def _report(self, demo: _DemoBuild) -> None:
        w = self.stdout.write
        campaign = demo.campaign
        schools = School.objects.count()
        w(self.style.SUCCESS(f"Demo loaded: campaign {campaign}, {schools} schools."))
        opens = campaign.stage1_starts_at.astimezone(clock.BISHKEK)
        second = campaign.stage2_starts_at.astimezone(clock.BISHKEK)
        lock = campaign_quota_lock_at(campaign).astimezone(clock.BISHKEK)
        w(
            f"  quota lock {lock:%Y-%m-%d %H:%M} · stage 1 opens {opens:%Y-%m-%d %H:%M}"
            f" · stage 2 {second:%Y-%m-%d %H:%M} (Asia/Bishkek)"
        )
        for line in demo.notes:
            w(f"  {line}")
        w("")
        w("Demo applicants (PIN, who they are):")
        people = demo.catalog.get("demo", {}).get("people", [])
        for entry in people:
            w(f"  {entry['pin']}  {entry.get('name', '')}: {entry.get('description', '')}")
        if people and demo.stage != "before":
            pin = people[0]["pin"]
            actor = Actor(user=None, channel="cli")
            user = applicant_for_pin(pin=pin, actor=actor)
            token = token_issue(user=user, actor=actor, label="demo")
            api = f"{settings.KATTOO_PUBLIC_URL}/api/v1"
            w("")
            w(f"A token for {pin}:")
            w(f"  {token}")
            w(f'  curl -H "Authorization: Bearer {token}" {api}/me/children')
            w("Another applicant's token: .venv/bin/python manage.py issue_token --pin PIN")
        w("")
        w(f"Staff at /staff/login/ (password {STAFF_PASSWORD}):")
        for username, (description, _secret) in demo.staff.items():
            w(f"  {username:9s} {description}")
        w("  Authenticator secrets (add to an authenticator app, or: oathtool --totp -b SECRET):")
        for username, (_description, secret) in demo.staff.items():
            w(f"    {username:9s} {secret}")


class _DemoBuild:
    """The demo's timeline; each step as the person who takes it, at the time they would."""

    def __init__(
        self, *, official: Campaign, catalog: dict[str, Any], population: dict[str, Any]
    ) -> None:
        self.official = official
        self.catalog = catalog
        self.population = population
        self.cli = Actor(user=None, channel="cli")
        self.staff: dict[str, tuple[str, str]] = {}
        self.notes: list[str] = []
        self.stage = "1"
        self.campaign = official
        self.school_id: int | None = None
        self.officers: dict[int, User] = {}  # district id -> its officer
        # child PIN -> the schools whose microdistrict holds the child's own address
        self.schools_at_home: dict[str, set[int]] = {}

    # -- the timeline -------------------------------------------------------------------------

    def run(self, stage: str) -> None:
        self.stage = stage
        stage1, stage2 = self._stage_times(stage)
        # The lock is known only once the campaign exists; set up well before it.
        setup_at = stage1 - dt.timedelta(days=21)
        ends = stage2 + dt.timedelta(days=60)
        with clock.frozen(setup_at):
            ministry = self._enrolled("ministry", Role.MINISTRY_ADMIN, creator=None)
            self.campaign = campaign_create(
                values={
                    "code": DEMO_CODE,
                    # Issue 14: a title in each interface language, never English on a
                    # Kyrgyz page.
                    "title_ky": "2026–2027 окуу жылы (машыгуу кампаниясы)",
                    "title_ru": "2026–2027 учебный год (пробная кампания)",
                    "title_uz": "2026–2027 o‘quv yili (sinov kampaniyasi)",
                    "title_en": "2026–2027 school year (rehearsal)",
                    "stage1_starts_at": stage1,
                    "stage2_starts_at": stage2,
                    "registration_ends_at": ends,
                    # §18, §21: documents and medical certificates follow the rehearsal's
                    # own stages, as the official dates follow the official ones.
                    "documents_request_until": (ends - dt.timedelta(days=1)).date(),
                    "medical_from": stage2.date(),
                    "medical_until": ends.date(),
                },
                copy_from=self.official,
                actor=self._as(ministry),
            )
            campaign_publish(campaign=self.campaign, actor=self._as(ministry))
            self._enrolled("analyst", Role.MINISTRY_ANALYST, creator=ministry)
            self._enrolled("operator", Role.OPERATOR, creator=None)
            result = catalog_import_with_quotas(
                data=self.catalog, campaign=self.campaign, actor=self._as(ministry)
            )
            self.notes.append(
                f"catalog imported; quotas computed automatically: {result.quotas.computed}"
            )
            school = self._director_school()
            district = school.district
            self.school_id = school.pk
            officer = self._enrolled("district", Role.DISTRICT, creator=ministry, district=district)
            self.officers[district.pk] = officer
            director = self._enrolled("director", Role.SCHOOL, creator=officer, school=school)
            self._other_officers(ministry, district)
        lock_at = campaign_quota_lock_at(self.campaign)
        with clock.frozen(min(lock_at, clock.now()) - dt.timedelta(hours=6)):
            self._directors_confirm(director, stage)
        if stage == "before":
            self.notes.append(
                f"the director's quota ({school.code}) waits for the director's confirmation"
            )
            return
        with clock.frozen(lock_at + dt.timedelta(hours=2)):
            self._districts_approve(officer, district)
        with clock.frozen(stage1 + dt.timedelta(minutes=3)):
            self._register_at(school, officer)

    def _stage_times(self, stage: str) -> tuple[dt.datetime, dt.datetime]:
        now = clock.now().replace(second=0, microsecond=0)
        if stage == "before":
            stage1 = now + dt.timedelta(days=7)
        elif stage == "1":
            stage1 = now - dt.timedelta(hours=1)
        else:
            stage1 = now - dt.timedelta(days=14)
        stage2 = now - dt.timedelta(hours=1) if stage == "2" else stage1 + dt.timedelta(days=30)
        return stage1, stage2

    # -- people ----------------------------------------------------------------------------------

    def _as(self, user: User) -> Actor:
        return Actor(user=user, channel="web")

    def _enrolled(
        self,
        username: str,
        role: str,
        *,
        creator: User | None,
        school: School | None = None,
        district: District | None = None,
    ) -> User:
        """Created by whom the rules say, then enrolled through the one-time link: the
        password chosen, the authenticator's first code entered."""
        user, token = staff_create(
            username=username,
            role=role,
            full_name=_FULL_NAMES[username],
            actor_user=creator,
            actor=self._as(creator) if creator else self.cli,
            school=school.code if school else None,
            district=district.soate if district else None,
        )
        started = staff_enrolment_start(token=token, password=STAFF_PASSWORD, actor=self.cli)
        device: TOTPDevice = started.device
        code = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift).token()
        staff_enrolment_complete(token=token, code=f"{code:0{device.digits}d}", actor=self.cli)
        scope = f" ({school.code})" if school else f" ({district.soate})" if district else ""
        self.staff[username] = (f"{_ROLES[role]}{scope}", b32encode(device.bin_key).decode())
        return user

    def _other_officers(self, ministry: User, first: District) -> None:
        """Every district office gets its officer account; they enrol when they are ready
        (readiness shows who has not)."""
        for n, district in enumerate(District.objects.exclude(pk=first.pk).order_by("soate"), 2):
            self.officers[district.pk], _token = staff_create(
                username=f"district{n}",
                role=Role.DISTRICT,
                full_name=f"{_FULL_NAMES['district']} {n}",
                actor_user=ministry,
                actor=self._as(ministry),
                district=district.soate,
            )

    # -- quotas ----------------------------------------------------------------------------------

    def _director_school(self) -> School:
        """The school whose microdistrict holds the most children of the window (so its
        director and its district have registrations to work on)."""
        tally: Counter[int] = Counter()
        for child in self._window_children():
            address = child.get("address") or {}
            key = AddressKey(address.get("streetId", ""), address.get("house", ""))
            at_home = microdistrict_school_ids([key])
            self.schools_at_home[child["pin"]] = at_home
            tally.update(at_home)
        schools = School.objects.select_related("district").order_by("code")
        chosen = max(schools, key=lambda s: (tally[s.pk], -s.pk), default=None)
        if chosen is None:
            raise CommandError("The demo catalog holds no school.")
        return chosen

    def _directors_confirm(self, director: User, stage: str) -> None:
        """Before the lock: the demo director raises a class-set and confirms (except in the
        "before" demo, where that is left to try); some other schools confirm too, the rest
        will be confirmed automatically at the lock (§17)."""
        quotas = Quota.objects.filter(campaign=self.campaign).select_related("school")
        for quota in quotas.order_by("school__code"):
            if quota.school_id == director.school_id:
                if stage == "before":
                    continue
                actor = self._as(director)
                first = quota.class_sets.order_by("number").first()
                if first is not None and first.seats < self.campaign.class_size_max:
                    quota_change(
                        quota=quota,
                        operations=[QuotaOperation(op="raise", class_set=1, seats=first.seats + 1)],
                        actor=actor,
                    )
                quota_confirm(quota=quota, actor=actor)
            elif quota.school.code.endswith(("1", "3", "5")):
                quota_confirm(quota=quota, actor=self.cli)

    def _districts_approve(self, officer: User, district: District) -> None:
        """After the lock the districts approve; the demo district leaves a few for its
        officer to try."""
        left = 0
        quotas = Quota.objects.filter(campaign=self.campaign, approved_at__isnull=True)
        for quota in quotas.select_related("school").order_by("school__code"):
            mine = quota.school.district_id == district.pk
            if mine and quota.school_id != self.school_id and left < UNAPPROVED_IN_DISTRICT:
                left += 1
                continue
            approver = officer if mine else self.officers.get(quota.school.district_id)
            quota_approve(quota=quota, actor=self._as(approver) if approver else self.cli)
        self.notes.append(f"quotas waiting for the district's approval: {left}")

    # -- families --------------------------------------------------------------------------------

    def _window_children(self) -> list[dict[str, Any]]:
        """Children of the birth window with a mother on record, not among the people the
        demo lists for visitors to try (those stay unregistered)."""
        listed = set()
        for entry in self.catalog.get("demo", {}).get("people", []):
            listed.add(entry["pin"])
            listed.update(entry.get("children", []))
        campaign = self.campaign
        out = []
        for person in self.population.get("people", []):
            act = person.get("birthAct") or {}
            born = dt.date.fromisoformat(person["dateOfBirth"])
            if not act.get("motherPin") or person["pin"] in listed:
                continue
            if act["motherPin"] in listed or act.get("fatherPin") in listed:
                continue
            if campaign.birth_from <= born <= campaign.birth_to:
                out.append(person)
        return out

    def _register_at(self, school: School, officer: User) -> None:
        """Stage 1 has opened: parents of the school's microdistrict register; the first of
        them also appeals to the district."""
        pools = SeatPool.objects.filter(campaign=self.campaign, school=school, capacity__gt=0)
        languages = list(pools.order_by("language").values_list("language", flat=True))
        if not languages:
            return
        registered: list[tuple[User, Any]] = []
        for child_row in self._window_children():
            if len(registered) >= REGISTERED_AT_DIRECTOR:
                break
            if school.pk not in self.schools_at_home.get(child_row["pin"], ()):
                continue
            mother = child_row["birthAct"]["motherPin"]
            user = applicant_for_pin(pin=mother, actor=self.cli)
            actor = Actor(user=user, channel="web")
            assert user.person is not None
            applicant_children_sync(applicant=user.person, actor=actor)
            child = Person.objects.filter(pin=child_row["pin"]).first()
            if (
                child is None
                or not schools_open_to_child(
                    campaign=self.campaign, child=child, applicant=user.person, stage=Stage.STAGE1
                )
                .filter(pk=school.pk)
                .exists()
            ):
                continue
            application = application_register(
                campaign=self.campaign,
                user=user,
                child=child,
                school=school,
                language=languages[len(registered) % len(languages)],
                actor=actor,
            )
            registered.append((user, application))
        self.notes.append(f"children registered at the director's school: {len(registered)}")
        if registered:
            user, application = registered[0]
            appeal_file(
                campaign=self.campaign,
                user=user,
                subject="other",
                text="Мектепке кабыл алуу качан чечилет? Когда школа примет решение о приёме?",
                actor=Actor(user=user, channel="web"),
                application=application,
            )
            self.notes.append("an appeal waits for the district's answer")


_FULL_NAMES = {
    "ministry": "Асанова Гүлнара Бакытовна",
    "analyst": "Исаков Нурлан Маратович",
    "operator": "Токтосунов Эрлан Жумабекович",
    "district": "Абдыкадырова Айнура Каныбековна",
    "director": "Жээнбеков Талант Асанович",
}
# The console speaks the operator's English, like the other management commands.
_ROLES: dict[str, str] = {
    Role.MINISTRY_ADMIN: "ministry administrator",
    Role.MINISTRY_ANALYST: "ministry analyst",
    Role.OPERATOR: "technical operator (Django admin)",
    Role.DISTRICT: "district education officer",
    Role.SCHOOL: "school director",
}
