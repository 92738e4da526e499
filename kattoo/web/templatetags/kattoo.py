from __future__ import annotations

from typing import Any

from django import template

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


@register.filter
def refusal_reason(code: str) -> str:
    """The legal reason of a refusal (§22) in the page's language."""
    try:
        return str(RefusalReason(code).label)
    except ValueError:
        return code
