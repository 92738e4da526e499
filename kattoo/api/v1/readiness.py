"""API v1 (issue 11): is a campaign ready to open? The ministry reads the country or one
district; a district officer reads its own district (another district is 404); other roles 403.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict
from typing import Any

from django.http import Http404, HttpRequest
from ninja import Query, Router, Schema
from pydantic import Field

from kattoo.campaigns.selectors import campaign_by_code
from kattoo.core.errors import RuleViolation
from kattoo.reports.readiness import READINESS_ROLES, campaign_readiness, readiness_districts

from ..auth import bearer, current_user
from .routes import PROBLEMS

router = Router(tags=["readiness"], auth=bearer)


class CountsOut(Schema):
    schools: int = Field(description="schools in the catalog taking part (§31)")
    quotas_computed: int
    quotas_confirmed: int = Field(description="confirmed by the director")
    quotas_locked_automatically: int = Field(description="still a draft when the lock passed")
    quotas_approved: int = Field(description="approved by the district (§17)")
    schools_verified: int
    directors_working: int = Field(
        description="schools whose director has a working account (password and authenticator)"
    )
    seats: dict[str, int] = Field(description="seats offered per language")


class SchoolRefOut(Schema):
    id: int
    code: str
    name: str


class SchoolReadinessOut(Schema):
    school: SchoolRefOut
    quota_state: str = Field(description='"" (no quota), draft, confirmed or auto_confirmed')
    approved: bool
    verified: bool
    director: bool
    quota_seats: int
    seats: dict[str, int]


class DistrictReadinessOut(Schema):
    soate: str
    name: str
    region: str
    counts: CountsOut


class BlockerOut(Schema):
    code: str
    severity: str = Field(description="blocker or warning")
    message: str
    count: int
    schools: list[SchoolRefOut] = Field(description="with a district only")


class ReadinessOut(Schema):
    campaign: str
    district: str | None = Field(description="SOATE code; null for the whole country")
    stage: str
    lock_at: dt.datetime
    locked: bool
    published: bool
    ready: bool
    totals: CountsOut
    districts: list[DistrictReadinessOut]
    schools: list[SchoolReadinessOut]
    blockers: list[BlockerOut]


class ReadinessQuery(Schema):
    district: str | None = Field(None, max_length=14, description="district SOATE code")


@router.get(
    "/campaigns/{code}/readiness",
    response={200: ReadinessOut, **PROBLEMS},
    summary="What is ready and what still blocks the opening",
)
def readiness(request: HttpRequest, code: str, query: Query[ReadinessQuery]) -> dict[str, Any]:
    user = current_user(request)
    if user.role not in READINESS_ROLES:
        raise RuleViolation("forbidden")
    campaign = campaign_by_code(code)
    if campaign is None:
        raise Http404
    district = None
    if query.district:
        district = readiness_districts(user).filter(soate=query.district).first()
        if district is None:
            raise Http404
    result = campaign_readiness(campaign=campaign, user=user, district=district)
    return {
        "campaign": campaign.code,
        "district": result.district.soate if result.district else None,
        "stage": result.stage,
        "lock_at": result.lock_at,
        "locked": result.locked,
        "published": result.published,
        "ready": result.ready,
        "totals": asdict(result.totals),
        "districts": [asdict(d) for d in result.districts],
        "schools": [asdict(s) for s in result.schools],
        "blockers": [asdict(b) for b in result.blockers],
    }
