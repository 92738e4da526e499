"""Staff authenticators in Django admin: seen, never read (issue 13 item 9, ADR 0021).

django-otp's own admin shows each TOTP device's secret key and a page with its QR code; with
them the technical operator could compute any staff member's codes. Here the device is listed
without key, QR code or configuration page, for everyone, and cannot be added, changed or
deleted: a lost phone goes through the second-factor reset (kattoo.accounts.staff)."""

from __future__ import annotations

import contextlib
from typing import Any

from django.contrib import admin
from django.contrib.admin.exceptions import NotRegistered
from django.http import HttpRequest
from django_otp.plugins.otp_totp.models import TOTPDevice

SAFE_FIELDS = ("user", "name", "confirmed", "created_at", "last_used_at")


class TOTPDeviceReadOnlyAdmin(admin.ModelAdmin):
    list_display = SAFE_FIELDS
    list_filter = ("confirmed",)
    search_fields = ("user__username",)
    fields = SAFE_FIELDS
    readonly_fields = SAFE_FIELDS

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


with contextlib.suppress(NotRegistered):
    admin.site.unregister(TOTPDevice)
admin.site.register(TOTPDevice, TOTPDeviceReadOnlyAdmin)
