"""Words of the parent's pages: a class named by its language in words ("Kyrgyz class"), so the
buttons of different pools never look alike (issue 14)."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from kattoo.enrollment.models import Route

register = template.Library()

LANGUAGE_CLASSES: dict[str, Any] = {
    "ky": _("Kyrgyz class"),
    "ru": _("Russian class"),
    "uz": _("Uzbek class"),
    "tg": _("Tajik class"),
    "en": _("English class"),
}


@register.filter
def language_class(code: str) -> Any:
    """``{{ pool.language|language_class }}``: "Kyrgyz class", in the page's language."""
    return LANGUAGE_CLASSES.get(code, code)


@register.simple_tag
def register_label(code: str) -> str:
    """The register button of one pool, its class in words."""
    return gettext("Register: %(class)s") % {"class": language_class(code)}


@register.simple_tag
def prepare_label(code: str) -> str:
    """The prepare button of one pool before the opening, its class in words."""
    return gettext("Prepare: %(class)s") % {"class": language_class(code)}


@register.filter
def route_label(code: str) -> str:
    """The ground of a registration (§10, §24, §25, §27) in the page's language."""
    try:
        return str(Route(code).label)
    except ValueError:
        return code
