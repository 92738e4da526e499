"""Pages anyone may open: home, status, address lookup, language."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django.views.i18n import set_language

from kattoo.accounts.services import user_language_set
from kattoo.campaigns.selectors import (
    Stage,
    campaign_active,
    campaign_quota_lock_at,
    campaign_stage,
)
from kattoo.catalog.selectors import address_lookup
from kattoo.core import clock
from kattoo.core.actors import Actor
from kattoo.core.errors import RuleViolation
from kattoo.integrations.registry.health import registry_recently_failed

from ..access import public
from ..forms import AddressLookupForm

STAGE_TEXT = {
    Stage.BEFORE: lambda: _("Registration has not opened yet."),
    Stage.STAGE1: lambda: _(
        "Stage 1 is open: schools whose microdistrict holds your registered address."
    ),
    Stage.STAGE2: lambda: _("Stage 2 is open: any school with free seats."),
    Stage.CLOSED: lambda: _(
        "Registration is closed; late registration goes through the district commission."
    ),
}


def campaign_context() -> dict[str, Any]:
    try:
        campaign = campaign_active()
    except RuleViolation:
        return {"campaign": None}
    stage = campaign_stage(campaign)
    return {
        "campaign": campaign,
        "stage": str(stage),
        "stage_text": STAGE_TEXT[stage](),
        "quota_lock_at": campaign_quota_lock_at(campaign),
        "server_time": clock.now(),
        "registration_open": stage in (Stage.STAGE1, Stage.STAGE2),
    }


@public
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "web/home.html", campaign_context())


@public
def status(request: HttpRequest) -> HttpResponse:
    """Never silently disabled buttons: says what works right now and what does not."""
    context = campaign_context()
    context["registry_ok"] = not registry_recently_failed()
    return render(request, "web/status.html", context)


@public
def address_lookup_page(request: HttpRequest) -> HttpResponse:
    form = AddressLookupForm(request.GET or None)
    results = address_lookup(form.cleaned_data["q"]) if form.is_valid() else None
    return render(request, "web/address_lookup.html", {"form": form, "results": results})


@public
@require_POST
def language(request: HttpRequest) -> HttpResponse:
    """Switch the language of the pages, and of SMS for a signed-in user (kept per user)."""
    code = request.POST.get("language", "")
    user: Any = request.user
    if user.is_authenticated and code in dict(settings.LANGUAGES):
        user_language_set(user=user, language=code, actor=Actor(user=user, channel="web"))
    return set_language(request)
