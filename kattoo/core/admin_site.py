"""Django admin is for the technical operator (and the ministry administrator for campaign
settings and the holiday calendar); nobody else, whatever ``is_staff`` says."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django_otp.admin import OTPAdminSite

ADMIN_ROLES = ("operator", "ministry_admin")


class KattooAdminSite(OTPAdminSite):
    """Signing in needs the authenticator code too (django-otp), as the staff portal does."""

    site_header = "Kattoo"
    site_title = "Kattoo"

    def has_permission(self, request: HttpRequest) -> bool:
        user: Any = request.user
        return super().has_permission(request) and getattr(user, "role", "") in ADMIN_ROLES
