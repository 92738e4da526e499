from __future__ import annotations

from django.contrib import admin

from kattoo.campaigns.admin import AuditedAdmin

from .models import District, Region, School


@admin.register(Region)
class RegionAdmin(AuditedAdmin):
    list_display = ("soate", "name_ky", "name_ru")


@admin.register(District)
class DistrictAdmin(AuditedAdmin):
    list_display = ("soate", "name_ky", "name_ru", "region")


@admin.register(School)
class SchoolAdmin(AuditedAdmin):
    """§15: the operator keeps school names current."""

    list_display = ("code", "name_ky", "district", "ownership", "opted_in")
    list_filter = ("ownership", "opted_in")
    search_fields = ("code", "name_ky", "name_ru")
