from __future__ import annotations

from django.db.models import QuerySet

from kattoo.accounts.models import Role, User
from kattoo.core import clock

from .models import Appeal, AppealStatus


def appeals_visible_to(user: User) -> QuerySet[Appeal]:
    appeals = Appeal.objects.select_related("district", "school", "application")
    if user.role == Role.APPLICANT:
        return appeals.filter(user=user)
    if user.role == Role.DISTRICT and user.district_id is not None:
        return appeals.filter(district_id=user.district_id)
    if user.role == Role.SCHOOL and user.school_id is not None:
        return appeals.filter(school_id=user.school_id, status=AppealStatus.FORWARDED)
    if user.role in (Role.MINISTRY_ADMIN, Role.MINISTRY_ANALYST):
        return appeals
    return appeals.none()


def appeals_overdue(appeals: QuerySet[Appeal]) -> QuerySet[Appeal]:
    return appeals.exclude(status=AppealStatus.ANSWERED).filter(due_at__lt=clock.now())
