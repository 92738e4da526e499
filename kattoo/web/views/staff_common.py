"""What every staff page needs: who is acting, the campaign, the quota lock and its countdown."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from kattoo.accounts.models import User
from kattoo.audit.reads import Export, Read, audit_download, audit_read
from kattoo.campaigns.models import Campaign
from kattoo.campaigns.selectors import campaign_quota_lock_at
from kattoo.core import clock
from kattoo.core.actors import Actor
from kattoo.core.errors import RuleViolation


def staff_user(request: HttpRequest) -> User:
    user: Any = request.user
    return user


def staff_actor(request: HttpRequest) -> Actor:
    return Actor(
        user=staff_user(request), channel="web", request_id=getattr(request, "request_id", "")
    )


def personal_data_read(request: HttpRequest, what: Read, **ids: Any) -> None:
    """Audit a staff page that shows children's personal data (§7, audit/reads.py): one row
    per page view. An htmx request for a fragment of a page (a refresh, a poll) writes none:
    the page view that first showed the data is the audited read; a boosted navigation is a
    page view."""
    fragment = request.headers.get("HX-Request") == "true"
    if fragment and request.headers.get("HX-Boosted") != "true":
        return
    audit_read(actor=staff_actor(request), what=what, **ids)


def personal_data_export(request: HttpRequest, what: Export, file_format: str, **ids: Any) -> None:
    """Audit a file of children's personal data taken away (§7): one row per download."""
    audit_download(actor=staff_actor(request), what=what, file_format=file_format, **ids)


def time_left(until: dt.datetime, now: dt.datetime) -> str:
    """ "3 days 4 hours 5 minutes": the countdown as the page shows it without JavaScript."""
    seconds = int((until - now).total_seconds())
    if seconds <= 0:
        return ""
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    parts = []
    if days:
        parts.append(ngettext("%(n)d day", "%(n)d days", days) % {"n": days})
    if days or hours:
        parts.append(ngettext("%(n)d hour", "%(n)d hours", hours) % {"n": hours})
    parts.append(ngettext("%(n)d minute", "%(n)d minutes", minutes) % {"n": minutes})
    return " ".join(parts)


def lock_context(campaign: Campaign) -> dict[str, Any]:
    lock_at = campaign_quota_lock_at(campaign)
    now = clock.now()
    return {
        "lock_at": lock_at,
        "lock_left": time_left(lock_at, now),
        "locked_by_time": now >= lock_at,
        "lock_working_days": campaign.quota_lock_working_days,
        "server_time": now,
    }


def violation_text(exc: RuleViolation) -> str:
    """One line for a flash message: the domain's sentence and its detail."""
    detail = exc.detail if exc.detail and exc.detail != exc.title else ""
    return f"{exc.title} {detail}".strip()


def form_errors_text(form: Any) -> str:
    messages = [str(e) for errors in form.errors.values() for e in errors]
    return " ".join(messages) or _("Some fields are not valid.")
