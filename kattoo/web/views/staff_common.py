"""What every staff page needs: who is acting, the campaign, the quota lock and its countdown."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from kattoo.accounts.models import Role, User
from kattoo.campaigns.models import Campaign
from kattoo.campaigns.selectors import campaign_quota_lock_at
from kattoo.core import clock
from kattoo.core.actors import Actor
from kattoo.core.errors import RuleViolation
from kattoo.enrollment.models import Application, Status
from kattoo.quotas.models import Quota
from kattoo.quotas.selectors import QuotaState


def staff_user(request: HttpRequest) -> User:
    user: Any = request.user
    return user


def staff_actor(request: HttpRequest) -> Actor:
    return Actor(
        user=staff_user(request), channel="web", request_id=getattr(request, "request_id", "")
    )


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


# What the user may do with an object, so a page shows only the buttons the server accepts.
# The same rules as the API's (kattoo/api/v1/staff.py); the web may not import the API, and a
# test keeps the two in step until they move into the domain.


def quota_abilities(user: User, quota: Quota, state: QuotaState) -> dict[str, bool]:
    own_school = user.role == Role.SCHOOL and user.school_id == quota.school_id
    district = user.role == Role.DISTRICT and quota.school.district_id == user.district_id
    return {
        "change": own_school and state == QuotaState.DRAFT,
        "confirm": own_school and state == QuotaState.DRAFT,
        "approve": district and state != QuotaState.DRAFT and quota.approved_at is None,
    }


def application_abilities(user: User, application: Application) -> dict[str, bool]:
    own = user.role == Role.SCHOOL and user.school_id == application.school_id
    registered = application.status == Status.REGISTERED
    return {
        "admit": own and registered,
        "refuse": own and registered,
        "record_document": own and application.status == Status.ADMITTED,
    }
