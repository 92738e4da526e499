"""The order of acceptance is reconstructible from the audit trail alone (RULES.md §5)."""

from __future__ import annotations

from kattoo.audit.models import AuditEvent
from kattoo.core.actors import Actor
from kattoo.enrollment.models import Application, SeatPool
from kattoo.enrollment.positions import acceptance_order_from_audit
from kattoo.enrollment.services import application_cancel, application_register

from ..conftest import World, audit_tampering


def register(world: World, family, language: str = "ky") -> Application:
    return application_register(
        campaign=world.campaign,
        user=family.parent,
        child=family.child,
        school=world.school,
        language=language,
        actor=Actor(user=family.parent),
    )


def test_positions_are_rederived_from_the_register_events(world: World, at_stage1) -> None:
    families = [world.family() for _ in range(6)]
    applications = [register(world, f, "ky" if i % 3 else "ru") for i, f in enumerate(families)]
    # A cancellation does not renumber anyone; the next registration takes the next position.
    application_cancel(application=applications[1], actor=Actor(user=None))
    applications.append(register(world, families[1]))
    for language in ("ky", "ru"):
        pool = SeatPool.objects.get(campaign=world.campaign, school=world.school, language=language)
        stored = {str(a.pk): a.position for a in Application.objects.filter(pool=pool)}
        assert acceptance_order_from_audit(pool) == stored
        assert sorted(stored.values()) == list(range(1, len(stored) + 1))


def test_a_deleted_register_event_shows(world: World, at_stage1) -> None:
    first, second = register(world, world.family()), register(world, world.family())
    with audit_tampering():
        AuditEvent.objects.filter(object_id=str(first.pk), action="application.register").delete()
    pool = SeatPool.objects.get(pk=first.pool_id)
    derived = acceptance_order_from_audit(pool)
    assert derived[str(second.pk)] != second.position
