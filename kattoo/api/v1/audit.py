"""The audit trail (§7) for the ministry, read-only: the viewer's filters, newest first with
cursor pages, one event with its seal, and the filtered view as CSV. Other roles: 403.
Applicants' user names (their PINs) are masked; a ministry administrator reveals one event's
actor with a reason, and the reveal is itself audited."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from ninja import Query, Router, Schema
from pydantic import Field

from kattoo.accounts.models import Role
from kattoo.audit.chain import event_seal
from kattoo.audit.models import AuditEvent
from kattoo.audit.reads import audit_download, audit_read
from kattoo.audit_viewer.exports import audit_csv_lines
from kattoo.audit_viewer.selectors import AuditFilter, audit_events, audit_export
from kattoo.audit_viewer.services import audit_actor_masked, audit_actor_reveal
from kattoo.catalog.models import District, School
from kattoo.core.errors import RuleViolation

from ..auth import bearer, current_user
from ..pagination import paginate_by_pk
from .routes import PROBLEMS, actor_of
from .serializers import local

audit = Router(tags=["audit"], auth=bearer)


class AuditQuery(Schema):
    since: dt.date | None = None
    until: dt.date | None = None
    action: str = Field("", max_length=64)
    actor: str = Field("", max_length=150, description="user name")
    object_type: str = Field("", max_length=64)
    object_id: str = Field("", max_length=64)
    channel: str = Field("", pattern="^(|api|web|cli|system)$")
    district: str = Field("", pattern=r"^[0-9]{0,14}$", description="district SOATE code")
    school: str = Field("", max_length=32, description="school code")
    request_id: str = Field("", max_length=64)


class AuditPageQuery(AuditQuery):
    limit: int | None = Field(None, ge=1, le=200)
    cursor: str | None = Field(None, max_length=200)


class AuditEventOut(Schema):
    id: int
    at: dt.datetime
    actor: str | None
    channel: str
    action: str
    object_type: str
    object_id: str
    request_id: str
    data: dict[str, Any]
    chain_hash: str


class AuditPage(Schema):
    items: list[AuditEventOut]
    next_cursor: str | None


class SealOut(Schema):
    sealed: bool
    own_link_ok: bool | None
    checked: int
    reached_head: bool
    intact_to_head: bool
    first_broken: int | None
    sealed_at: dt.datetime | None


class AuditEventDetail(AuditEventOut):
    seal: SealOut


class RevealIn(Schema):
    reason: str = Field(max_length=1000)


class RevealOut(Schema):
    id: int
    actor: str | None


def _ministry(request: HttpRequest) -> None:
    if current_user(request).role not in (Role.MINISTRY_ANALYST, Role.MINISTRY_ADMIN):
        raise RuleViolation("forbidden")


def _filter(query: AuditQuery) -> AuditFilter | None:
    """The selector's filter; None when a named district or school does not exist."""
    district = school = None
    if query.district:
        district = (
            District.objects.filter(soate=query.district).values_list("pk", flat=True).first()
        )
        if district is None:
            return None
    if query.school:
        school = School.objects.filter(code=query.school).values_list("pk", flat=True).first()
        if school is None:
            return None
    return AuditFilter(
        since=query.since,
        until=query.until,
        action=query.action,
        actor=query.actor,
        object_type=query.object_type,
        object_id=query.object_id,
        channel=query.channel,
        district=district,
        school=school,
        request_id=query.request_id,
    )


def event_out(event: AuditEvent) -> dict[str, Any]:
    return {
        "id": event.pk,
        "at": local(event.at),
        "actor": audit_actor_masked(event),  # applicants' PINs masked (§7)
        "channel": event.channel,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "request_id": event.request_id,
        "data": event.data,
        "chain_hash": event.chain_hash,
    }


@audit.get(
    "/audit/events",
    response={200: AuditPage, **PROBLEMS},
    summary="Audit events, newest first (ministry)",
)
def events(request: HttpRequest, query: Query[AuditPageQuery]) -> dict[str, Any]:
    _ministry(request)
    audit_filter = _filter(query)
    if audit_filter is None:
        _read(request, query, count=0)
        return {"items": [], "next_cursor": None}
    rows, cursor = paginate_by_pk(
        audit_events(audit_filter), limit=query.limit, cursor=query.cursor, descending=True
    )
    _read(request, query, count=len(rows))
    return {"items": [event_out(e) for e in rows], "next_cursor": cursor}


def _recorded(query: AuditQuery) -> dict[str, Any]:
    """The filter as the viewer's own audit row keeps it (PIN-like values masked there)."""
    return query.model_dump(mode="json", include=set(AuditQuery.model_fields))


def _read(request: HttpRequest, query: AuditQuery, *, count: int) -> None:
    audit_read(actor=actor_of(request), what="audit_events", count=count, filters=_recorded(query))


@audit.get(
    "/audit/events.csv", response={200: None, **PROBLEMS}, summary="Audit events as CSV (ministry)"
)
def events_csv(request: HttpRequest, query: Query[AuditQuery]) -> HttpResponse:
    _ministry(request)
    audit_filter = _filter(query)
    rows = audit_export(audit_events(audit_filter)) if audit_filter is not None else iter(())
    audit_download(
        actor=actor_of(request), what="audit", file_format="csv", filters=_recorded(query)
    )
    response = StreamingHttpResponse(audit_csv_lines(rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="kattoo-audit.csv"'
    return cast(HttpResponse, response)  # streamed: 100 k rows never sit in memory


@audit.get(
    "/audit/events/{event_id}",
    response={200: AuditEventDetail, **PROBLEMS},
    summary="One audit event and whether the chain verifies from it (ministry)",
)
def event(request: HttpRequest, event_id: str) -> dict[str, Any]:
    _ministry(request)
    found = _event(event_id)
    audit_read(actor=actor_of(request), what="audit_event", obj=found)
    seal = event_seal(found)
    return {
        **event_out(found),
        "seal": {
            "sealed": seal.sealed,
            "own_link_ok": seal.own_link_ok,
            "checked": seal.checked,
            "reached_head": seal.reached_head,
            "intact_to_head": seal.intact_to_head,
            "first_broken": seal.first_broken,
            "sealed_at": local(seal.sealed_at),
        },
    }


def _event(event_id: str) -> AuditEvent:
    if not (event_id.isascii() and event_id.isdigit()) or len(event_id) > 18:
        raise Http404
    found = AuditEvent.objects.select_related("actor", "seal").filter(pk=int(event_id)).first()
    if found is None:
        raise Http404
    return found


@audit.post(
    "/audit/events/{event_id}/reveal",
    response={200: RevealOut, **PROBLEMS},
    summary="The event's actor unmasked, with a reason that is itself audited (ministry admin)",
)
def reveal(request: HttpRequest, event_id: str, payload: RevealIn) -> dict[str, Any]:
    if current_user(request).role != Role.MINISTRY_ADMIN:
        raise RuleViolation("forbidden")
    found = _event(event_id)
    name = audit_actor_reveal(event=found, reason=payload.reason, actor=actor_of(request))
    return {"id": found.pk, "actor": name}
