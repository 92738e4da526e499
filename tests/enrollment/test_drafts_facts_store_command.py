"""``manage.py drafts_facts_store`` runs every night (kattoo-daily): an install with no active
campaign yet has nothing to store, which is not a failure of the unit."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from kattoo.audit.models import AuditEvent
from kattoo.campaigns.models import Campaign


@pytest.mark.django_db
def test_with_no_active_campaign_there_is_nothing_to_store() -> None:
    Campaign.objects.update(is_active=False)
    out = io.StringIO()
    call_command("drafts_facts_store", stdout=out)
    assert "no active campaign" in out.getvalue()
    assert not AuditEvent.objects.filter(action="draft.facts_store").exists()


@pytest.mark.django_db
def test_with_an_active_campaign_and_no_drafts_it_stores_none(campaign: Campaign) -> None:
    # The migration's campaign, through the fixture: a transactional test that ran before this
    # one in the same process (in any order, with the suite spread over processes) flushed it.
    assert campaign.is_active
    out = io.StringIO()
    call_command("drafts_facts_store", stdout=out)
    assert "facts stored again for 0" in out.getvalue()
