"""The waitlist on the web (ADR 0013): parents join a full pool, see their number, accept or
decline an offer; staff read the waitlists of the schools in their scope. Plain forms."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kattoo.accounts.models import Role
from kattoo.campaigns.selectors import campaign_active
from kattoo.catalog.selectors import schools_visible_to
from kattoo.core.errors import RuleViolation
from kattoo.enrollment.models import SeatPool
from kattoo.waitlist.models import WaitlistEntry
from kattoo.waitlist.selectors import entries_visible_to, entry_views, pool_waitlist
from kattoo.waitlist.services import offer_accept, offer_decline, waitlist_join, waitlist_leave

from ..access import applicant_required, staff_required
from ..problems import refusal_audit
from .applicant import _actor, _choice, _registered, _schools_refused, _user
from .staff_common import personal_data_read, staff_user, violation_text


@applicant_required
def waitlist(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    entries = entries_visible_to(user).order_by("-id")[:50]
    return render(request, "web/waitlist.html", {"views": entry_views(user, entries)})


@applicant_required
@require_POST
def waitlist_join_view(request: HttpRequest) -> HttpResponse:
    link, school, language = _choice(request)
    try:
        waitlist_join(
            campaign=campaign_active(),
            user=_user(request),
            child=link.child,
            school=school,
            language=language,
            actor=_actor(request),
        )
    except RuleViolation as exc:
        refusal_audit(
            request, exc, "waitlist_join", child=link.child_id, school=school.pk, language=language
        )
        return _schools_refused(request, link, school, exc)
    messages.success(request, _("The child is in the waitlist."))
    return redirect("web:waitlist")


def _entry(request: HttpRequest, entry_id: int) -> WaitlistEntry:
    return get_object_or_404(entries_visible_to(_user(request)), pk=entry_id)


@applicant_required
@require_POST
def waitlist_accept_view(request: HttpRequest, entry_id: int) -> HttpResponse:
    entry = _entry(request, entry_id)
    try:
        application = offer_accept(entry=entry, user=_user(request), actor=_actor(request))
    except RuleViolation as exc:
        refusal_audit(
            request,
            exc,
            "offer_accept",
            child=entry.child_id,
            school=entry.pool.school_id,
            language=entry.pool.language,
            pool=entry.pool_id,
            entry=entry.pk,
        )
        messages.error(request, violation_text(exc))
        return redirect("web:waitlist")
    return _registered(request, application)


def _entry_step(
    request: HttpRequest,
    entry_id: int,
    step: Callable[..., WaitlistEntry],
    done: str,
) -> HttpResponse:
    """One step on the parent's own entry (decline, leave): the outcome as a flash message."""
    try:
        step(entry=_entry(request, entry_id), actor=_actor(request))
    except RuleViolation as exc:
        messages.error(request, violation_text(exc))
    else:
        messages.success(request, done)
    return redirect("web:waitlist")


@applicant_required
@require_POST
def waitlist_decline_view(request: HttpRequest, entry_id: int) -> HttpResponse:
    return _entry_step(
        request,
        entry_id,
        offer_decline,
        _("The seat is declined and offered to the next child."),
    )


@applicant_required
@require_POST
def waitlist_leave_view(request: HttpRequest, entry_id: int) -> HttpResponse:
    return _entry_step(request, entry_id, waitlist_leave, _("The child has left the waitlist."))


@staff_required(Role.SCHOOL, Role.DISTRICT, Role.MINISTRY_ANALYST, Role.MINISTRY_ADMIN)
def staff_waitlist(request: HttpRequest, school_id: int) -> HttpResponse:
    """Read-only: who waits for which pool, in order, and the seats held for offers."""
    user = staff_user(request)
    if user.role == Role.OPERATOR:
        raise Http404  # children's names: never the technical operator's (§7)
    school = get_object_or_404(schools_visible_to(user), pk=school_id)
    pools = list(
        SeatPool.objects.filter(campaign=campaign_active(), school=school).order_by("language")
    )
    views = entry_views(user, pool_waitlist([p.pk for p in pools]))
    rows = [(pool, [v for v in views if v.entry.pool_id == pool.pk]) for pool in pools]
    personal_data_read(request, "waitlist", obj=school, school=school.pk, count=len(views))
    return render(request, "staff/waitlist.html", {"school": school, "rows": rows})
