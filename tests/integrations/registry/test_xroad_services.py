"""End to end: the people services over the X-Road client and the simulator (real HTTP)."""

from __future__ import annotations

import uuid

import pytest

from kattoo.audit.models import AuditEvent
from kattoo.core.actors import Actor
from kattoo.core.errors import RuleViolation
from kattoo.integrations.registry.client import registry_override
from kattoo.integrations.registry.xroad import XRoadRegistry
from kattoo.people.models import ChildLink, Person, Relation
from kattoo.people.services import applicant_children_sync, person_refresh
from kattoo.tunduk_sim.server import RunningSimulator

from ...tunduk_sim.support import Cast

SYSTEM = Actor.system()


def test_applicant_children_sync_links_the_children_tunduk_lists(
    xroad: XRoadRegistry, simulator: RunningSimulator, cast: Cast
) -> None:
    with registry_override(xroad):
        applicant = person_refresh(pin=cast.mother["pin"], actor=SYSTEM, applicant=True)
        links = applicant_children_sync(applicant=applicant, actor=SYSTEM)
    assert applicant.passport_number == cast.mother["passport"]["passportNumber"]
    assert applicant.phone == "+996700123456"
    assert uuid.UUID(applicant.xroad_id)
    assert sorted(link.child.pin for link in links) == sorted(t["pin"] for t in cast.twins)
    assert {link.relation for link in links} == {Relation.MOTHER}
    assert len({link.xroad_id for link in links}) == 1  # the family-members exchange
    twin = Person.objects.get(pin=cast.twins[0]["pin"])
    assert twin.mother_pin == cast.mother["pin"] and twin.address_street_code == "ST-SIM-01"
    assert Person.objects.filter(pin=cast.father["pin"]).exists()  # the other parent (§10)
    assert simulator.app.stats()["by_service"]["family-members"] == 1


def test_an_outage_is_registry_unavailable_and_writes_nothing(
    xroad: XRoadRegistry, simulator: RunningSimulator, cast: Cast
) -> None:
    simulator.app.faults_update({"outage": True})
    people, events = Person.objects.count(), AuditEvent.objects.count()
    with registry_override(xroad), pytest.raises(RuleViolation) as refused:
        person_refresh(pin=cast.father["pin"], actor=SYSTEM, applicant=True)
    assert refused.value.code == "registry_unavailable"
    assert not Person.objects.filter(pin=cast.father["pin"]).exists()
    assert (Person.objects.count(), AuditEvent.objects.count()) == (people, events)
    assert ChildLink.objects.count() == 0
    assert simulator.app.stats()["requests"] == 3  # retried, then given up


def test_the_audit_trail_keeps_the_xroad_ids(
    xroad: XRoadRegistry, simulator: RunningSimulator, cast: Cast
) -> None:
    with registry_override(xroad):
        person = person_refresh(pin=cast.mother["pin"], actor=SYSTEM, applicant=True)
    event = AuditEvent.objects.get(action="person.refresh", object_id=str(person.pk))
    assert event.data["xroad_id"] == person.xroad_id
    assert uuid.UUID(event.data["xroad_request_id"]) and len(event.data["xroad_request_hash"]) > 40
