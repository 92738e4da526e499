"""The audit trail as CSV lines, streamed (a filtered export can reach EXPORT_LIMIT rows)."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator

from kattoo.audit.models import AuditEvent

from .services import audit_actor_masked

COLUMNS = [
    "id",
    "at",
    "actor",
    "channel",
    "action",
    "object_type",
    "object_id",
    "request_id",
    "data",
    "chain_hash",
]


class _Line:
    def write(self, value: str) -> str:
        return value


def audit_csv_lines(events: Iterable[AuditEvent]) -> Iterator[str]:
    writer = csv.writer(_Line())
    yield writer.writerow(COLUMNS)
    for e in events:
        yield writer.writerow(
            [
                e.pk,
                e.at.isoformat(),
                audit_actor_masked(e) or "",  # applicants' PINs masked (§7)
                e.channel,
                e.action,
                e.object_type,
                e.object_id,
                e.request_id,
                json.dumps(e.data, ensure_ascii=False, sort_keys=True, default=str),
                e.chain_hash,
            ]
        )
