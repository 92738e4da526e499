"""Aggregated reports on children entering first grade (RULES.md §9), computed in the
database with GROUP BY — one query per report, whatever the size of the country."""

from __future__ import annotations

from typing import Any

from django.db.models import Case, CharField, Count, F, Q, QuerySet, Sum, Value, When
from django.db.models.functions import ExtractYear

from kattoo.campaigns.models import Campaign
from kattoo.campaigns.selectors import campaign_active
from kattoo.core.errors import RuleViolation
from kattoo.enrollment.models import Application, SeatPool, Status

DIMENSIONS = ("region", "district", "school", "language", "sex", "birth_year", "stage", "route")
# Published beyond the ministry, a cell must not reveal any individual child (§9).
SUPPRESS_BELOW = 10


def report_campaigns() -> QuerySet[Campaign]:
    """Campaigns whose reports can be read: the current one and the archive (published ones,
    ADR 0016), latest first. A draft has nothing to report yet."""
    return Campaign.objects.filter(Q(is_active=True) | Q(published_at__isnull=False)).order_by(
        "-stage1_starts_at"
    )


def report_campaign(code: str | None = None) -> Campaign:
    """The campaign a report reads: the one named (a finished campaign stays readable after
    next year's is published), by default the active one."""
    if not code:
        return campaign_active()
    campaign = report_campaigns().filter(code=code).first()
    if campaign is None:
        raise RuleViolation("not_found")
    return campaign


def _dimension(name: str, campaign: Campaign) -> Any:
    return {
        "region": F("school__district__region__name_ru"),
        "district": F("school__district__name_ru"),
        "school": F("school__code"),
        "language": F("language"),
        "sex": F("child__sex"),
        "birth_year": ExtractYear("child__birth_date"),
        "stage": Case(
            When(created_at__lt=campaign.stage2_starts_at, then=Value("stage1")),
            default=Value("stage2"),
            output_field=CharField(),
        ),
        "route": F("route"),
    }[name]


# Places are grouped by their SOATE code (two districts may share a name); the name rides along.
CODES = {"region": "school__district__region__soate", "district": "school__district__soate"}


def _keys(by: list[str]) -> list[str]:
    return [key for d in by for key in ((f"d_{d}", f"d_{d}_code") if d in CODES else (f"d_{d}",))]


def report_applications(
    *, campaign: Campaign, applications: QuerySet[Application], by: list[str]
) -> list[dict[str, Any]]:
    """Counts of registrations per status, grouped by the given dimensions."""
    unknown = [d for d in by if d not in DIMENSIONS]
    if unknown:
        raise ValueError(f"unknown dimensions {unknown}")
    codes = {f"d_{d}_code": F(CODES[d]) for d in by if d in CODES}
    rows = (
        applications.filter(campaign=campaign)
        .annotate(**{f"d_{d}": _dimension(d, campaign) for d in by}, **codes)
        .values(*_keys(by))
        .annotate(
            registered=Count("id", filter=Q(status=Status.REGISTERED)),
            admitted=Count("id", filter=Q(status=Status.ADMITTED)),
            refused=Count("id", filter=Q(status=Status.REFUSED)),
            cancelled=Count("id", filter=Q(status=Status.CANCELLED)),
            above_quota=Count(
                "id", filter=Q(above_quota=True, status__in=[Status.REGISTERED, Status.ADMITTED])
            ),
        )
        .order_by(*_keys(by))
    )
    return [
        {
            **{key[2:]: row[key] for key in _keys(by)},
            **{
                k: row[k] for k in ("registered", "admitted", "refused", "cancelled", "above_quota")
            },
        }
        for row in rows
    ]


def report_seats(
    *, campaign: Campaign, pools: QuerySet[SeatPool], by: list[str]
) -> list[dict[str, Any]]:
    """Seats, taken and free seats per region / district / school / language."""
    fields = {
        "region": "school__district__region__name_ru",
        "district": "school__district__name_ru",
        "school": "school__code",
        "language": "language",
    }
    keys = [fields[d] for d in by if d in fields] + [CODES[d] for d in by if d in CODES]
    rows = (
        pools.filter(campaign=campaign)
        .values(*keys)
        .annotate(
            capacity=Sum("capacity"),
            taken=Sum("taken"),
            held=Sum("held"),
            quota_seats=Sum("quota_seats"),
        )
        .order_by(*keys)
    )
    out = []
    for row in rows:
        item = {d: row[fields[d]] for d in by if d in fields}
        item.update({f"{d}_code": row[CODES[d]] for d in by if d in CODES})
        item.update(
            capacity=row["capacity"],
            taken=row["taken"],
            # a seat held for a waitlist offer is not free (kattoo.waitlist)
            free=row["capacity"] - row["taken"] - row["held"],
            quota_seats=row["quota_seats"],
        )
        out.append(item)
    return out


def suppress_small_cells(
    rows: list[dict[str, Any]], counts: tuple[str, ...]
) -> list[dict[str, Any]]:
    """Open data: a count below the threshold (but above zero) is withheld as ``None``."""
    return [
        {
            k: (None if k in counts and isinstance(v, int) and 0 < v < SUPPRESS_BELOW else v)
            for k, v in row.items()
        }
        for row in rows
    ]
