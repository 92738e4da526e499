r"""The database's ceiling for one registration: pgbench running the app's own SQL.

``pgbench_script()`` returns a pgbench script (``-M simple``) that, per transaction, takes the
next child of ``bench_target`` and runs exactly the statements the API sends for
``POST /api/v1/drafts/{child}/submit`` on the fast path, with the same texts:

1. the bearer token's holder and the draft's facts, in one statement (``enrollment.fastpath.
   _TOKEN_FACTS``, the slim submit handler's read: ``kattoo/api/hot.py``),
2. the submit statement (``enrollment.fastpath._SUBMIT``: history, draft deletion, then the
   seat, application, audit, SMS outbox row, idempotency record) — or, for the refused path
   (``refused=True``: every pool full), the refusal's audit row with its key check
   (``enrollment.fastpath._REFUSED``) in its place: the app sends no submit statement when
   the facts show the pool full (it sends the refusal's row after the submit statement only
   when the pool filled between the read and the statement). The accepted path's script
   branches the same way (``\if :free > 0``) for the pools that fill during its run,
and nothing else: the SMS leaves through the outbox drain (``notifications_drain``), which
claims the outbox rows in batches — no task row per registration (issue 15).

The app binds parameters on the server and prepares its statements once per connection
(production settings, ADR 0015); pgbench runs in ``-M prepared`` mode, where every ``:variable``
is a bound parameter, the same way. The first query sets the variables (``\gset``); it is the
only statement the app does not run: it picks the next child (the app gets it from the
request). Per-request values the app makes in Python (the token's digest, UUIDs, the JSON and
the SMS text it builds) are made before the run, one row per child in ``bench_args``
(``args_table_sql``, run on the copy of the seed), so that query is one primary-key read, like
the minimal statement's arrival lookup (bench/minimal.py), and the measured run holds only the
app's own statements' work. SQL comments are dropped: pgbench gets each statement on one line.
"""

from __future__ import annotations

import json
import re
from typing import Any

# What the app makes in Python per request, or reads in its own statement, made once per
# child BEFORE pgbench runs (``args_table_sql``): the token's digest, the ids, the UUIDs, the
# JSON, the SMS text, the draft's id. The first query of each transaction is then one
# primary-key read — as the minimal statement's arrival variant reads its child — instead of
# making them on the database inside the measured run (sha256, four UUIDs, a JSON object and
# four joins: ~0.24 ms of PostgreSQL CPU per transaction on the national seed, a fifth of the
# app's script, none of it work the app asks of the database).
_ARGS = r"""
SELECT t.n,
       encode(sha256(convert_to(t.token, 'UTF8')), 'hex') AS digest,
       t.user_id AS user_id, t.applicant_id AS applicant_id,
       t.child_id AS child_id, t.campaign_id AS campaign_id, t.pool_id AS pool_id,
       t.school_id AS school_id, t.language AS language, t.route AS route,
       t.route IN ('teacher', 'twin') AS above,
       CASE WHEN t.route IN ('teacher', 'twin') THEN 1 ELSE 0 END AS extra,
       :uuid7 AS id, :uuid7 AS note_id, gen_random_uuid() AS key,
       :request_id AS request_id,
       json_build_object('child', t.child_id, 'school', t.school_id,
           'language', t.language, 'route', t.route,
           'above_quota', t.route IN ('teacher', 'twin'))::text AS data,
       ap.phone IS NOT NULL AS has_phone, u.language AS user_language,
       -- the outbox's address: a ciphertext of the phone (the same keys, ADR 0022; the app
       -- takes the draft's copy, d.phone, from its read: ADR 0046)
       ap.phone AS address,
       'Kattoo: ' || ch.name || ' ' || ch.surname || ' катталды, орду — ' || :mark_text || '.'
           AS note_body,
       (SELECT d.id FROM enrollment_draft d
         WHERE d.user_id = t.user_id AND d.campaign_id = t.campaign_id
           AND d.child_id = t.child_id) AS draft_id,
       md5(t.child_id::text) || md5(t.user_id::text) AS fingerprint
  FROM bench_target t
  JOIN accounts_user u ON u.id = t.user_id
  JOIN people_person ap ON ap.id = t.applicant_id
  JOIN people_person ch ON ch.id = t.child_id
"""

# The application's and the SMS's keys as the app makes them (kattoo/core/ids.py, ADR 0040): a
# UUIDv7, its first 48 bits the time in milliseconds — here the children's arrival order, one
# millisecond apart — then the version, 74 random bits and the variant. The idempotency key
# is the client's (random).
_UUID7 = (
    "(lpad(to_hex((extract(epoch FROM now()) * 1000)::bigint + t.n), 12, '0') || '7'"
    " || substr(md5(random()::text), 1, 3) || substr('89ab', 1 + floor(random() * 4)::int, 1)"
    " || substr(md5(random()::text), 1, 15))::uuid"
)

# The request id as nginx makes it (deploy/nginx/kattoo.conf, ADR 0041): its time in seconds to
# the millisecond — the arrival order, one millisecond apart — then its random id.
_REQUEST_ID = (
    "(to_char(extract(epoch FROM now()) + t.n / 1000.0, 'FM9999999999.000')"
    " || '-' || md5(random()::text))"
)

# Stands for the position in the SMS text (``note_body``) until the statement knows it.
MARK = "#"

# What the first query sets: the next child's arguments, the constants, and whether its pool
# has a free seat (``free``): the app reads that in its facts and sends no submit statement
# for a full pool (the refusal's row instead); pgbench branches on it (``\if``).
_PRELUDE = r"""
SELECT a.*, 'api' AS channel, now() AS now, :no_secret_text AS no_secret, :mark_text AS mark,
       :response_text AS response, p.capacity - p.taken - p.held AS free
  FROM bench_args a JOIN enrollment_seatpool p ON p.id = a.pool_id
 WHERE a.n = (SELECT nextval('bench_target_seq'))
"""


def args_table_sql() -> list[str]:
    """The statements that make ``bench_args``: one row of the first query's values per child
    of ``bench_target``, made before the run on the copy of the seed pgbench will use (its
    drafts are the ones the run deletes). Each is sent on its own (``VACUUM`` runs outside a
    transaction)."""
    select = (
        re.sub(r"--[^\n]*", "", _ARGS)
        .replace(":mark_text", _literal(MARK))
        .replace(":uuid7", _UUID7)
        .replace(":request_id", _REQUEST_ID)
    )
    return [
        "DROP TABLE IF EXISTS bench_args",
        f"CREATE TABLE bench_args AS {select}",
        "ALTER TABLE bench_args ADD PRIMARY KEY (n)",
        "VACUUM ANALYZE bench_args",
    ]


# The shape and size of the body the app stores with the idempotency record.
_RESPONSE = {
    "id": "00000000-0000-4000-8000-000000000000",
    "child": "1000000",
    "child_name": "Асанова Айгерим",
    "school": "1000",
    "school_name": "№ 61 Жалпы билим берүүчү орто мектеби",
    "language": "ky",
    "status": "registered",
    "route": "microdistrict",
    "above_quota": False,
    "position": None,  # the mark the statement writes the position over (``_with_constants``)
    "created_at": "2027-04-01 10:00:00.123456+06:00",
    "status_changed_at": "2027-04-01 10:00:00.123456+06:00",
    "history": [
        {
            "from_status": "",
            "to_status": "registered",
            "at": "2027-04-01 10:00:00.123456+06:00",
            "reason": "",
        }
    ],
    "abilities": {"cancel": True},
}


def _array_element(text: str) -> str:
    """``text`` as an element of an array literal: quoted, its quotes and backslashes escaped."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _to_pgbench(sql: str) -> str:
    """psycopg's ``%(name)s`` (and ``%(name)b``, a parameter the app sends in binary; pgbench
    sends it as text) → pgbench's ``:name``; ``%%`` → ``%``; one statement per line
    block ending in ``;`` (pgbench reads a statement up to the semicolon)."""
    sql = re.sub(r"--[^\n]*", "", sql)
    text = re.sub(r"%\((\w+)\)[sb]", r":\1", sql).replace("%%", "%")
    return " ".join(text.split()) + ";\n"


def _no_secret() -> str:
    """An empty secret body as the app stores it (encrypted), in bytea's text form."""
    from django.db import connection

    from kattoo.notifications.models import Notification

    field = Notification._meta.get_field("secret_body")
    value = field.get_db_prep_save("", connection)
    return "\\x" + bytes(getattr(value, "obj", value)).hex()  # psycopg's Binary wraps it


def _with_constants(prelude: str) -> str:
    """A first query with the constants every request shares written in: the position's
    mark, the stored answer's shape (its position the app's mark, ADR 0064), the empty secret
    body as the app encrypts it."""
    from kattoo.enrollment.fastpath import _ANSWER_MARK

    response = json.dumps({**_RESPONSE, "position": _ANSWER_MARK}, ensure_ascii=False)
    return (
        prelude.replace(":mark_text", _literal(MARK))
        .replace(":response_text", _literal(response))
        .replace(":response_element", _literal(_array_element(response)))
        .replace(":no_secret_text", _literal(_no_secret()))
    )


def pgbench_script(*, refused: bool = False) -> str:
    """The script text; run with ``pgbench -n -M prepared -f FILE``. Needs Django set up on
    the benchmark's database, ``bench_target_seq`` and ``bench_args`` (``args_table_sql``).
    ``refused``: the script of a refusal on a full pool (the read shows no free seat, then the
    refusal's audit row)."""
    from kattoo.enrollment.fastpath import _REFUSED, _SUBMIT, _TOKEN_FACTS

    prelude = _with_constants(_PRELUDE)
    parts = [
        "-- the next child (the app reads it from the request)",
        " ".join(prelude.split()) + "\n\\gset",
        "-- 1. the token's holder and the facts",
        _to_pgbench(_TOKEN_FACTS).rstrip(),
    ]
    refusal = _to_pgbench(_REFUSED.replace("%(child)s", "%(child_id)s::text")).rstrip()
    if refused:
        # The facts show the pool full: the app sends no submit statement.
        parts += ["-- 2. the refusal's audit row, unless the key was used", refusal]
    else:
        # A pool that filled during the run: the app refuses as above. (Without the branch the
        # submit statement finds no seat, fails on the position's NOT NULL as the app's does —
        # the app then refuses — and pgbench ends that client: session 15 found runs that went
        # on with fewer clients.) A pool that fills between this read and the statement still
        # ends a client; ``run_pgbench`` counts them (``aborted_clients``).
        parts += [
            "\\if :free > 0",
            "-- 2. submit",
            _to_pgbench(_SUBMIT).rstrip(),
            "\\else",
            "-- 2. the pool is full: the refusal's audit row, unless the key was used",
            refusal,
            "\\endif",
        ]
    return "\n".join(parts) + "\n"


# The batches' first query (ADR 0048): the next ``n`` children (``bench_target_seq`` counts in
# steps of ``n``: ``first``), their values as the app's batch statements read them — one JSON
# array per request, in the statements' own column order — split as the app splits them: the
# children whose pool shows a free seat to the submit statement, the others to the refusals.
# The query is the benchmark's, not the app's, so each child's pool is looked up by its key in a
# scalar subquery, once a child (the subselect ``OFFSET 0`` keeps it from being copied into each
# aggregate's filter): joined plainly, the generic plan's estimate of the range hashed every
# pool for each batch, a fifth of the database's work a registration (docs/performance.md,
# session 29); joined LATERAL, the plan put a Memoize node over it, whose hash table cost more
# to make than the eight lookups it saved. The aggregates take the children in the order of the
# scan, with no ORDER BY of their own: three sorts of eight rows a batch were a fifth of this
# query's instructions (session 34), and the order of a batch's requests is as arbitrary in the
# app (their arrival). Each child's arrays are made before the run
# (``batch_args_sql``: the app makes them in Python, ``fastpath._batch_json``), so the query
# only joins them: built in it, with the stored answer and the audit data as JSON for each
# child, it cost 0.076 ms of the database's CPU a child, 8 % of what the app's statements
# cost (session 30). The time is the run's: ``@now@`` in the arrays stands for it. The
# submit's children's drafts and pools, as ``bigint[]`` literals, are the parameters of its
# locks (``fastpath._BATCH_LOCKS``, ADR 0063). The submit's long texts, which the app sends
# as arrays of their own beside its JSON (``fastpath._SUBMIT_BATCH_ARRAYS``), come as array
# literals (``submits_<name>``), each child's element written before the run as PostgreSQL
# writes it in an array (``_ELEMENT``) — pgbench sends them as text, which the server parses
# as an array's text (the app's binary arrays are copied as they are).
_BATCH_PRELUDE = r"""
SELECT '[' || string_agg(a.read, ',') || ']' AS reads,
       replace(coalesce('[' || string_agg(a.submit, ',')
                FILTER (WHERE a.free > 0) || ']', '[]'), '"@now@"', to_json(now())::text)
           AS submits,{arrays}
       count(*) FILTER (WHERE a.free > 0) AS seats,
       replace(coalesce('[' || string_agg(a.refusal, ',')
                FILTER (WHERE a.free <= 0) || ']', '[]'), '"@now@"', to_json(now())::text)
           AS refusals,
       count(*) FILTER (WHERE a.free <= 0) AS full_pools,
       '{{' || coalesce(string_agg(a.draft_id::text, ',') FILTER (WHERE a.free > 0), '') || '}}'
           AS drafts,
       '{{' || coalesce(string_agg(a.pool_id::text, ',') FILTER (WHERE a.free > 0), '') || '}}'
           AS pools,
       now() AS now, :no_secret_text AS no_secret, :mark_text AS mark
  FROM (SELECT a.*,
               (SELECT p.capacity - p.taken - p.held
                  FROM enrollment_seatpool p WHERE p.id = a.pool_id) AS free
          FROM (SELECT nextval('bench_target_seq') AS first) f
          JOIN bench_batch_args a ON a.n >= f.first AND a.n < f.first + {n}
        OFFSET 0) a
"""

# A batch statement's column, from ``bench_args`` (``a``) or a constant, as the app's JSON has
# it (``fastpath._json_value``: bytes as hex; the request's time, the run's: ``@now@``).
_BATCH_VALUES = {
    "channel": "'api'",
    "now": "'@now@'",
    "address": "encode(a.address, 'hex')",
    "response": ":response_text",
    "child": "a.child_id::text",
    "data": "a.data::json",
}

# A child's element of a submit's array, as PostgreSQL writes it inside an array literal:
# quoted, its quotes and backslashes escaped, where it needs to be.
_ELEMENT = "substr(ARRAY[{value}]::text, 2, length(ARRAY[{value}]::text) - 2)"

# The elements of the arrays that are the same for every child (the stored answer's shape),
# quoted in Python (``_array_element``): written by ``_ELEMENT`` in the first query, they would
# be written again at every batch — an array's text output is STABLE, so the planner does not
# fold it — and the query cost 148,657 instructions a registration instead of 55,140.
_ARRAY_CONSTANTS = {"response": ":response_element"}

_BATCH_ARGS = r"""
SELECT a.n, a.pool_id, a.draft_id, json_build_array(a.digest, a.child_id)::text AS read,
       json_build_array({submits})::text AS submit,{elements}
       json_build_array({refusals})::text AS refusal
  FROM bench_args a
"""


def _batch_values(columns: tuple[tuple[str, str], ...], arrays: tuple[str, ...] = ()) -> str:
    """The JSON's values of ``columns``: all but those sent as arrays (``arrays``)."""
    return ", ".join(
        _BATCH_VALUES.get(name, f"a.{name}") for name, _kind in columns if name not in arrays
    )


def _batch_elements(arrays: tuple[str, ...]) -> str:
    """Each child's element of the submit's arrays (``submit_<name>``), but the constants'."""
    return "".join(
        f"\n       {_ELEMENT.format(value=f'a.{name}')} AS submit_{name},"
        for name in arrays
        if name not in _ARRAY_CONSTANTS
    )


def _batch_arrays(arrays: tuple[str, ...]) -> str:
    """The first query's array literals of the submit's arrays (``submits_<name>``): the
    elements of the children with a seat."""
    return "".join(
        f"\n       '{{' || coalesce(string_agg({_ARRAY_CONSTANTS.get(name, f'a.submit_{name}')},"
        f" ',') FILTER (WHERE a.free > 0), '') || '}}' AS submits_{name},"
        for name in arrays
    )


def batch_args_sql(*, temporary: bool = False) -> list[str]:
    """The statements that make ``bench_batch_args`` from ``bench_args``: each child's arrays
    for the batches' read, submit and refusal statements, in their column order (needs
    Django set up: the columns are the app's, the constants as the app makes them). Each is
    sent on its own, outside a transaction (``VACUUM``); ``temporary``: a table of the
    session, inside one (the tests')."""
    from kattoo.enrollment.fastpath import (
        _REFUSED_BATCH_COLUMNS,
        _SUBMIT_BATCH_ARRAYS,
        _SUBMIT_BATCH_COLUMNS,
    )

    select = _with_constants(
        _BATCH_ARGS.format(
            submits=_batch_values(_SUBMIT_BATCH_COLUMNS, _SUBMIT_BATCH_ARRAYS),
            elements=_batch_elements(_SUBMIT_BATCH_ARRAYS),
            refusals=_batch_values(_REFUSED_BATCH_COLUMNS),
        )
    )
    return [
        "DROP TABLE IF EXISTS bench_batch_args",
        f"CREATE {'TEMPORARY ' if temporary else ''}TABLE bench_batch_args AS {select}",
        "ALTER TABLE bench_batch_args ADD PRIMARY KEY (n)",
        # Vacuumed too, as ``bench_args`` is: otherwise autovacuum visits its 287,000 new
        # rows inside the measured run (a test's temporary table, in its transaction, is not).
        "ANALYZE bench_batch_args" if temporary else "VACUUM ANALYZE bench_batch_args",
    ]


def batched_pgbench_script(n: int, *, refused: bool = False) -> str:
    """The script of ``n`` concurrent requests as the app sends them together (ADR 0048): one
    read of the ``n`` tokens' holders and facts (``_TOKEN_FACTS_BATCH``), then one submit
    statement for the children whose pool has a seat (``_SUBMIT_BATCH``, after its locks in
    the same pipeline and transaction: ``_BATCH_LOCKS``, ADR 0063) and one statement of the
    others' refusals (``_REFUSED_BATCH``) — each only when it has a request. ``refused``:
    every pool full (the read, then the refusals). Run with ``bench_target_seq`` counting in
    steps of ``n``. A transaction is ``n`` registrations."""
    from kattoo.enrollment.fastpath import (
        _BATCH_LOCKS,
        _REFUSED_BATCH,
        _SUBMIT_BATCH,
        _SUBMIT_BATCH_ARRAYS,
        _TOKEN_FACTS_BATCH,
    )

    arrays = _batch_arrays(_SUBMIT_BATCH_ARRAYS)
    prelude = _with_constants(_BATCH_PRELUDE.format(n=n, arrays=arrays))
    parts = [
        f"-- the next {n} children (the app reads each from its request)",
        " ".join(prelude.split()) + "\n\\gset",
        "-- 1. the tokens' holders and the facts, in one statement",
        _to_pgbench(_TOKEN_FACTS_BATCH.replace("%(batch)s", "%(reads)s")).rstrip(),
    ]
    refusals = _to_pgbench(_REFUSED_BATCH.replace("%(batch)s", "%(refusals)s")).rstrip()
    if not refused:
        parts += [
            "\\if :seats > 0",
            "-- 2. the submit of those with a seat: their locks, then one statement, sent together",
            "\\startpipeline",
            _to_pgbench(_BATCH_LOCKS).rstrip(),
            _to_pgbench(_SUBMIT_BATCH.replace("%(batch", "%(submits")).rstrip(),
            "\\endpipeline",
            "\\endif",
        ]
    parts += [
        "\\if :full_pools > 0",
        "-- 3. the refusals of those whose pool is full, in one statement",
        refusals,
        "\\endif",
    ]
    return "\n".join(parts) + "\n"


def ensure_sequence(cursor: Any) -> None:
    """``bench_target_seq`` hands pgbench's clients distinct children, from the first one no
    load generator has used (call before each pgbench run with the next free n)."""
    cursor.execute("CREATE SEQUENCE IF NOT EXISTS bench_target_seq")


if __name__ == "__main__":
    import os

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    django.setup()
    print(pgbench_script())
