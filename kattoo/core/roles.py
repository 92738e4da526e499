"""The roles people act in (RULES.md §1): the vocabulary of scope — one's own school, one's
own district, the whole country — that every layer checks.

An account (``accounts.User``) holds its role, and points at its school or district; the
catalog scopes schools by the role (``catalog.selectors.schools_visible_to``). The roles live
here, below both, so that the catalog need not import the accounts app that sits above it."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    APPLICANT = "applicant", _("applicant")
    SCHOOL = "school", _("school administration")
    DISTRICT = "district", _("district education officer")
    MINISTRY_ANALYST = "ministry_analyst", _("ministry analyst")
    MINISTRY_ADMIN = "ministry_admin", _("ministry administrator")
    OPERATOR = "operator", _("technical operator")
