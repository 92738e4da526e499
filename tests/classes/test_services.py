from __future__ import annotations

import datetime as dt

from kattoo.classes.models import ClassMember, FormedClass
from kattoo.classes.services import classes_form
from kattoo.core.actors import Actor
from kattoo.enrollment.services import application_admit, application_register

from ..conftest import SYSTEM, World


def test_form_the_kyrgyz_classes_of_a_school(world: World, at_stage1) -> None:
    for i in range(12):
        family = world.family(births=[dt.date(2019, 1, 1) + dt.timedelta(days=i)])
        app = application_register(
            campaign=world.campaign,
            user=family.parent,
            child=family.child,
            school=world.school,
            language="ky",
            actor=Actor(user=family.parent),
        )
        application_admit(application=app, actor=SYSTEM)
    formed = classes_form(campaign=world.campaign, school=world.school, language="ky", actor=SYSTEM)
    assert [(c.letter, c.language) for c in formed] == [("А", "ky")]
    assert ClassMember.objects.count() == 12
    again = classes_form(campaign=world.campaign, school=world.school, language="ky", actor=SYSTEM)
    assert FormedClass.objects.count() == 1 and again[0].members.count() == 12
