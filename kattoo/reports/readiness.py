"""Is the campaign ready to open? (issue 11, §11, §17, §31) — for the country and per district
(the ministry) or per school (a district officer): schools imported, quotas computed, confirmed
by directors, locked automatically, approved by the district, schools verified, directors with
a working account, seats offered per language; and what still blocks the opening.

Everything is read with a handful of set-based queries whatever the number of schools (one
annotated query over the schools, one over the seat pools): the country has ~2,300 schools.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.db.models import Exists, IntegerField, OuterRef, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django_otp.plugins.otp_totp.models import TOTPDevice

from kattoo.accounts.models import Role, User
from kattoo.campaigns.models import CalendarDay, Campaign
from kattoo.campaigns.selectors import (
    CampaignState,
    campaign_quota_lock_at,
    campaign_stage,
    campaign_state,
)
from kattoo.catalog.models import District, Language, School, SchoolVerification
from kattoo.catalog.selectors import localized_name, schools_participating
from kattoo.core import clock
from kattoo.core.errors import RuleViolation
from kattoo.enrollment.models import SeatPool
from kattoo.quotas.models import ClassSet, Quota, QuotaStatus
from kattoo.quotas.selectors import QuotaState

MINISTRY_ROLES = (Role.MINISTRY_ADMIN, Role.MINISTRY_ANALYST)
READINESS_ROLES = (*MINISTRY_ROLES, Role.DISTRICT)
# How close the quota lock must be for unconfirmed drafts to be listed: a dashboard threshold,
# not a rule of the regulation (the lock itself is campaign data, §17).
LOCK_APPROACHING = dt.timedelta(days=14)


class Severity(enum.StrEnum):
    BLOCKER = "blocker"  # stage 1 cannot open well while this remains
    WARNING = "warning"  # to look at; the campaign can open


class BlockerCode(enum.StrEnum):
    """Stable codes of what is not ready, in the order the dashboards list them."""

    CAMPAIGN_NOT_PUBLISHED = "campaign_not_published"
    NO_QUOTA = "no_quota"
    QUOTA_NO_SEATS = "quota_no_seats"
    NO_DIRECTOR = "no_director"
    QUOTA_NOT_APPROVED = "quota_not_approved"
    QUOTA_NOT_CONFIRMED = "quota_not_confirmed"
    SCHOOL_NOT_VERIFIED = "school_not_verified"
    NO_CALENDAR = "no_calendar"


@dataclass(frozen=True)
class SchoolRef:
    id: int
    code: str
    name: str


@dataclass
class Counts:
    schools: int = 0
    quotas_computed: int = 0
    quotas_confirmed: int = 0  # by the director
    quotas_locked_automatically: int = 0  # still a draft when the lock passed (§17)
    quotas_approved: int = 0  # by the district (§17)
    schools_verified: int = 0
    directors_working: int = 0  # schools whose director can sign in (password + TOTP)
    seats: dict[str, int] = field(default_factory=dict)  # language -> seats offered

    def add_seats(self, language: str, seats: int) -> None:
        self.seats[language] = self.seats.get(language, 0) + seats

    @property
    def seats_total(self) -> int:
        return sum(self.seats.values())


@dataclass(frozen=True)
class SchoolReadiness:
    school: SchoolRef
    quota_state: str  # "" (no quota), or a QuotaState
    approved: bool
    verified: bool
    director: bool
    quota_seats: int
    seats: dict[str, int]


@dataclass(frozen=True)
class DistrictReadiness:
    id: int
    soate: str
    name: str
    region: str
    counts: Counts


@dataclass(frozen=True)
class Blocker:
    code: str
    severity: str
    message: str
    count: int
    schools: list[SchoolRef] = field(default_factory=list)  # with a district only


@dataclass(frozen=True)
class Readiness:
    campaign: Campaign
    district: District | None  # None: the whole country
    stage: str
    lock_at: dt.datetime
    locked: bool
    published: bool
    totals: Counts
    districts: list[DistrictReadiness]  # the country view: one row per district
    schools: list[SchoolReadiness]  # the district view: one row per school
    blockers: list[Blocker]

    @property
    def ready(self) -> bool:
        return not any(b.severity == Severity.BLOCKER for b in self.blockers)

    @property
    def languages(self) -> list[str]:
        """Languages with seats, in the catalog's order (§11: Kyrgyz first)."""
        return [code for code in Language.values if code in self.totals.seats]


def readiness_districts(user: User) -> QuerySet[District]:
    """Districts whose readiness the user may read: all for the ministry, its own for a
    district officer, none for anyone else."""
    districts = District.objects.select_related("region")
    if user.role in MINISTRY_ROLES:
        return districts.all()
    if user.role == Role.DISTRICT and user.district_id is not None:
        return districts.filter(pk=user.district_id)
    return districts.none()


def _working_directors() -> QuerySet[User]:
    """School staff who can actually sign in: active, a usable password, a confirmed second
    factor."""
    return (
        User.objects.filter(role=Role.SCHOOL, school=OuterRef("pk"), is_active=True)
        .exclude(password="")
        .exclude(password__startswith=UNUSABLE_PASSWORD_PREFIX)
        .filter(Exists(TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)))
    )


def _school_facts(campaign: Campaign, schools: QuerySet[School]) -> list[dict[str, Any]]:
    """One row per school with everything readiness needs, in one query."""
    quota = Quota.objects.filter(campaign=campaign, school=OuterRef("pk"))
    quota_seats = (
        ClassSet.objects.filter(quota__campaign=campaign, quota__school=OuterRef("pk"))
        .order_by()
        .values("quota")
        .annotate(total=Sum("seats"))
        .values("total")[:1]
    )
    return list(
        schools.annotate(
            quota_status=Subquery(quota.values("status")[:1]),
            quota_approved_at=Subquery(quota.values("approved_at")[:1]),
            quota_seats=Coalesce(Subquery(quota_seats), 0, output_field=IntegerField()),
            verified=Exists(
                SchoolVerification.objects.filter(school=OuterRef("pk"), campaign=campaign)
            ),
            director=Exists(_working_directors()),
        )
        .order_by("code")
        .values(
            "pk",
            "code",
            "name_ky",
            "name_ru",
            "name_en",
            "district_id",
            "quota_status",
            "quota_approved_at",
            "quota_seats",
            "verified",
            "director",
        )
    )


class _Name:
    """``localized_name`` reads attributes; the facts are dicts."""

    def __init__(self, row: dict[str, Any]) -> None:
        self.name_ky, self.name_ru, self.name_en = row["name_ky"], row["name_ru"], row["name_en"]


def _state(row: dict[str, Any], locked: bool) -> str:
    if row["quota_status"] is None:
        return ""
    if row["quota_status"] == QuotaStatus.CONFIRMED:
        return str(QuotaState.CONFIRMED)
    return str(QuotaState.AUTO_CONFIRMED if locked else QuotaState.DRAFT)


def _count(counts: Counts, row: dict[str, Any], state: str) -> None:
    counts.schools += 1
    counts.quotas_computed += state != ""
    counts.quotas_confirmed += state == QuotaState.CONFIRMED
    counts.quotas_locked_automatically += state == QuotaState.AUTO_CONFIRMED
    counts.quotas_approved += row["quota_approved_at"] is not None
    counts.schools_verified += bool(row["verified"])
    counts.directors_working += bool(row["director"])


def _messages(lock_at: dt.datetime, year: int) -> dict[BlockerCode, Any]:
    lock = lock_at.astimezone(clock.BISHKEK).strftime("%Y-%m-%d %H:%M")
    return {
        BlockerCode.CAMPAIGN_NOT_PUBLISHED: lambda n: _("The campaign is not published yet."),
        BlockerCode.NO_QUOTA: lambda n: (
            ngettext(
                "%(n)d school has no quota computed.", "%(n)d schools have no quota computed.", n
            )
            % {"n": n}
        ),
        BlockerCode.QUOTA_NO_SEATS: lambda n: (
            ngettext("%(n)d quota offers no seats.", "%(n)d quotas offer no seats.", n) % {"n": n}
        ),
        BlockerCode.NO_DIRECTOR: lambda n: (
            ngettext(
                "%(n)d school has no director with a working account (password and authenticator).",
                "%(n)d schools have no director with a working account "
                "(password and authenticator).",
                n,
            )
            % {"n": n}
        ),
        BlockerCode.QUOTA_NOT_APPROVED: lambda n: (
            ngettext(
                "%(n)d quota is locked but not approved by the district.",
                "%(n)d quotas are locked but not approved by the district.",
                n,
            )
            % {"n": n}
        ),
        BlockerCode.QUOTA_NOT_CONFIRMED: lambda n: (
            ngettext(
                "%(n)d quota is not confirmed by its director; it locks automatically at %(lock)s.",
                "%(n)d quotas are not confirmed by their directors; they lock automatically at "
                "%(lock)s.",
                n,
            )
            % {"n": n, "lock": lock}
        ),
        BlockerCode.SCHOOL_NOT_VERIFIED: lambda n: (
            ngettext(
                "%(n)d school is not verified by the district.",
                "%(n)d schools are not verified by the district.",
                n,
            )
            % {"n": n}
        ),
        BlockerCode.NO_CALENDAR: lambda n: (
            _(
                "The working-day calendar of %(year)d has no holidays or moved days: the quota "
                "lock and the appeal due dates count only the weekly days off."
            )
            % {"year": year}
        ),
    }


SEVERITY = {
    BlockerCode.CAMPAIGN_NOT_PUBLISHED: Severity.BLOCKER,
    BlockerCode.NO_QUOTA: Severity.BLOCKER,
    BlockerCode.QUOTA_NO_SEATS: Severity.BLOCKER,
    BlockerCode.NO_DIRECTOR: Severity.BLOCKER,
    BlockerCode.QUOTA_NOT_APPROVED: Severity.BLOCKER,
    BlockerCode.QUOTA_NOT_CONFIRMED: Severity.WARNING,
    BlockerCode.SCHOOL_NOT_VERIFIED: Severity.WARNING,
    BlockerCode.NO_CALENDAR: Severity.WARNING,
}


def _school_blockers(
    row: dict[str, Any], *, now: dt.datetime, lock_at: dt.datetime
) -> list[BlockerCode]:
    codes = []
    has_quota = row["quota_status"] is not None
    if not has_quota:
        codes.append(BlockerCode.NO_QUOTA)
    elif not row["quota_seats"]:
        codes.append(BlockerCode.QUOTA_NO_SEATS)
    if not row["director"]:
        codes.append(BlockerCode.NO_DIRECTOR)
    if has_quota and now >= lock_at and row["quota_approved_at"] is None:
        codes.append(BlockerCode.QUOTA_NOT_APPROVED)
    if (
        row["quota_status"] == QuotaStatus.DRAFT
        and now < lock_at
        and lock_at - now <= LOCK_APPROACHING
    ):
        codes.append(BlockerCode.QUOTA_NOT_CONFIRMED)
    if not row["verified"]:
        codes.append(BlockerCode.SCHOOL_NOT_VERIFIED)
    return codes


def _scope(user: User, district: District | None) -> District | None:
    if user.role not in READINESS_ROLES:
        raise RuleViolation("forbidden")
    if user.role == Role.DISTRICT:
        if district is not None and district.pk != user.district_id:
            raise RuleViolation("not_found")  # another district's existence is not told
        return readiness_districts(user).get()
    return district


def campaign_readiness(
    *, campaign: Campaign, user: User, district: District | None = None
) -> Readiness:
    """The readiness of ``campaign`` for the country (ministry, no district), or for one
    district with a row per school (a district officer always reads its own district)."""
    district = _scope(user, district)
    now = clock.now()
    lock_at = campaign_quota_lock_at(campaign)
    locked = now >= lock_at
    stage = campaign_stage(campaign, now)
    stage1_year = campaign.stage1_starts_at.astimezone(clock.BISHKEK).year

    schools = schools_participating()
    if district is not None:
        schools = schools.filter(district=district)
    facts = _school_facts(campaign, schools)
    pools = SeatPool.objects.filter(campaign=campaign, school__in=schools).order_by()
    seat_key = "school_id" if district is not None else "school__district_id"
    seats: dict[int, dict[str, int]] = defaultdict(dict)
    for row in pools.values(seat_key, "language").annotate(seats=Sum("capacity")):
        seats[row[seat_key]][row["language"]] = row["seats"] or 0

    totals = Counts()
    per_district: dict[int, Counts] = defaultdict(Counts)
    school_rows: list[SchoolReadiness] = []
    concerned: dict[BlockerCode, list[SchoolRef]] = defaultdict(list)
    for row in facts:
        state = _state(row, locked)
        _count(totals, row, state)
        ref = SchoolRef(id=row["pk"], code=row["code"], name=localized_name(_Name(row)))
        for code in _school_blockers(row, now=now, lock_at=lock_at):
            concerned[code].append(ref)
        if district is None:
            _count(per_district[row["district_id"]], row, state)
        else:
            school_rows.append(
                SchoolReadiness(
                    school=ref,
                    quota_state=state,
                    approved=row["quota_approved_at"] is not None,
                    verified=bool(row["verified"]),
                    director=bool(row["director"]),
                    quota_seats=row["quota_seats"] or 0,
                    seats=dict(seats.get(row["pk"], {})),
                )
            )
    for key, by_language in seats.items():
        for language, n in by_language.items():
            totals.add_seats(language, n)
            if district is None:
                per_district[key].add_seats(language, n)

    district_rows = []
    if district is None:
        district_rows = [
            DistrictReadiness(
                id=d.pk,
                soate=d.soate,
                name=localized_name(d),
                region=localized_name(d.region),
                counts=per_district.get(d.pk, Counts()),
            )
            for d in District.objects.select_related("region").order_by("region__soate", "soate")
        ]

    # ADR 0016: a draft until published; an archived campaign was published in its time.
    published = campaign_state(campaign) != CampaignState.DRAFT
    found: dict[BlockerCode, int] = {code: len(refs) for code, refs in concerned.items()}
    if not published:
        found[BlockerCode.CAMPAIGN_NOT_PUBLISHED] = 1
    if not CalendarDay.objects.filter(date__year=stage1_year).exists():
        found[BlockerCode.NO_CALENDAR] = 1
    messages = _messages(lock_at, stage1_year)
    blockers = [
        Blocker(
            code=str(code),
            severity=str(SEVERITY[code]),
            message=messages[code](found[code]),
            count=found[code],
            schools=concerned.get(code, []) if district is not None else [],
        )
        for code in BlockerCode
        if found.get(code)
    ]
    return Readiness(
        campaign=campaign,
        district=district,
        stage=str(stage),
        lock_at=lock_at,
        locked=locked,
        published=published,
        totals=totals,
        districts=district_rows,
        schools=school_rows,
        blockers=blockers,
    )


def readiness_default_campaign() -> Campaign | None:
    """The campaign the dashboards show first: the next one to open (what readiness is about),
    else the active one, else the latest."""
    campaigns = Campaign.objects.all()
    upcoming = campaigns.filter(stage1_starts_at__gt=clock.now()).order_by("stage1_starts_at")
    return (
        upcoming.first()
        or campaigns.filter(is_active=True).first()
        or campaigns.order_by("-stage1_starts_at").first()
    )
