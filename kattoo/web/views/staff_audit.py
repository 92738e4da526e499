"""The ministry's audit viewer (§7): every recorded action, newest first, filtered and paged by
keyset; one event with its data and its place in the hash chain; a filtered CSV.

Ministry only. District officers do not get it: most events (sign-ins, registry refreshes,
tokens) belong to no district, and an event's data may name children of other districts; their
oversight tool is the fraud-signal list (docs/fraud-signals.md)."""

from __future__ import annotations

import json
from typing import Any, cast

from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode

from kattoo.audit.chain import event_seal
from kattoo.audit.exports import audit_csv_lines
from kattoo.audit.models import AuditEvent
from kattoo.audit.selectors import AuditFilter, audit_events, audit_export, audit_page

from ..forms_oversight import AuditFilterForm
from .staff_ministry import ministry_staff

# Pages that show an object's own history, by the object type an audit row names.
OBJECT_PAGES = {"catalog.school": "web:quota_log"}


def object_page(event: AuditEvent) -> str | None:
    name = OBJECT_PAGES.get(event.object_type)
    if name is None or not (event.object_id.isascii() and event.object_id.isdigit()):
        return None
    return reverse(name, args=[int(event.object_id)])


def object_history(event: AuditEvent) -> str:
    """The viewer filtered to the event's object: the history of any object."""
    query = urlencode({"object_type": event.object_type, "object_id": event.object_id})
    return f"{reverse('web:staff:ministry_audit')}?{query}"


def _filter(request: HttpRequest) -> tuple[AuditFilterForm, AuditFilter | None]:
    params = request.GET.copy()
    params.pop("before", None)
    form = AuditFilterForm(params or None)
    if not params:
        return form, AuditFilter()
    return form, (form.audit_filter() if form.is_valid() else None)


def _before(request: HttpRequest) -> int | None:
    raw = request.GET.get("before", "")
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 19 else None


@ministry_staff
def ministry_audit(request: HttpRequest) -> HttpResponse:
    form, audit_filter = _filter(request)
    rows: list[dict[str, Any]] | None = None
    next_before = None
    if audit_filter is not None:
        events, next_before = audit_page(audit_events(audit_filter), before=_before(request))
        rows = [{"event": e, "history": object_history(e), "page": object_page(e)} for e in events]
    query = request.GET.copy()
    query.pop("before", None)
    status = 200 if audit_filter is not None else 422
    return render(
        request,
        "staff/ministry/audit.html",
        {
            "form": form,
            "rows": rows,
            "query": query.urlencode(),
            "next_before": next_before,
            "first_page": _before(request) is None,
        },
        status=status,
    )


@ministry_staff
def ministry_audit_csv(request: HttpRequest) -> HttpResponse:
    form, audit_filter = _filter(request)
    if audit_filter is None:
        return render(request, "staff/ministry/audit.html", {"form": form}, status=422)
    response = StreamingHttpResponse(
        audit_csv_lines(audit_export(audit_events(audit_filter))),
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = 'attachment; filename="kattoo-audit.csv"'
    # Streamed, so an export of 100 k rows never sits in memory; served like any response.
    return cast(HttpResponse, response)


@ministry_staff
def ministry_audit_event(request: HttpRequest, event_id: int) -> HttpResponse:
    event = AuditEvent.objects.select_related("actor").filter(pk=event_id).first()
    if event is None:
        raise Http404
    return render(
        request,
        "staff/ministry/audit_event.html",
        {
            "event": event,
            "data": json.dumps(
                event.data, ensure_ascii=False, indent=2, sort_keys=True, default=str
            ),
            "seal": event_seal(event),
            "history": object_history(event),
            "page": object_page(event),
        },
    )
