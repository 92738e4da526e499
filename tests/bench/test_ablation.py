"""The ablation's variants of the app's script (bench/ablation.py): each leaves out exactly the
part it names, and the statement it builds is still the app's statement otherwise."""

from __future__ import annotations

import re

import pytest
from django.db import connection

from bench.ablation import PARTS, split_ctes, variants

pytestmark = pytest.mark.django_db


def _numbered(line: str) -> str:
    """pgbench's ``:name`` (not a ``::`` cast) → ``$n`` for a server-side PREPARE."""
    names: list[str] = []

    def number(match: re.Match[str]) -> str:
        if match.group(1) not in names:
            names.append(match.group(1))
        return f"${names.index(match.group(1)) + 1}"

    return re.sub(r"(?<![:\w]):(\w+)", number, line)


SCRIPT = """-- the next child (the app reads it from the request)
SELECT 1 AS n
\\gset
-- 1. the token's holder and the facts
WITH u AS (SELECT 1 AS id) SELECT u.id, f.* FROM u LEFT JOIN LATERAL (SELECT 2) f ON true;
-- 2. submit
WITH history AS ( INSERT INTO h SELECT :id RETURNING 1 ), draft AS ( DELETE FROM d WHERE id = :draft_id RETURNING 1 ), seat AS ( UPDATE enrollment_seatpool SET taken = taken + 1 WHERE id = :pool_id AND (SELECT count(*) FROM history) >= 0 AND (SELECT count(*) FROM draft) >= 0 RETURNING taken ), app AS ( INSERT INTO a (p, x) SELECT (SELECT taken FROM seat), coalesce(:x, 'a, b') RETURNING id, position ), audit AS ( INSERT INTO e SELECT id, jsonb_set(:d::jsonb, '{position}', to_jsonb(app.position)) FROM app ), outbox AS ( INSERT INTO o SELECT id FROM app WHERE :phone::text <> '' ON CONFLICT (k) DO NOTHING ), idempotency AS ( INSERT INTO i SELECT id FROM app ) SELECT position FROM app;
"""  # noqa: E501


def test_the_submit_statement_splits_at_its_top_level_ctes_only() -> None:
    submit = SCRIPT.splitlines()[-1]
    parts, tail = split_ctes(submit)
    assert [name for name, _text in parts] == [
        "history", "draft", "seat", "app", "audit", "outbox", "idempotency"
    ]  # fmt: skip
    assert tail == "SELECT position FROM app;"
    assert "WITH " + ", ".join(text for _name, text in parts) + " " + tail == submit
    with pytest.raises(ValueError):
        split_ctes("SELECT 1;")


def test_each_variant_leaves_out_what_it_names() -> None:
    found = variants(SCRIPT)
    assert found["app"] == SCRIPT
    assert "WITH u AS" not in found["submit"] and "WITH u AS" in found["app"]
    assert found["submit"] == SCRIPT.replace(SCRIPT.splitlines()[4] + "\n", "")
    for part in PARTS:
        text = found[f"submit − {part}"]
        assert f" {part} AS (" not in text
        assert f"FROM {part})" not in text  # the seat no longer waits for it
        assert all(f" {other} AS (" in text for other in PARTS if other != part)
        assert "SELECT position FROM app;" in text
    lean = found["seat + application"]
    assert "WITH seat AS" in lean and "app AS (" in lean
    assert not any(f" {part} AS (" in lean for part in PARTS)


def test_pg_stat_statements_texts_are_told_apart() -> None:
    from bench.ablation import _variant_of

    submit = SCRIPT.splitlines()[-1]
    assert _variant_of("WITH u AS (SELECT $1) SELECT 1") == "read (token and facts)"
    assert _variant_of(submit) == "submit"
    for part, text in variants(SCRIPT).items():
        if part.startswith("submit − ") or part == "seat + application":
            assert _variant_of(text.splitlines()[-1]) == part
    assert _variant_of("WITH seat AS (UPDATE pool SET seats_taken = seats_taken + $1") == "minimal"
    assert _variant_of("SELECT encode(sha256(x))") is None


@pytest.mark.postgres
@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="the statement is PostgreSQL's")
def test_every_variant_of_the_apps_own_script_is_valid_sql() -> None:
    """The variants of the script pgbench runs (bench/sqlpath.py: the app's ``_SUBMIT``) are
    statements PostgreSQL accepts — parsed, analysed and planned — with each part left out
    and, for a part written before the seat, the seat's wait for it."""

    from bench.sqlpath import pgbench_script

    found = variants(pgbench_script())
    assert set(found) == {"app", "submit", *(f"submit − {p}" for p in PARTS), "seat + application"}
    with connection.cursor() as cursor:
        for script in found.values():
            line = next(x for x in script.splitlines() if "UPDATE enrollment_seatpool" in x)
            text = _numbered(line.rstrip(";"))
            cursor.execute(f"PREPARE ablation_variant AS {text}")  # fails on invalid SQL
            cursor.execute("DEALLOCATE ablation_variant")
