"""What must hold after any run, however it was loaded or killed — checked in SQL.

- no pool with ``taken > capacity`` (``overbooked``);
- ``taken`` equals the pool's active registrations (``taken_mismatch``; ACTIVE_STATUSES in
  kattoo/enrollment/models.py: registered, admitted);
- no child with two active registrations (``double_active``);
- every registration has its first history row and its audit row (``missing_history``,
  ``missing_audit``): nothing half-done;
- every id the app acknowledged with 201 exists (``lost_acks``).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import psycopg

ACTIVE = ("registered", "admitted")

QUERIES = {
    "overbooked": "SELECT count(*) FROM enrollment_seatpool WHERE taken > capacity",
    "taken_mismatch": """
        SELECT count(*) FROM enrollment_seatpool p
          LEFT JOIN (SELECT pool_id, count(*) AS n FROM enrollment_application
                      WHERE status IN ('registered', 'admitted') GROUP BY pool_id) a
            ON a.pool_id = p.id
         WHERE p.taken <> coalesce(a.n, 0)""",
    "double_active": """
        SELECT count(*) FROM (SELECT campaign_id, child_id FROM enrollment_application
                               WHERE status IN ('registered', 'admitted')
                               GROUP BY campaign_id, child_id HAVING count(*) > 1) d""",
    "missing_history": """
        SELECT count(*) FROM enrollment_application a
         WHERE NOT EXISTS (SELECT 1 FROM enrollment_applicationtransition t
                            WHERE t.application_id = a.id)""",
    "missing_audit": """
        SELECT count(*) FROM enrollment_application a
          LEFT JOIN (SELECT DISTINCT object_id FROM audit_auditevent
                      WHERE action = 'application.register') e ON e.object_id = a.id::text
         WHERE e.object_id IS NULL""",
    "applications": "SELECT count(*) FROM enrollment_application",
}


def read_acks(paths: Iterable[Path]) -> list[str]:
    """Application ids from the load generators' ack files ("id<TAB>child" lines)."""
    ids = []
    for path in paths:
        if not path.exists():
            continue
        for line in path.read_text().splitlines():
            app_id = line.split("\t", 1)[0].strip()
            if app_id:
                ids.append(app_id)
    return ids


def check(dsn: str, acked_ids: Iterable[str] = ()) -> dict[str, int]:
    """Every invariant as a count of violations (0 is good), plus ``applications`` and
    ``acks`` for context."""
    acked = list(dict.fromkeys(acked_ids))
    result: dict[str, int] = {}
    with psycopg.connect(dsn, autocommit=True) as conn:
        for name, sql in QUERIES.items():
            row = conn.execute(sql).fetchone()
            result[name] = int(row[0]) if row else 0
        conn.execute("CREATE TEMP TABLE acked (id text)")
        with conn.cursor().copy("COPY acked (id) FROM STDIN") as copy:
            for app_id in acked:
                copy.write_row((app_id,))
        row = conn.execute(
            """SELECT count(*) FROM acked k
                WHERE NOT EXISTS (SELECT 1 FROM enrollment_application a
                                   WHERE a.id::text = k.id)"""
        ).fetchone()
        result["lost_acks"] = int(row[0]) if row else 0
    result["acks"] = len(acked)
    return result


def violations(result: dict[str, int]) -> dict[str, int]:
    """Only the failed invariants."""
    names = (
        "overbooked",
        "taken_mismatch",
        "double_active",
        "missing_history",
        "missing_audit",
        "lost_acks",
    )
    return {k: result[k] for k in names if result.get(k)}
