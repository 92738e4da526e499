"""The district officer's commission work beyond placing a child (§9): linking a child placed
under a temporary identifier to the registry's PIN once the registry has the child. The
placement page itself is ``staff_district.district_commission``."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kattoo.accounts.models import Role
from kattoo.commission.models import CommissionDecision
from kattoo.commission.services import UnregisteredChild, commission_child_link
from kattoo.core.errors import RuleViolation
from kattoo.people.services import person_refresh

from ..access import staff_required
from ..forms_staff import CommissionLinkForm
from .staff_common import form_errors_text, staff_actor, staff_user, violation_text

district_staff = staff_required(Role.DISTRICT)


def unregistered_child_of(data: dict[str, Any]) -> UnregisteredChild:
    """The child as the placement form states them (CommissionForm, no PIN)."""
    return UnregisteredChild(
        surname=data["child_surname"],
        name=data["child_name"],
        patronymic=data.get("child_patronymic") or "",
        birth_date=data["child_birth_date"],
        sex=data["child_sex"],
        certificate_series=data.get("certificate_series") or "",
        certificate_number=data.get("certificate_number") or "",
    )


@district_staff
@require_POST
def district_commission_link(request: HttpRequest, decision_id: int) -> HttpResponse:
    """§9: link the child of a decision to the PIN the registry now has."""
    user = staff_user(request)
    decision = get_object_or_404(CommissionDecision, pk=decision_id, district_id=user.district_id)
    form = CommissionLinkForm(request.POST)
    if not form.is_valid():
        messages.error(request, form_errors_text(form))
        return redirect("web:staff:district_commission")
    actor = staff_actor(request)
    try:
        # The registry call first, outside the service's transaction.
        child = person_refresh(pin=form.cleaned_data["child_pin"], actor=actor)
        commission_child_link(decision=decision, officer=user, child=child, actor=actor)
    except RuleViolation as exc:
        messages.error(request, violation_text(exc))
        return redirect("web:staff:district_commission")
    messages.success(
        request,
        _("The child of decision No. %(number)s is linked to the registry's PIN.")
        % {"number": decision.number},
    )
    return redirect("web:staff:district_commission")
