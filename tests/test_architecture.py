"""Architecture rules the code must keep (in the spirit of les-emplois' consistency tests)."""

from __future__ import annotations

import re
from pathlib import Path

from django.conf import settings
from django.test import Client

ROOT = Path(settings.BASE_DIR) / "kattoo"
PUBLIC_OPERATIONS = {
    ("get", "/api/v1/campaign"),
    ("get", "/api/v1/schools"),
    ("get", "/api/v1/schools/{school_id}"),
    ("get", "/api/v1/addresses/lookup"),
    ("post", "/api/v1/auth/code"),
    ("post", "/api/v1/auth/token"),
    ("get", "/api/v1/open-data/summary"),
    # A new staff member's enrolment (the one-time token is the credential) and the staff
    # token (password and second factor).
    ("post", "/api/v1/staff/enrolment"),
    ("post", "/api/v1/staff/enrolment/confirm"),
    ("post", "/api/v1/auth/staff-token"),
}


def sources() -> list[Path]:
    return [p for p in ROOT.rglob("*.py") if "migrations" not in p.parts]


def test_every_api_operation_requires_a_token_unless_declared_public(client: Client) -> None:
    doc = client.get("/api/v1/openapi.json").json()
    open_ops = {
        (method, path)
        for path, operations in doc["paths"].items()
        for method, operation in operations.items()
        if not operation.get("security")
    }
    assert open_ops == PUBLIC_OPERATIONS


def test_only_the_state_machine_writes_an_applications_status() -> None:
    allowed = {
        ROOT / "enrollment" / "states.py",
        ROOT / "enrollment" / "allocation.py",
        # allocation's statement, extended (ADR 0015); its SQL reads statuses, writes none
        ROOT / "enrollment" / "fastpath.py",
    }
    pattern = re.compile(r"\.status\s*=(?!=)|\.update\([^)]*\bstatus=")
    offenders = [
        str(p.relative_to(ROOT))
        for p in sources()
        if p not in allowed and "Application" in p.read_text() and pattern.search(p.read_text())
    ]
    assert offenders == []


def test_only_the_registry_adapter_talks_http() -> None:
    pattern = re.compile(r"^\s*(import|from)\s+(httpx|requests|urllib3|aiohttp)\b", re.M)
    offenders = [
        str(p.relative_to(ROOT))
        for p in sources()
        if pattern.search(p.read_text()) and "integrations" not in p.parts
    ]
    assert offenders == []


def test_domain_does_not_import_the_api() -> None:
    offenders = [
        str(p.relative_to(ROOT))
        for p in sources()
        if "api" not in p.parts
        and re.search(r"^\s*from kattoo\.api\b|^\s*import kattoo\.api\b", p.read_text(), re.M)
    ]
    assert offenders == []


def test_no_regulation_dates_as_literals_in_domain_code() -> None:
    """§3, §5: dates of the regulation are campaign data (the data migration holds them)."""
    pattern = re.compile(r"\b20(19|20|26)\s*,\s*\d{1,2}\s*,\s*\d{1,2}")
    offenders = [
        str(p.relative_to(ROOT))
        for p in sources()
        if "demo" not in p.parts and pattern.search(p.read_text())
    ]
    assert offenders == []


def test_template_comments_are_closed_on_their_line() -> None:
    """Django's ``{# #}`` comment is one line only: a multi-line one is shown on the page."""
    open_comments = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in ROOT.rglob("*.html")
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if "{#" in line and "#}" not in line[line.index("{#") :]
    ]
    assert open_comments == [], "use {% comment %} … {% endcomment %} across lines"
