"""``manage.py load_demo``: a realistic demo on the embedded SQLite default.

Loads the demo catalog (districts, schools with 4th-grade data, microdistricts), puts the demo
population where the registry fake reads it, and opens a *rehearsal* campaign whose dates sit
around today — the 2026–2027 rules (birth window, limits, working-day lock) with stage times
moved so that a person trying the demo can register now. The official 2026–2027 campaign
stays in the database, inactive while the rehearsal runs.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from base64 import b32encode
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django_otp.plugins.otp_totp.models import TOTPDevice

from kattoo.accounts.models import Role
from kattoo.accounts.services import applicant_for_pin, staff_user_upsert, token_issue
from kattoo.campaigns.models import Campaign
from kattoo.campaigns.selectors import campaign_quota_lock_at
from kattoo.campaigns.services import campaign_upsert
from kattoo.catalog.importing import catalog_import
from kattoo.catalog.models import District, School
from kattoo.core import clock
from kattoo.core.actors import Actor
from kattoo.integrations.registry.client import registry_reset
from kattoo.quotas.models import Quota
from kattoo.quotas.services import quota_approve, quota_compute, quota_confirm
from kattoo.synthetic.country import generate, write_country

DATA = Path(__file__).resolve().parents[2] / "data"
DEMO_CODE = "2026-2027-rehearsal"
STAFF_PASSWORD = "demo-pass-2026"  # noqa: S105 - demo accounts on a local SQLite database


class Command(BaseCommand):
    help = "Load the demo catalog, registry population and a rehearsal campaign open now."

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
        actor = Actor(user=None, channel="cli")
        campaign = self._campaign(options["stage"], actor)
        source = self._source(options["country"], options["seed"])
        catalog = json.loads((source / "catalog.json").read_text(encoding="utf-8"))
        catalog_import(data=catalog, actor=actor, campaign=campaign)
        self._population(source / "population.json")
        lock_at = campaign_quota_lock_at(campaign)
        # Quotas are computed and confirmed the way schools would have done before the lock.
        with clock.frozen(lock_at - dt.timedelta(days=3)):
            for school in School.objects.order_by("code"):
                quota = Quota.objects.filter(school=school, campaign=campaign).first()
                if quota is None or quota.status == "draft":
                    quota = quota_compute(school=school, campaign=campaign, actor=actor)
                if school.code.endswith(("1", "3", "5")) and quota.status == "draft":
                    quota_confirm(quota=quota, actor=actor)
        for quota in Quota.objects.filter(campaign=campaign, approved_at__isnull=True):
            quota_approve(quota=quota, actor=actor)
        self._report(campaign, catalog, actor)

    def _campaign(self, stage: str, actor: Actor) -> Campaign:
        """The official 2026–2027 rules with stage times moved around now (ADR 0004)."""
        now = clock.now().replace(second=0, microsecond=0)
        if stage == "before":
            stage1 = now + dt.timedelta(days=7)
        elif stage == "1":
            stage1 = now - dt.timedelta(hours=1)
        else:
            stage1 = now - dt.timedelta(days=14)
        stage2 = now - dt.timedelta(hours=1) if stage == "2" else stage1 + dt.timedelta(days=30)
        official = Campaign.objects.get(code="2026-2027")
        values = {
            field.name: getattr(official, field.name)
            for field in Campaign._meta.concrete_fields
            if field.name not in ("id", "code", "title", "is_active")
        }
        values.update(
            title="2026–2027 (rehearsal)",
            stage1_starts_at=stage1,
            stage2_starts_at=stage2,
            registration_ends_at=stage2 + dt.timedelta(days=60),
        )
        return campaign_upsert(code=DEMO_CODE, values=values, actor=actor, activate=True)

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
        target = Path(settings.KATTOO_REGISTRY["POPULATION_FILE"])
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        registry_reset()

    def _report(self, campaign: Campaign, catalog: dict[str, Any], actor: Actor) -> None:
        first_school = School.objects.order_by("code").first()
        district = District.objects.order_by("soate").first()
        staff: list[tuple[str, str, dict[str, Any]]] = [
            ("director", Role.SCHOOL, {"school": first_school}),
            ("district", Role.DISTRICT, {"district": district}),
            ("ministry", Role.MINISTRY_ADMIN, {}),
            ("operator", Role.OPERATOR, {"is_superuser": True}),
        ]
        secrets: dict[str, str] = {}
        for username, role, scope in staff:
            user = staff_user_upsert(
                username=username, role=role, actor=actor, password=STAFF_PASSWORD, **scope
            )
            # The demo's authenticator: a TOTP device whose secret is printed below.
            device = TOTPDevice.objects.filter(user=user).first() or TOTPDevice.objects.create(
                user=user, name="kattoo", confirmed=True
            )
            secrets[username] = b32encode(device.bin_key).decode()

        w = self.stdout.write
        schools = School.objects.count()
        w(self.style.SUCCESS(f"Demo loaded: campaign {campaign}, {schools} schools."))
        opens = campaign.stage1_starts_at.astimezone(clock.BISHKEK)
        second = campaign.stage2_starts_at.astimezone(clock.BISHKEK)
        w(f"  stage 1 opens {opens:%Y-%m-%d %H:%M}, stage 2 {second:%Y-%m-%d %H:%M} (Asia/Bishkek)")
        w("")
        w("Demo applicants (PIN, who they are):")
        people = catalog.get("demo", {}).get("people", [])
        for entry in people:
            w(f"  {entry['pin']}  {entry.get('name', '')}: {entry.get('description', '')}")
        if people:
            pin = people[0]["pin"]
            user = applicant_for_pin(pin=pin, actor=actor)
            token = token_issue(user=user, actor=actor, label="demo")
            api = "http://127.0.0.1:8000/api/v1"
            w("")
            w(f"A token for {pin}:")
            w(f"  {token}")
            w(f'  curl -H "Authorization: Bearer {token}" {api}/me/children')
            w("Another applicant's token: .venv/bin/python manage.py issue_token --pin PIN")
        w("")
        code = first_school.code if first_school else "-"
        w(
            f"Staff at /staff/login/ (password {STAFF_PASSWORD}): director (school {code}), "
            "district, ministry, operator (Django admin at /admin/)."
        )
        w("  Authenticator secrets (add to an authenticator app, or: oathtool --totp -b SECRET):")
        for username, secret in secrets.items():
            w(f"    {username:9s} {secret}")
