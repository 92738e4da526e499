from __future__ import annotations

import re
import time

from django.test import Client

from kattoo.audit.models import AuditEvent

from .api.test_applicant_api import Api
from .conftest import World


def test_every_response_carries_a_request_id(client: Client, campaign) -> None:
    made_up = client.get("/api/v1/campaign")
    assert re.fullmatch(r"[0-9]{10}\.[0-9]{3}-[0-9a-f]{32}", made_up["X-Request-Id"])
    kept = client.get("/api/v1/campaign", headers={"X-Request-Id": "lb-7f3a.1"})
    assert kept["X-Request-Id"] == "lb-7f3a.1"
    junk = client.get("/api/v1/campaign", headers={"X-Request-Id": "<script>" * 20})
    assert junk["X-Request-Id"] != "<script>" * 20


def test_the_audit_row_names_the_request(client: Client, world: World, at_stage1) -> None:
    from kattoo.accounts.services import token_issue

    from .conftest import SYSTEM

    family = world.family()
    api = Api(client, token_issue(user=family.parent, actor=SYSTEM))
    api.headers["X-Request-Id"] = "req-42"
    api.post(
        "/applications",
        {"child": str(family.child.pk), "school": str(world.school.pk), "language": "ky"},
    )
    assert AuditEvent.objects.get(action="application.register").request_id == "req-42"


def test_made_up_ids_grow_with_time_as_nginx_makes_them() -> None:
    """ADR 0041: the audit's request index is appended at its end, not written all over."""
    from kattoo.core.request_id import request_id_new

    before = time.time()
    first = request_id_new()
    after = time.time()
    time.sleep(0.002)
    ids = [request_id_new() for _ in range(50)]
    assert all(first < later for later in ids)
    assert len(set(ids)) == 50
    # Its time is when it was made (to the millisecond, rounded).
    made_at = float(first.split("-")[0])
    assert before <= made_at + 0.001 and made_at <= after + 0.001
    # nginx's own form: seconds to the millisecond, then 32 hex digits (128 random bits).
    assert all(re.fullmatch(r"[0-9]+\.[0-9]{3}-[0-9a-f]{32}", i) for i in [first, *ids])


def test_made_up_ids_ask_the_system_for_random_bytes_ahead(monkeypatch) -> None:
    """ADR 0051: the random digits come from bytes read ahead, not a system call an id."""
    from kattoo.core import ids
    from kattoo.core.request_id import request_id_new

    calls = []
    real = ids.os.urandom

    def counted(n: int) -> bytes:
        calls.append(n)
        return real(n)

    monkeypatch.setattr(ids.os, "urandom", counted)
    made = {request_id_new() for _ in range(200)}
    assert len(made) == 200
    # 200 ids of 16 bytes: 3,200 bytes, within one 4 KiB read (none when the thread's bytes
    # read before were enough), against 200 system calls made one an id.
    assert len(calls) <= 1
