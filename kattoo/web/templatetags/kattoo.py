from __future__ import annotations

from typing import Any

from django import template
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kattoo.catalog.models import Language
from kattoo.catalog.selectors import localized_name
from kattoo.enrollment.models import RefusalReason, Status

register = template.Library()


@register.filter
def localized(obj: Any, field: str = "name") -> str:
    """``{{ school|localized }}``: the name in the page's language."""
    return localized_name(obj, field)


@register.filter
def status_label(code: str) -> str:
    try:
        return str(Status(code).label)
    except ValueError:
        return code


@register.filter
def language_name(code: str) -> str:
    """``{{ "ky"|language_name }}``: the language of instruction in the page's language."""
    try:
        return str(Language(code).label)
    except ValueError:
        return code


QUOTA_EVENT_KINDS = {
    "computed": gettext_lazy("computed from last year's 4th grades"),
    "recomputed": gettext_lazy("computed again"),
    "changed": gettext_lazy("changed by the school"),
    "confirmed": gettext_lazy("confirmed by the school"),
    "approved": gettext_lazy("approved by the district"),
}


@register.filter
def quota_event_kind(code: str) -> str:
    """A step of a quota's history in the page's language (never the internal word)."""
    return str(QUOTA_EVENT_KINDS.get(code, code))


@register.filter
def refusal_reason(code: str) -> str:
    """The legal reason of a refusal (§22) in the page's language (or of a reinstatement)."""
    if code == "appeal_reinstated":  # kattoo.appeals.services.REINSTATED_ON_APPEAL
        return _("reinstated by the district education office on appeal (§17)")
    try:
        return str(RefusalReason(code).label)
    except ValueError:
        return code
