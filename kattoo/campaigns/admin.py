from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db import transaction
from django.http import HttpRequest

from kattoo.audit.services import audit_record
from kattoo.core.actors import Actor

from .models import CalendarDay, Campaign


class AuditedAdmin(admin.ModelAdmin):
    """Changes made in the admin leave their audit row too (§7)."""

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            audit_record(
                actor=Actor(user=request.user, channel="web"),  # type: ignore[arg-type]
                action=f"{obj._meta.model_name}.{'update' if change else 'create'}",
                obj=obj,
                data={"fields": list(form.changed_data)},
            )

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        with transaction.atomic():
            audit_record(
                actor=Actor(user=request.user, channel="web"),  # type: ignore[arg-type]
                action=f"{obj._meta.model_name}.delete",
                obj=obj,
            )
            super().delete_model(request, obj)


@admin.register(Campaign)
class CampaignAdmin(AuditedAdmin):
    list_display = ("code", "academic_year", "is_active", "stage1_starts_at", "stage2_starts_at")


@admin.register(CalendarDay)
class CalendarDayAdmin(AuditedAdmin):
    list_display = ("date", "is_working", "name_ky", "name_ru")
    list_filter = ("is_working",)
