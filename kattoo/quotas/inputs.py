"""What a quota computation reads, and its fingerprint (ADR 0017).

A draft quota is recomputed automatically only when its inputs change: the school's actual
class-sets of the campaign (§11) and the campaign's class-size limits. The fingerprint is a
hash of exactly what ``plan_quota`` is given, in the order it is given, so equal fingerprints
mean an equal computation.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable

from kattoo.campaigns.models import Campaign
from kattoo.catalog.models import ExistingClassSet

# Raised when the rule of compute.py changes, so every draft is recomputed once.
RULE_VERSION = 1


def quota_inputs_fingerprint(*, existing: Iterable[ExistingClassSet], campaign: Campaign) -> str:
    """``existing`` in the order ``quota_compute`` reads them (grade, letter, id)."""
    body = {
        "rule": RULE_VERSION,
        "low": campaign.class_size_min,
        "high": campaign.class_size_max,
        "sets": [[e.grade, e.letter, e.language, e.size] for e in existing],
    }
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def existing_class_sets(
    *, campaign: Campaign, school_ids: Iterable[int]
) -> dict[int, list[ExistingClassSet]]:
    """The actual class-sets of many schools at once, by school id, in computation order."""
    by_school: dict[int, list[ExistingClassSet]] = defaultdict(list)
    ids = sorted(set(school_ids))
    for start in range(0, len(ids), 500):
        for row in ExistingClassSet.objects.filter(
            campaign=campaign, school_id__in=ids[start : start + 500]
        ).order_by("school_id", "grade", "letter", "id"):
            by_school[row.school_id].append(row)
    return by_school
