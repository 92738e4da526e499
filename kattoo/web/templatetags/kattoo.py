from __future__ import annotations

from typing import Any

from django import template

from kattoo.catalog.selectors import localized_name
from kattoo.enrollment.models import Status

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
