"""The status page learns from every registry call whether Tunduk answers."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.cache import cache

from kattoo.integrations.registry.client import registry
from kattoo.integrations.registry.errors import RegistryUnavailable
from kattoo.integrations.registry.health import registry_recently_failed
from kattoo.integrations.registry.types import RequestContext

from ...factories import registry_person


def test_a_failure_shows_and_an_answer_clears_it(fake_registry) -> None:
    cache.clear()
    person = registry_person(sex="F", born=dt.date(1990, 1, 1))
    fake_registry.add_person(person)
    fake_registry.available = False
    with pytest.raises(RegistryUnavailable):
        registry().person(person["pin"], RequestContext())
    assert registry_recently_failed()
    fake_registry.available = True
    registry().person(person["pin"], RequestContext())
    assert not registry_recently_failed()
