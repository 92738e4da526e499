"""The ministry's audit viewer (§7): every recorded action, newest first, filtered and paged by
keyset; one event with its data and its place in the hash chain; a filtered CSV.

Ministry only. District officers do not get it: most events (sign-ins, registry refreshes,
tokens) belong to no district, and an event's data may name children of other districts; their
oversight tool is the fraud-signal list (docs/fraud-signals.md).

Applicants' user names are their PINs: masked everywhere here (list, event, CSV). A ministry
administrator may reveal one event's user name with a reason; the reveal is audited."""

from __future__ import annotations

import json
from typing import Any, cast

from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_POST

from kattoo.accounts.models import Role
from kattoo.audit.chain import event_seal
from kattoo.audit.models import AuditEvent
from kattoo.audit_viewer.exports import audit_csv_lines
from kattoo.audit_viewer.selectors import AuditFilter, audit_events, audit_export, audit_page
from kattoo.audit_viewer.services import audit_actor_masked, audit_actor_reveal
from kattoo.core.errors import FieldError

from ..access import staff_required
from ..forms_oversight import AuditFilterForm, AuditRevealForm
from .staff_common import personal_data_export, personal_data_read, staff_actor, staff_user
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


def _recorded_filter(request: HttpRequest) -> dict[str, str]:
    """The viewer's filter as its own audit row keeps it (PIN-like values masked there)."""
    return {k: request.GET.get(k, "") for k in AuditFilterForm.base_fields if k in request.GET}


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
        rows = [
            {
                "event": e,
                "actor": audit_actor_masked(e),
                "history": object_history(e),
                "page": object_page(e),
            }
            for e in events
        ]
    query = request.GET.copy()
    query.pop("before", None)
    if rows is not None:
        personal_data_read(
            request,
            "audit_events",
            count=len(rows),
            filters=_recorded_filter(request),
            before=_before(request),
        )
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
    personal_data_export(request, "audit", "csv", filters=_recorded_filter(request))
    response = StreamingHttpResponse(
        audit_csv_lines(audit_export(audit_events(audit_filter))),
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = 'attachment; filename="kattoo-audit.csv"'
    # Streamed, so an export of 100 k rows never sits in memory; served like any response.
    return cast(HttpResponse, response)


def _event_page(
    request: HttpRequest,
    event: AuditEvent,
    *,
    reveal_form: AuditRevealForm | None = None,
    revealed: str | None = None,
    status: int = 200,
) -> HttpResponse:
    can_reveal = event.actor_id is not None and staff_user(request).role == Role.MINISTRY_ADMIN
    return render(
        request,
        "staff/ministry/audit_event.html",
        {
            "event": event,
            "actor": revealed or audit_actor_masked(event),
            "revealed": revealed is not None,
            "reveal_form": (reveal_form or AuditRevealForm()) if can_reveal else None,
            "data": json.dumps(
                event.data, ensure_ascii=False, indent=2, sort_keys=True, default=str
            ),
            "seal": event_seal(event),
            "history": object_history(event),
            "page": object_page(event),
        },
        status=status,
    )


def _event_or_404(event_id: int) -> AuditEvent:
    event = AuditEvent.objects.select_related("actor", "seal").filter(pk=event_id).first()
    if event is None:
        raise Http404
    return event


@ministry_staff
def ministry_audit_event(request: HttpRequest, event_id: int) -> HttpResponse:
    event = _event_or_404(event_id)
    personal_data_read(request, "audit_event", obj=event)
    return _event_page(request, event)


@staff_required(Role.MINISTRY_ADMIN)
@require_POST
def ministry_audit_reveal(request: HttpRequest, event_id: int) -> HttpResponse:
    """The full user name, on this answer only (never kept in the session or a message):
    reloading the event page masks it again."""
    event = _event_or_404(event_id)
    form = AuditRevealForm(request.POST)
    if form.is_valid():
        try:
            revealed = audit_actor_reveal(
                event=event, reason=form.cleaned_data["reason"], actor=staff_actor(request)
            )
        except FieldError as exc:
            form.add_error("reason", exc.message)
        else:
            return _event_page(request, event, revealed=revealed)
    return _event_page(request, event, reveal_form=form, status=422)
