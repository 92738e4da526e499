"""Architecture rules the code must keep (in the spirit of les-emplois' consistency tests)."""

from __future__ import annotations

import ast
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
    # The SMS gateway's delivery reports: a shared-secret header, not a token (ADR 0022).
    ("post", "/api/v1/notifications/delivery-reports"),
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


CLOCKS = {"perf_counter", "perf_counter_ns", "monotonic", "monotonic_ns", "time", "time_ns"}


def _reads_a_clock(node: ast.AST, readings: set[str]) -> bool:
    """``node`` calls ``time.perf_counter()`` and the like, or uses a name holding a reading."""
    for inner in ast.walk(node):
        if (
            isinstance(inner, ast.Call)
            and isinstance(inner.func, ast.Attribute)
            and inner.func.attr in CLOCKS
            and isinstance(inner.func.value, ast.Name)
            and inner.func.value.id == "time"
        ):
            return True
        if isinstance(inner, ast.Name) and inner.id in readings:
            return True
    return False


def _measures(node: ast.AST, readings: set[str], durations: set[str]) -> bool:
    """``node`` computes a duration (a clock reading minus another) or uses a name holding one."""
    return any(
        (
            isinstance(inner, ast.BinOp)
            and isinstance(inner.op, ast.Sub)
            and (_reads_a_clock(inner.left, readings) or _reads_a_clock(inner.right, readings))
        )
        or (isinstance(inner, ast.Name) and inner.id in durations)
        for inner in ast.walk(node)
    )


def duration_assertions(source: str) -> list[int]:
    """Lines of ``source`` whose ``assert`` bounds a duration measured on a wall clock. A
    deadline that only stops a polling loop from waiting forever (``assert monotonic() <
    deadline``) is a guard against a hang, not a measurement, and is allowed."""
    tree = ast.parse(source)
    readings: set[str] = set()
    durations: set[str] = set()
    for _ in range(3):  # names computed from names computed from a clock
        for node in ast.walk(tree):
            if not isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign) or not node.value:
                continue
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names = {t.id for t in targets if isinstance(t, ast.Name)}
            if _measures(node.value, readings, durations):
                durations |= names
            elif _reads_a_clock(node.value, readings):
                readings |= names
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Assert) and _measures(node.test, readings, durations)
    ]


def test_no_test_asserts_a_duration() -> None:
    """Issue 13: a wall-clock bound fails on a busy machine. Prove parallelism by overlap and
    backoff by the recorded attempt schedule instead."""
    tests = Path(settings.BASE_DIR) / "tests"
    offenders = [
        f"{path.relative_to(tests)}:{line}"
        for path in sorted(tests.rglob("*.py"))
        for line in duration_assertions(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []


def test_the_duration_scan_finds_what_it_should() -> None:
    # NOW stands for the clock call, so that a plain grep of tests/ for timed assertions
    # does not find these samples themselves.
    caught = """
import time
started = time.perf_counter()
assert NOW - started < 1.0
elapsed = time.monotonic() - started
assert elapsed < 2
took = elapsed * 1000
assert took < 5
assert 0.1 <= NOW - started
""".replace("NOW", "time.perf_counter()")
    assert duration_assertions(caught) == [4, 6, 8, 9]
    allowed = """
import time
deadline = time.monotonic() + 60
while time.monotonic() < deadline:
    pass
while True:
    assert time.monotonic() < deadline, "still waiting"
assert sleeps == [0.2]
"""
    assert duration_assertions(allowed) == []
