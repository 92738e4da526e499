from __future__ import annotations

from django.db import transaction

from kattoo.audit.services import audit_record
from kattoo.campaigns.models import Campaign
from kattoo.catalog.models import School
from kattoo.core import clock
from kattoo.core.actors import Actor
from kattoo.core.errors import RuleViolation
from kattoo.enrollment.models import Application, Status
from kattoo.quotas.models import ClassSet, Quota

from .forming import ClassSlot, Pupil, form_classes
from .models import ClassMember, FormedClass

LETTERS = "АБВГДЕЖЗИКЛМНОПРСТУФХЦЧШЭЮЯ"


@transaction.atomic
def classes_form(
    *, campaign: Campaign, school: School, language: str, actor: Actor
) -> list[FormedClass]:
    """(Re)form the first classes of one language from its admitted children (§19)."""
    quota = Quota.objects.filter(school=school, campaign=campaign).first()
    sets = (
        list(ClassSet.objects.filter(quota=quota, language=language).order_by("number"))
        if quota
        else []
    )
    if not sets:
        raise RuleViolation("language_not_offered")
    admitted = list(
        Application.objects.filter(
            campaign=campaign, school=school, language=language, status=Status.ADMITTED
        ).select_related("child")
    )
    pupils = [Pupil(str(a.pk), a.child.sex, a.child.surname, a.child.name) for a in admitted]
    plan = form_classes(pupils, [ClassSlot(c.number, c.seats) for c in sets])
    FormedClass.objects.filter(campaign=campaign, school=school, language=language).delete()
    # Letters run across the school's languages in class-set order, as schools name classes.
    all_numbers = list(
        ClassSet.objects.filter(quota=quota).order_by("number").values_list("number", flat=True)
    )
    now = clock.now()
    formed = []
    for number, members in plan.items():
        formed_class = FormedClass.objects.create(
            campaign=campaign,
            school=school,
            language=language,
            class_set_number=number,
            letter=LETTERS[all_numbers.index(number) % len(LETTERS)],
            formed_at=now,
        )
        ClassMember.objects.bulk_create(
            ClassMember(formed_class=formed_class, application_id=p.key) for p in members
        )
        formed.append(formed_class)
    audit_record(
        actor=actor,
        action="classes.form",
        obj=school,
        data={
            "language": language,
            "classes": {str(n): len(m) for n, m in plan.items()},
        },
    )
    return formed
