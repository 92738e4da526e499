"""API v1: the waitlist of a full pool (ADR 0013). Parents join, see their number, accept or
decline an offer; school, district and ministry staff read the waitlists of their schools."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Header, Query, Router

from kattoo.accounts.models import Role, User
from kattoo.audit.reads import audit_read
from kattoo.campaigns.selectors import campaign_active
from kattoo.catalog.selectors import localized_name, schools_visible_to
from kattoo.enrollment.abilities import application_abilities
from kattoo.enrollment.idempotency import idempotency_key_parse, idempotent_create
from kattoo.enrollment.models import Application, SeatPool
from kattoo.waitlist.models import WaitlistEntry
from kattoo.waitlist.selectors import (
    EntryView,
    entries_visible_to,
    entry_views,
    pool_waitlist,
)
from kattoo.waitlist.services import offer_accept, offer_decline, waitlist_join, waitlist_leave

from ..auth import bearer, current_user, require_applicant
from ..pagination import paginate_by_pk
from ..problems import registration_attempt
from . import schemas as s
from .routes import PROBLEMS, _int_id, actor_of, child_for, school_for
from .serializers import application_out, local

waitlist = Router(tags=["waitlist"], auth=bearer)


class WaitlistJoinIn(s.Schema):
    child: str = s.Field(min_length=1, max_length=32)
    school: str = s.Field(min_length=1, max_length=32)
    language: s.LanguageCode


class WaitlistEntryOut(s.Schema):
    id: str
    child: str
    child_name: str
    school: str
    school_name: str
    language: str
    status: str
    number: int | None = s.Field(
        description="Place in the line (1 is served next) while waiting; null otherwise"
    )
    joined_at: Any
    offered_at: Any | None
    offer_expires_at: Any | None
    application: str | None
    abilities: dict[str, bool]


class WaitlistEntryPage(s.Schema):
    items: list[WaitlistEntryOut]
    next_cursor: str | None


class PoolWaitlistOut(s.Schema):
    language: str
    capacity: int
    taken: int
    held: int
    entries: list[WaitlistEntryOut]


def entry_out(view: EntryView) -> dict[str, Any]:
    entry = view.entry
    return {
        "id": str(entry.pk),
        "child": str(entry.child_id),
        "child_name": f"{entry.child.surname} {entry.child.name}",
        "school": str(entry.pool.school_id),
        "school_name": localized_name(entry.pool.school, "name"),
        "language": entry.pool.language,
        "status": view.status,
        "number": view.number,
        "joined_at": local(entry.joined_at),
        "offered_at": local(entry.offered_at),
        "offer_expires_at": local(entry.offer_expires_at),
        "application": str(entry.application_id) if entry.application_id else None,
        "abilities": view.abilities,
    }


def _one(user: User, entry: WaitlistEntry) -> dict[str, Any]:
    fresh = entries_visible_to(user).get(pk=entry.pk)
    return entry_out(entry_views(user, [fresh])[0])


def _visible_entry(request: HttpRequest, entry_id: str) -> WaitlistEntry:
    return get_object_or_404(entries_visible_to(current_user(request)), pk=_int_id(entry_id))


def _entry_step(
    request: HttpRequest, entry_id: str, step: Callable[..., WaitlistEntry]
) -> dict[str, Any]:
    """One step the applicant takes on an own entry (decline, leave); the entry after it."""
    user = require_applicant(request)
    entry = step(entry=_visible_entry(request, entry_id), actor=actor_of(request))
    return _one(user, entry)


@waitlist.post(
    "/waitlist",
    response={201: WaitlistEntryOut, **PROBLEMS},
    summary="Join the waitlist of a full (school, language) pool",
)
def join_waitlist(
    request: HttpRequest,
    payload: WaitlistJoinIn,
    idempotency_key: str | None = Header(None, alias="Idempotency-Key"),
) -> tuple[int, dict[str, Any]]:
    user = require_applicant(request)
    assert user.person is not None
    key = idempotency_key_parse(idempotency_key)

    def create() -> dict[str, Any]:
        link = child_for(user.person, payload.child)  # type: ignore[arg-type]
        school = school_for(payload.school)
        registration_attempt(
            request,
            "waitlist_join",
            child=link.child_id,
            school=school.pk,
            language=payload.language,
        )
        entry = waitlist_join(
            campaign=campaign_active(),
            user=user,
            child=link.child,
            school=school,
            language=payload.language,
            actor=actor_of(request),
        )
        return _one(user, entry)

    return idempotent_create(user=user, key=key, payload=payload.dict(), create=create)


@waitlist.get(
    "/waitlist",
    response={200: WaitlistEntryPage, **PROBLEMS},
    summary="The applicant's waitlist entries, with their numbers and offers",
)
def list_waitlist(
    request: HttpRequest,
    limit: int = Query(50, ge=1, le=200),
    cursor: str | None = Query(None, max_length=200),
) -> dict[str, Any]:
    user = require_applicant(request)
    rows, next_cursor = paginate_by_pk(entries_visible_to(user), limit=limit, cursor=cursor)
    return {"items": [entry_out(v) for v in entry_views(user, rows)], "next_cursor": next_cursor}


@waitlist.get(
    "/waitlist/{entry_id}", response={200: WaitlistEntryOut, **PROBLEMS}, summary="One entry"
)
def get_waitlist_entry(request: HttpRequest, entry_id: str) -> dict[str, Any]:
    entry = _visible_entry(request, entry_id)
    return entry_out(entry_views(current_user(request), [entry])[0])


@waitlist.post(
    "/waitlist/{entry_id}/accept",
    response={201: s.ApplicationOut, **PROBLEMS},
    summary="Accept the offered seat: it becomes a registration",
)
def accept_offer(request: HttpRequest, entry_id: str) -> tuple[int, dict[str, Any]]:
    user = require_applicant(request)
    entry = _visible_entry(request, entry_id)
    registration_attempt(
        request,
        "offer_accept",
        child=entry.child_id,
        school=entry.pool.school_id,
        language=entry.pool.language,
        pool=entry.pool_id,
        entry=entry.pk,
    )
    application = offer_accept(entry=entry, user=user, actor=actor_of(request))
    application = (
        Application.objects.select_related("school", "child", "campaign")
        .prefetch_related("transitions")
        .get(pk=application.pk)
    )
    return 201, application_out(application, application_abilities(user, application))


@waitlist.post(
    "/waitlist/{entry_id}/decline",
    response={200: WaitlistEntryOut, **PROBLEMS},
    summary="Decline the offered seat; it goes to the next child in line",
)
def decline_offer(request: HttpRequest, entry_id: str) -> dict[str, Any]:
    return _entry_step(request, entry_id, offer_decline)


@waitlist.post(
    "/waitlist/{entry_id}/leave",
    response={200: WaitlistEntryOut, **PROBLEMS},
    summary="Leave the waitlist; everyone behind moves up",
)
def leave_waitlist(request: HttpRequest, entry_id: str) -> dict[str, Any]:
    return _entry_step(request, entry_id, waitlist_leave)


@waitlist.get(
    "/schools/{school_id}/waitlist",
    response={200: list[PoolWaitlistOut], **PROBLEMS},
    summary="Staff: the waitlists of a school's pools (read-only)",
)
def school_waitlist(request: HttpRequest, school_id: str) -> list[dict[str, Any]]:
    user = current_user(request)
    if user.role in (Role.APPLICANT, Role.OPERATOR):
        raise Http404  # children's names: never the technical operator's (§7)
    school = get_object_or_404(schools_visible_to(user), pk=_int_id(school_id))
    pools = list(
        SeatPool.objects.filter(campaign=campaign_active(), school=school).order_by("language")
    )
    views = entry_views(user, pool_waitlist([p.pk for p in pools]))
    audit_read(
        actor=actor_of(request), what="waitlist", obj=school, school=school.pk, count=len(views)
    )
    return [
        {
            "language": pool.language,
            "capacity": pool.capacity,
            "taken": pool.taken,
            "held": pool.held,
            "entries": [entry_out(v) for v in views if v.entry.pool_id == pool.pk],
        }
        for pool in pools
    ]
