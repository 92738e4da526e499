from __future__ import annotations

from django.db.models import QuerySet

from .models import ChildLink, Person


def child_links_of(applicant: Person) -> QuerySet[ChildLink]:
    return (
        ChildLink.objects.filter(applicant=applicant)
        .select_related("child", "applicant")
        .order_by("child__birth_date", "child__pin")
    )
