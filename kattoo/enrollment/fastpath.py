"""The opening-minute path: submitting a prepared draft in two SQL statements (ADR 0015).

At 10:00 on April 1 nearly every request is "submit my draft". The ordinary path
(``services.draft_submit``) reads the campaign, the link, the child, the draft, the pool,
the teacher, twin and microdistrict facts, the idempotency record … one ORM query each,
inside a transaction, then takes the seat. Here the same facts come from ONE read query and
the write is ONE statement that takes the seat and writes the application, its history row,
its audit row, the SMS in the outbox, the idempotency record, and deletes the draft — all or
nothing, committed on its own (autocommit: no BEGIN/COMMIT round trips). That is the one
commit of a registration: the SMS leaves through the outbox drain (``notifications_drain``),
with no task row of its own.

The fast path decides only the plain cases: everything allowed (the seat is taken or the
pool is full). Whatever else — any refusal, a legal representative (§21 needs a lock and a
count), a repeated ``Idempotency-Key``, a race lost on a constraint — goes back to the
ordinary path (``None``), which reads again and answers with its exact refusal. The rules
live in one place, ``eligibility.decide``: this module is only its SQL loader of ``Facts``
(``draft_facts``) and the statement.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import enum
import functools
import json
import operator
import threading
import uuid
import weakref
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from django.conf import settings
from django.db import IntegrityError, connection
from django.db.utils import DatabaseErrorWrapper
from django.utils import translation
from psycopg import pq
from psycopg.postgres import types as pg_types
from psycopg.types.numeric import Int8

from kattoo.accounts.models import User
from kattoo.accounts.services import TOKEN_HOLDER_NAMED
from kattoo.audit.refusals import REFUSED, refusal_data
from kattoo.campaigns.models import Campaign
from kattoo.campaigns.selectors import campaign_stage
from kattoo.catalog.models import Language, School
from kattoo.catalog.selectors import HOUSE_NUMBER_PATTERN, localized_name
from kattoo.core import clock
from kattoo.core.actors import Actor
from kattoo.core.combining import Combiner
from kattoo.core.errors import RuleViolation
from kattoo.core.ids import time_ordered_uuid
from kattoo.core.metrics import batch_observer, registration_counted
from kattoo.core.shells import shell
from kattoo.core.sql import bigints, compact_sql
from kattoo.notifications.messages import MESSAGES
from kattoo.notifications.models import Notification
from kattoo.people.models import Person, Relation

from .abilities import Abilities, abilities_of
from .allocation import (
    SeatRequest,
    _audit_data,
    application_cte,
    audit_cte,
    column,
    history_cte,
    param,
    seat_cte,
)
from .eligibility import Facts, decide, waitlist_needed
from .facts import STORED
from .idempotency import request_fingerprint, response_json
from .models import Status

# What the rules take from a fresh draft's stored facts (ADR 0029), as the read returns it: the
# flags the draft was saved with (``facts.STORED``, in its order, then the phone's), not the
# whole ``jsonb`` (its names, stamp and co-twins are read apart). Written out whole, the facts
# cost ``jsonb_out`` ~14,000 of the database's instructions a registration and Python a
# ``json.loads`` (session 36).
_STORED_FLAGS = (
    "ARRAY[" + ", ".join(f"(d.facts ->> '{name}')::boolean" for name in (*STORED, "phone")) + "]"
)

# One row of facts, or none when the child is not linked to this applicant: the SQL loader of
# ``eligibility.Facts`` (the ORM one is ``facts.eligibility_facts``; the two are proven equal by
# ``tests/enrollment/test_facts_loaders.py``). Each rule's fact is written the ORM loader's way:
# co-twins by the mother's PIN, else the father's (§25); the family's addresses of the child,
# both parents and the applicant (§10); house numbers by HOUSE_NUMBER_PATTERN; a
# representative's wards by their registrations in any status, not the commission's
# placements (§21, ``facts._wards_registered``).
#
# ADR 0029: when the draft's stored facts still hold (``k.fresh``: its stamp equals the
# epochs of the school, the child and the applicant read here), the documents, the teacher
# and the microdistrict come from the draft and the twin rule looks only at the stored co-twin
# ids; the full subqueries (a CASE runs only the branch it takes) are the fallback for a draft
# prepared before a write that touched its facts. Everything else is read live: the campaign,
# participation, the pool, registrations, cancellations, a representative's act and wards.
_FACTS = compact_sql(
    """
    SELECT c.id, c.birth_from, c.birth_to, c.stage1_starts_at, c.stage2_starts_at,
           c.registration_ends_at, c.cancel_limit, c.guardian_child_limit,
           l.relation,
           ch.surname, ch.name, ch.birth_date,
           CASE WHEN k.fresh THEN NULL ELSE ch.birth_certificate_number END,
           CASE WHEN k.fresh THEN NULL ELSE ap.passport_number END,
           ap.phone,
           d.id, d.school_id, d.language,
           s.name_ky, s.name_ru, s.name_uz, s.name_en,
           (s.ownership IN ('state', 'municipal') OR s.opted_in),
           p.id, p.quota_seats, p.capacity - p.taken - p.held,
           EXISTS (SELECT 1 FROM enrollment_application a
                    WHERE a.campaign_id = c.id AND a.child_id = ch.id
                      AND a.status IN ('registered', 'admitted')),
           CASE WHEN l.relation = 'representative' THEN EXISTS (
               SELECT 1 FROM people_guardianact g
                WHERE g.link_id = l.id AND g.status IN ('pending', 'accepted')) ELSE false END,
           CASE WHEN l.relation = 'representative' THEN EXISTS (
               SELECT 1 FROM people_guardianact g
                WHERE g.link_id = l.id AND g.status = 'accepted') ELSE false END,
           CASE WHEN l.relation = 'representative' THEN (
               SELECT count(DISTINCT a.child_id) FROM enrollment_application a
                 JOIN people_childlink w
                   ON w.applicant_id = ap.id AND w.child_id = a.child_id
                      AND w.relation = 'representative'
                WHERE a.campaign_id = c.id AND a.applicant_id = ap.id AND a.child_id <> ch.id
                  AND a.route <> 'commission')
                ELSE 0 END,
           k.fresh, CASE WHEN k.fresh THEN """
    + _STORED_FLAGS
    + """ END,
           CASE WHEN k.fresh THEN NULL ELSE
           d.school_id IS NOT NULL AND EXISTS (SELECT 1 FROM catalog_teacher t
                    WHERE t.school_id = d.school_id
                      AND t.pin IN (NULLIF(ch.mother_pin, ''), NULLIF(ch.father_pin, ''),
                                    NULLIF(ap.pin, ''))) END,
           CASE WHEN k.fresh THEN EXISTS (
               SELECT 1 FROM jsonb_array_elements_text(d.facts -> 'twins') tw(id)
                WHERE (SELECT a.school_id = d.school_id AND NOT a.above_quota
                         FROM enrollment_application a
                        WHERE a.campaign_id = c.id AND a.child_id = tw.id::bigint
                          AND a.status IN ('registered', 'admitted')))
           ELSE
           d.school_id IS NOT NULL AND EXISTS (SELECT 1 FROM people_person tw
                     JOIN enrollment_application a ON a.child_id = tw.id
                    WHERE (ch.mother_pin <> '' OR ch.father_pin <> '')
                      AND CASE WHEN ch.mother_pin <> '' THEN tw.mother_pin = ch.mother_pin
                               ELSE tw.father_pin = ch.father_pin END
                      AND tw.birth_date = ch.birth_date AND tw.id <> ch.id
                      AND a.campaign_id = c.id AND a.school_id = d.school_id
                      AND a.status IN ('registered', 'admitted') AND NOT a.above_quota) END,
           CASE WHEN k.fresh THEN NULL ELSE
           d.school_id IS NOT NULL AND EXISTS (SELECT 1 FROM people_person f
                     JOIN catalog_street st ON st.code = f.address_street_code
                     JOIN catalog_microdistrictaddress m
                       ON m.street_id = st.id AND m.school_id = d.school_id
                     CROSS JOIN LATERAL (
                         SELECT substring(f.address_house FROM '"""
    + HOUSE_NUMBER_PATTERN
    + """')::bigint AS v
                     ) h
                    WHERE (f.id = ch.id OR f.id = ap.id
                           OR f.pin IN (NULLIF(ch.mother_pin, ''), NULLIF(ch.father_pin, '')))
                      AND f.address_street_code <> ''
                      AND (m.house_from IS NULL
                           OR (h.v IS NOT NULL AND m.house_from <= h.v AND m.house_to >= h.v
                               AND m.parity IN ('all', CASE WHEN h.v %% 2 = 0 THEN 'even'
                                                            ELSE 'odd' END)))) END,
           (SELECT count(*) FROM enrollment_application a
             WHERE a.campaign_id = c.id AND a.child_id = ch.id AND a.status = 'cancelled'),
           EXISTS (SELECT 1 FROM enrollment_idempotencyrecord r
                    WHERE r.user_id = %(user_id)s AND r.key = %(key)s)
      FROM people_childlink l
      JOIN people_person ch ON ch.id = l.child_id
      JOIN people_person ap ON ap.id = l.applicant_id
      JOIN campaigns_campaign c ON c.is_active
      LEFT JOIN enrollment_draft d
        ON d.user_id = %(user_id)s AND d.campaign_id = c.id AND d.child_id = ch.id
      LEFT JOIN catalog_school s ON s.id = d.school_id
      LEFT JOIN enrollment_seatpool p
        ON p.campaign_id = c.id AND p.school_id = d.school_id AND p.language = d.language
     CROSS JOIN LATERAL (
         SELECT COALESCE(d.facts -> 'stamp' = jsonb_build_array(
                             d.school_id, s.facts_epoch, ch.facts_epoch, ap.id, ap.facts_epoch),
                         false) AS fresh
     ) k
     WHERE l.applicant_id = %(person_id)s AND l.child_id = %(child_id)s
    """
)
assert "'" not in HOUSE_NUMBER_PATTERN and "%" not in HOUSE_NUMBER_PATTERN

# The slim submit handler's one read (kattoo/api/hot.py, issue 15): the bearer token's holder
# (``accounts.services``' rules of a valid token) and, for that holder, the SHORT facts row —
# the facts row above in its columns' order, read from the draft alone. No token row: no row;
# no draft of this child in the active campaign: the holder, and the facts' columns NULL.
#
# ADR 0046: a draft saved on PostgreSQL keeps, beside its stored facts (ADR 0029), what this
# read takes from it instead of the child's link and the two person rows — the relation, the
# child's names and birth date (``facts["vouched"]``), the applicant's phone (``d.phone``,
# encrypted) — and the database's triggers clear them from every draft whose person rows or
# link a later write changes (enrollment migration 0014). So while they are there, the
# child's and the applicant's side of the stamp hold without being read: the school's epoch
# (its row is read for participation anyway) and the applicant (the token's holder's person)
# are compared here. The campaign, participation, the pool and the child's applications in
# this campaign (one lookup for the active registration and the cancellations) are read live,
# the stored co-twins as in the full read. The key is not looked up: the statement's unique
# index refuses a key used before, and the ordinary path replays it. Three lookups fewer than
# the read before it (the link, the child, the applicant; docs/performance.md, sessions 17
# and 18) and 15 relation locks, within a backend's 16 fast-path slots (the lock manager's
# partition locks queued the read, issue 15's ADR 0033). A draft not vouched for (saved
# before, cleared since), and a representative's (§21: the act and the wards), are read again
# in full (``token_draft_facts``). The stamp's members are compared as text (``->>`` against
# the column's ``::text``): ``facts.facts_stamp`` writes them as whole numbers, which JSON
# writes as their digits. ``to_jsonb`` of each column cost 3.5 % of the database's
# instructions a registration, for the three (``python -m bench.instructions``, session 35). A
# member written any other way (``5.0``) compares unequal: the draft is read again in full.
_TOKEN_FACTS = compact_sql(
    "WITH u AS ("
    + TOKEN_HOLDER_NAMED
    + ")\n"
    + """
SELECT u.id, u.role, u.person_id, u.language, f.*
  FROM u LEFT JOIN LATERAL (
    SELECT c.id, c.birth_from, c.birth_to, c.stage1_starts_at, c.stage2_starts_at,
           c.registration_ends_at, c.cancel_limit, c.guardian_child_limit,
           v.facts ->> 'relation',
           v.facts ->> 'surname', v.facts ->> 'name', (v.facts ->> 'birth_date')::date,
           NULL, NULL, d.phone,
           d.id, d.school_id, d.language,
           s.name_ky, s.name_ru, s.name_uz, s.name_en,
           (s.ownership IN ('state', 'municipal') OR s.opted_in),
           p.id, p.quota_seats, p.capacity - p.taken - p.held,
           a.registered, false, false, 0,
           k.fresh, CASE WHEN k.fresh THEN """
    + _STORED_FLAGS
    + """ END, NULL,
           CASE WHEN k.fresh THEN EXISTS (
               SELECT 1 FROM jsonb_array_elements_text(d.facts -> 'twins') tw(id)
                WHERE (SELECT t.school_id = d.school_id AND NOT t.above_quota
                         FROM enrollment_application t
                        WHERE t.campaign_id = c.id AND t.child_id = tw.id::bigint
                          AND t.status IN ('registered', 'admitted'))) END,
           NULL, a.cancelled, false
      FROM campaigns_campaign c
      JOIN enrollment_draft d
        ON d.user_id = u.id AND d.campaign_id = c.id AND d.child_id = %(child_id)s
      JOIN catalog_school s ON s.id = d.school_id
      LEFT JOIN enrollment_seatpool p
        ON p.campaign_id = c.id AND p.school_id = d.school_id AND p.language = d.language
     CROSS JOIN LATERAL (SELECT d.facts -> 'vouched' AS facts) v
     CROSS JOIN LATERAL (
         SELECT COALESCE(bool_or(a.status IN ('registered', 'admitted')), false) AS registered,
                count(*) FILTER (WHERE a.status = 'cancelled') AS cancelled
           FROM enrollment_application a
          WHERE a.campaign_id = c.id AND a.child_id = d.child_id
     ) a
     CROSS JOIN LATERAL (
         SELECT COALESCE(v.facts IS NOT NULL AND d.phone IS NOT NULL
                         AND d.facts -> 'stamp' ->> 0 = d.school_id::text
                         AND d.facts -> 'stamp' ->> 1 = s.facts_epoch::text
                         AND d.facts -> 'stamp' ->> 3 = u.person_id::text,
                         false) AS fresh
     ) k
     WHERE c.is_active
  ) f ON true
"""
)

# The allocation statement's parts (seat, application, history, audit: one source of truth in
# allocation.py) with the outbox row, the draft's deletion and the idempotency record — in the
# order that holds the pool's row lock the shortest (ADR 0032). The pool's row is locked by the
# seat's UPDATE until the commit, so what needs no position runs BEFORE it: the first history
# row (the application's id is made here, and the row has no foreign key to check, ADR 0026)
# and the draft's deletion, both counted in the UPDATE's condition — InitPlans, run before the
# row is fetched and locked. What carries the position (the application, its audit row, the
# SMS, the stored response) follows the seat. With no seat the application's position is NULL:
# its NOT NULL constraint fails the statement, and with it the history row and the deletion
# (``_no_seat``); one statement, one commit, all or nothing, as before.
# The outbox row's dedupe key names the application this statement creates (a new id), so no
# earlier row can hold it: a plain INSERT, not ON CONFLICT DO NOTHING, whose speculative
# insertion (a pre-check of the unique index, a token, a confirmation record in the WAL) cost
# 9 % of the app's SQL's throughput (docs/performance.md, session 16).
_FIRST = ("history", "draft")


# Stands for the position in the SMS text until the statement knows it.
_POSITION_MARK = "\u2063POSITION\u2063"

# Stands for the position in the answer's JSON until the statement knows it: ASCII, so that
# every JSON encoder writes its member the same (``_ANSWER_MEMBER``), with or without
# ``ensure_ascii``. The statement replaces that member in the stored answer by the position's
# (``_ANSWER_KEY`` and the number), as ``_with_position`` does in the answer: inside a string
# value the member's quotes would be escaped, so only the member itself matches. An encoder
# that writes it otherwise has the answer stored as ``response_json`` writes it.
_ANSWER_MARK = "kattoo-position"
_ANSWER_KEY = '"position": '
_ANSWER_MEMBER = f'{_ANSWER_KEY}"{_ANSWER_MARK}"'
# The member and the key are written into the statement's text as literals
# (``_idempotency_cte``): the mark holds no quote, percent sign or colon (pgbench's variables).
assert not {"'", "%", ":"} & set(_ANSWER_MARK)


def _outbox_cte(*, source: str, row: str = "app.", value: Callable[..., str] = param) -> str:
    """The SMS's outbox row of the registration ``row`` (``app.``, or a batch's columns)."""
    v = value
    return f"""outbox AS (
    INSERT INTO notifications_notification
        (id, user_id, channel, address, event, language, subject, body, secret_body,
         dedupe_key, status, attempts, last_error, provider_id, report, created_at)
    SELECT {v("note_id")}, {v("user_id")}, 'sms', {v("address", "bytea")}, \
'application_registered',
           {v("user_language")}, '', replace({v("note_body")}, %(mark)s, {row}position::text),
           %(no_secret)s::bytea, 'application_registered:' || {row}id::text, 'queued', 0, \
'', '', '',
           {v("now")}
      FROM {source}
)"""


def _idempotency_cte(*, source: str, row: str = "app.", value: Callable[..., str] = param) -> str:
    """The Idempotency-Key's stored answer, with the position written into it: the text the
    request is answered with (``_with_position``), kept as text (ADR 0064)."""
    v = value
    return f"""idempotency AS (
    INSERT INTO enrollment_idempotencyrecord
        (user_id, key, request_hash, status_code, response, created_at)
    SELECT {v("user_id")}, {v("key", "text")}, {v("fingerprint")}, 201,
           replace({v("response")}, '{_ANSWER_MEMBER}', '{_ANSWER_KEY}' || {row}position::text), \
{v("now")}
      FROM {source}
)"""


_SUBMIT = (
    "\nWITH "
    + history_cte(application="%(id)s", returning="\n RETURNING 1")
    + """, draft AS (
    DELETE FROM enrollment_draft WHERE id = %(draft_id)s
 RETURNING 1
), """
    + seat_cte(after=_FIRST)
    + ", "
    + application_cte(position="(SELECT accepted_count FROM seat)", source="")
    + ", "
    + audit_cte()
    + ", "
    + _outbox_cte(source=f"app WHERE {param('has_phone', 'boolean')}")
    + ", "
    + _idempotency_cte(source=f"app WHERE {param('key', 'text')} IS NOT NULL")
    + """
SELECT position FROM app
"""
)


# Concurrent requests of one process, read and submitted together (ADR 0048). When requests
# arrive while the process's previous read (or submit) statement runs, the next one serves
# them all (``core.combining``): one round trip, one executor start, one set of relation locks
# and one commit for the batch instead of one each — a quarter to a half of the database's CPU
# a registration less at a batch of four, half or more at eight (bench/batched.py); over HTTP,
# at batches of two to three, a third less. A batch of one sends the
# statements above, as before.
#
# A batch's requests travel as one JSON array, one array of values per request, in a
# statement's own column order, and are read back as rows (``_batch_rows``) — except its long
# texts (``_SUBMIT_BATCH_ARRAYS``: the stored answer, the SMS, the audit data, the encrypted
# address), each sent beside it as an array of its own, in binary (psycopg's ``%b``). Inside
# the JSON their every character went through PostgreSQL's JSON parser and was copied into
# the ``jsonb`` value and out of it again, every quote of the stored answer escaped and, from
# Python's encoder, every Cyrillic letter written as ``\uXXXX``: the JSON's parse was 10.7 %
# of the database's instructions a registration of the app's SQL (session 35). A binary array
# of texts is copied as it is; psycopg writes it in C (~9 µs for eight answers; a list in
# text form is quoted in Python, ~750 µs). Issue 15, session 36.
def _batch_rows(columns: tuple[tuple[str, str], ...], *, arrays: tuple[str, ...] = ()) -> str:
    """The SELECT of a batch's requests as rows: ``%(batch)s``, a JSON array with one array of
    ``columns``' values per request (``_batch_json``), each value read as its type, and the
    request's place in the batch (``ord``, from 1). The columns named in ``arrays`` come
    instead as arrays of their own, ``%(batch_<name>)b``, one element per request in the same
    order (``_batch_params``), zipped with the JSON's by ``ROWS FROM``."""
    kinds = dict(columns)
    place = {name: n for n, (name, _kind) in enumerate(_in_json(columns, arrays))}

    def value(name: str, kind: str) -> str:
        if name in arrays:
            return f"e.{name}"
        n = place[name]
        if kind == "bytea":
            return f"decode(e.v ->> {n}, 'hex')"  # bytes travel as hex
        if kind == "jsonb":
            return f"e.v -> {n}"
        return f"(e.v ->> {n})::{kind}"

    unnest = "".join(f", unnest(%(batch_{name})b::{kinds[name]}[])" for name in arrays)
    return (
        "\n    SELECT "
        + ", ".join(f"{value(name, kind)} AS {name}" for name, kind in columns)
        + f""", e.ord
      FROM ROWS FROM (jsonb_array_elements(%(batch)s::jsonb){unnest})
           WITH ORDINALITY AS e(v{"".join(f", {name}" for name in arrays)}, ord)
"""
    )


def _batch_json(items: Sequence[dict[str, Any]], columns: tuple[tuple[str, str], ...]) -> str:
    """The requests' parameters as ``_batch_rows`` reads them: one JSON array of arrays.
    psycopg dumps a list element by element in Python (~150 µs for the 24 lists of one
    submit), the JSON encoder in C (~20 µs); only the values JSON has no form for (ids,
    times, bytes) come back to Python (``_json_value``)."""
    values = _getter(columns)
    return json.dumps([values(item) for item in items], default=_json_value)


def _batch_params(
    items: Sequence[dict[str, Any]],
    columns: tuple[tuple[str, str], ...],
    arrays: tuple[str, ...],
) -> dict[str, Any]:
    """The parameters of ``_batch_rows(columns, arrays=arrays)``: the JSON of the other
    columns, and one list of each of ``arrays``' values, in the requests' order."""
    params: dict[str, Any] = {"batch": _batch_json(items, _in_json(columns, arrays))}
    for name in arrays:
        params[f"batch_{name}"] = [item[name] for item in items]
    return params


@functools.lru_cache(maxsize=8)
def _in_json(
    columns: tuple[tuple[str, str], ...], arrays: tuple[str, ...]
) -> tuple[tuple[str, str], ...]:
    """``columns`` but those sent as arrays: the JSON's, in their order."""
    return tuple((name, kind) for name, kind in columns if name not in arrays)


@functools.lru_cache(maxsize=8)
def _getter(columns: tuple[tuple[str, str], ...]) -> Callable[[dict[str, Any]], tuple[Any, ...]]:
    """A request's values in ``columns``' order, as one tuple (a JSON array)."""
    names = [name for name, _kind in columns]
    if len(names) == 1:  # itemgetter of one name gives the value, not a tuple
        return lambda item: (item[names[0]],)
    return operator.itemgetter(*names)


# The read of a batch: ``_TOKEN_FACTS`` itself, its text unchanged, once per request of the
# batch (a LATERAL subquery over the requests' tokens and children, sent as one JSON array:
# psycopg dumps a list element by element in Python): the same row for each.
_TOKEN_FACTS_BATCH = compact_sql(
    """
    SELECT b.ord, r.*
      FROM ("""
    + _batch_rows((("digest", "text"), ("child_id", "bigint")))
    + """) b
     CROSS JOIN LATERAL ("""
    + _TOKEN_FACTS.replace("%(digest)s", "b.digest").replace("%(child_id)s", "b.child_id")
    + """) r
    """
)
assert "%(digest)s" not in _TOKEN_FACTS_BATCH and "%(child_id)s" not in _TOKEN_FACTS_BATCH


# The submit of a batch: for each request, exactly the rows ``_SUBMIT`` writes for it alone,
# in the requests' order (``tests/enrollment/test_batched_submit.py`` proves the two equal).
# It is sent only after ``_BATCH_LOCKS``, in the same transaction (``_submit_rows``; ADR 0063):
# the batch's drafts, then its pools, are already locked, in the order of their ids, when it
# takes its snapshot, so it reads the pools' latest rows and locks nothing again (ADR 0064;
# were it ever sent alone, two batches that read a pool at once would give the same positions
# and ``position_unique_in_pool`` would fail the second one). Then, per pool, the
# requests that take a seat — those above the quota (§24, §25: always, and the capacity
# grows with them), the others while a seat is free, in their order — and their positions,
# one after the pool's last. A request without a seat
# writes nothing (its thread records the refusal, as after ``_SUBMIT``). Any constraint that
# fails (a child registered meanwhile, a key used twice) fails the whole batch: then each
# request sends ``_SUBMIT`` alone and learns its own answer. The requests' parameters come as
# one JSON array, one array of ``_SUBMIT_BATCH_COLUMNS`` per request (``_batch_json``). The
# rows' INSERTs are ``_SUBMIT``'s own texts, each value a column of the granted requests
# (``allocation.column``) instead of a parameter: one text of each row for both statements.
# ``granted`` is sorted once, in the requests' order, and each INSERT reads it as it is: one
# sort of a batch's rows instead of five, one per INSERT, 2.7 % fewer of the database's
# instructions a registration (``python -m bench.instructions``, session 34). The order decides
# only which history and audit rows get the lower ids; positions come from ``row_number()``
# over ``ord``. The statement returns the granted requests' positions alone: a request
# without a row got no seat.
_SUBMIT_BATCH_COLUMNS = (
    ("id", "uuid"), ("campaign_id", "bigint"), ("pool_id", "bigint"), ("school_id", "bigint"),
    ("language", "text"), ("child_id", "bigint"), ("applicant_id", "bigint"),
    ("user_id", "bigint"), ("route", "text"), ("above", "boolean"), ("extra", "bigint"),
    ("channel", "text"), ("request_id", "text"), ("now", "timestamptz"), ("data", "text"),
    ("note_id", "uuid"), ("has_phone", "boolean"), ("address", "bytea"),
    ("user_language", "text"), ("note_body", "text"), ("draft_id", "bigint"), ("key", "text"),
    ("fingerprint", "text"), ("response", "text"),
)  # fmt: skip
_SUBMIT_BATCH_ARRAYS = ("data", "address", "note_body", "response")
_SUBMIT_BATCH = compact_sql(
    """
WITH b AS ("""
    + _batch_rows(_SUBMIT_BATCH_COLUMNS, arrays=_SUBMIT_BATCH_ARRAYS)
    + """), pools AS (
    SELECT p.id, p.capacity - p.taken - p.held AS free, p.accepted_count
      FROM enrollment_seatpool p
     WHERE p.id = ANY (ARRAY(SELECT DISTINCT pool_id FROM b))
), granted AS (
    SELECT b.*, p.accepted_count + row_number() OVER (PARTITION BY b.pool_id ORDER BY b.ord)
           AS position
      FROM (SELECT b.*, row_number() OVER (PARTITION BY b.pool_id, b.extra = 1 ORDER BY b.ord)
                   AS r
              FROM b) b
      JOIN pools p ON p.id = b.pool_id
     WHERE b.extra = 1 OR b.r <= p.free
     ORDER BY b.ord
), seat AS (
    UPDATE enrollment_seatpool p
       SET taken = taken + g.n,
           extra_seats = extra_seats + g.extra,
           capacity = capacity + g.extra,
           accepted_count = accepted_count + g.n
      FROM (SELECT pool_id, count(*) AS n, sum(extra) AS extra FROM granted GROUP BY pool_id) g
     WHERE p.id = ANY (ARRAY(SELECT pool_id FROM granted)) AND p.id = g.pool_id
), """
    + history_cte(application="id", source=" FROM granted", value=column)
    + """, draft AS (
    DELETE FROM enrollment_draft WHERE id = ANY (ARRAY(SELECT draft_id FROM granted))
), """
    + application_cte(
        position="position", source="\n      FROM granted", value=column, returning=""
    )
    + ", "
    + audit_cte(row="", source="granted", value=column)
    + ", "
    + _outbox_cte(row="", source="granted WHERE has_phone", value=column)
    + ", "
    + _idempotency_cte(row="", source="granted WHERE key IS NOT NULL", value=column)
    + """
SELECT ord, position FROM granted
"""
)

# A batch's locks, taken by a statement of their own just before ``_SUBMIT_BATCH``, in the
# same transaction and the same round trip (psycopg's pipeline: the two are sent together and
# committed once, at its end; ADR 0063). Taken by the batch statement itself (as before ADR
# 0063), a wait for a pool's row that another batch holds ended in reading what that batch
# committed through PostgreSQL's EvalPlanQual — twice, once for the lock and once for the
# seat's UPDATE, which finds the version its snapshot saw already replaced.
# Each EvalPlanQual starts the executor again for every subplan of the statement, the ten CTEs
# of the batch with their inserts and indexes, while the pool's row stays locked (4 % of the
# database's CPU of the app's SQL at 16 clients, docs/performance.md, session 32). Locked
# first, every row the batch statement writes is already the batch's when the statement takes
# its snapshot: it sees the pools' latest versions and re-checks nothing. The drafts, then the
# pools, each in the order of their ids, as ``_SUBMIT`` and the ordinary path lock them, so
# neither two batches nor a batch and a lone submit of the same draft (a double click) can
# wait for each other (the pools' locks are taken only once every draft's is: an InitPlan).
_BATCH_LOCKS = compact_sql(
    """
WITH drafts AS (
    SELECT d.id FROM enrollment_draft d
     WHERE d.id = ANY (%(drafts)s::bigint[])
     ORDER BY d.id
       FOR UPDATE
)
SELECT count(*) FROM (
    SELECT p.id FROM enrollment_seatpool p
     WHERE p.id = ANY (%(pools)s::bigint[]) AND (SELECT count(*) FROM drafts) >= 0
     ORDER BY p.id
       FOR UPDATE
) p
"""
)


def _no_seat(exc: IntegrityError) -> bool:
    """The submit statement failed because the seat's UPDATE matched no row (the pool filled
    after the read): the application's position, NOT NULL, came out NULL. Any other
    integrity error is a race on the child or the key."""
    cause = exc.__cause__
    diag = getattr(cause, "diag", None)
    return (
        getattr(cause, "sqlstate", None) == _NOT_NULL_VIOLATION
        and diag is not None
        and diag.table_name == "enrollment_application"
        and diag.column_name == "position"
    )


_NOT_NULL_VIOLATION = "23502"


@dataclass(frozen=True, slots=True)
class DraftFacts:
    """The eligibility facts of a prepared draft, and what the statement needs beside them."""

    facts: Facts
    campaign: Campaign
    child: Person
    has_phone: bool  # the applicant has a number for the registration's SMS
    draft_id: int | None
    school: School | None
    language: str
    pool_id: int | None
    key_used: bool
    stored: bool = False  # the draft's stored facts held (ADR 0029): no full re-check ran
    # The applicant's phone as stored (its ciphertext; the person's, or the vouched draft's
    # copy, ADR 0046): the outbox's address is encrypted with the same keys (ADR 0022), so the
    # statement copies it instead of encrypting it again. Two ciphertexts of one number differ
    # (each has its own IV): not compared.
    phone_sealed: bytes | None = field(default=None, compare=False)


def _decrypted(model: type, field: str, value: Any) -> Any:
    """Raw SQL skips field conversion: apply it (an encrypted field decrypts here)."""
    model_field = model._meta.get_field(field)  # type: ignore[attr-defined]
    for converter in model_field.get_db_converters(connection):
        value = converter(value, None, connection)
    return value


def _encrypted(model: type, field: str, value: Any) -> Any:
    """Raw SQL skips field conversion: apply it (an encrypted field encrypts here)."""
    model_field = model._meta.get_field(field)  # type: ignore[attr-defined]
    return model_field.get_db_prep_save(value, connection)


@functools.lru_cache(maxsize=4)
def _sealed_empty(keys: tuple[str, ...]) -> Any:
    """The outbox's empty secret body, encrypted once per process and key set: a
    registration's SMS has no secret part (ADR 0022), and every ciphertext of "" reads the
    same."""
    return _encrypted(Notification, "secret_body", "")


# The slim handler's own use of the pool (ADR 0047, 0050). On the opening minute's plain submit
# its statements run on connections of Django's own pool, outside Django's ``DatabaseWrapper``:
# no checkout through the wrapper, no cursor wrapper, no request signals — ~30 % of the
# request's Python. Each statement borrows a connection for as long as it runs and gives it
# back at once (ADR 0050): a request waiting for its batch, or building its answer, holds none,
# so a process keeps its requests in flight on the few connections its batches use at a time.
# The statements below run on ``_db()``: such a borrowing ``_Pooled`` inside the slim
# handler's block, else Django's connection.
_held = threading.local()


class _PooledCursor:
    """The cursor of a pooled connection (``_cursor_of``) whose errors are Django's, as
    ``CursorWrapper`` raises them (``DatabaseErrorWrapper``: the same class, the driver's error
    as its cause). Leaving it gives its connection back when it borrowed one (``release``);
    the cursor stays with its connection."""

    def __init__(
        self, cursor: Any, errors: DatabaseErrorWrapper, release: Callable[[], None] | None
    ) -> None:
        self.cursor, self.errors, self.release = cursor, errors, release

    def __enter__(self) -> _PooledCursor:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.release is not None:
            self.release()

    def execute(self, sql: str, params: Any = None) -> Any:
        with self.errors:
            return self.cursor.execute(sql, params)

    @contextlib.contextmanager
    def together(self) -> Iterator[None]:
        """The statements executed inside sent together (psycopg's pipeline) and run in one
        transaction, committed as the block ends (or in the caller's, when it has one): the
        cursor then holds the last one's rows. An error of any of them is raised as the block
        ends, Django's class as ``execute`` raises it, and undoes them all."""
        with self.errors, self.cursor.connection.pipeline():
            yield

    def fetchone(self) -> Any:
        with self.errors:
            return self.cursor.fetchone()

    def fetchall(self) -> Any:
        with self.errors:
            return self.cursor.fetchall()


# The campaign's three moments (its stages and its end) come back in every read, the same text
# each time, and Django's loader parses a timestamptz in Python (``BaseTzLoader`` extends
# psycopg's Python loader, not its C one): ~3 µs a value. On the connections the hot
# statements run on, the loader Django registered is extended to parse each text once a
# process; the values are Django's own (its class, its time zone), and a datetime is immutable.
_TIMESTAMPTZ = pg_types["timestamptz"].oid


@functools.lru_cache(maxsize=4)
def _remembered(loader: type) -> type:
    """``loader`` (Django's for the connection's time zone), parsing each text once."""

    class Remembered(loader):
        remembers = True  # the connection's loader is this one already (``_remembering``)
        seen: dict[bytes, Any] = {}

        def load(self, data: Any) -> Any:
            text = bytes(data)
            moment = self.seen.get(text)
            if moment is None:
                moment = super().load(data)
                if len(self.seen) >= 1024:  # any other time a read returns: bounded
                    self.seen.clear()
                self.seen[text] = moment
            return moment

    return Remembered


def _remembering(raw: Any) -> Any:
    """``raw`` with its timestamptz loader remembering (``_remembered``), set once a connection
    (Django reads the connection's loader for its time zone, which stays the same). Asked
    when the connection's hot cursor is made (``_cursor_of``)."""
    loader = raw.adapters.get_loader(_TIMESTAMPTZ, pq.Format.TEXT)
    if loader is not None and not getattr(loader, "remembers", False):
        raw.adapters.register_loader("timestamptz", _remembered(loader))
    return raw


# One cursor a connection for the hot statements, kept with it: a statement runs on the
# connection's cursor (psycopg's ``execute`` starts its results afresh), so a batch makes no
# cursor and closes none. A connection is used by one thread at a time (the pool lends it, or
# the block holds it), and so is its cursor.
_CURSORS: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()


def _cursor_of(raw: Any) -> Any:
    cursor = _CURSORS.get(raw)
    if cursor is None or cursor.closed:
        cursor = _CURSORS[raw] = _remembering(raw).cursor()
    return cursor


class _Pooled:
    """What the statements below use of ``django.db.connection``, for connections of its pool:
    autocommit, never in an atomic block, PostgreSQL's. One per thread, made at its first
    plain submit. ``pool``: each cursor borrows a connection from it and its close gives it
    back; ``connection`` is the one a cursor of this thread is using (or the one the block
    holds, ``pooled``)."""

    vendor = "postgresql"
    in_atomic_block = False
    errors_occurred = False  # set by DatabaseErrorWrapper; nothing reads it here
    combine = True  # KATTOO_COMBINE, as ``pooled`` found it (``_combining``)

    def __init__(self) -> None:
        self.connection: Any = None
        self.pool: Any = None
        self.settings_dict = connection.settings_dict
        self.Database = connection.Database  # type: ignore[attr-defined]
        self.errors = DatabaseErrorWrapper(self)

    def cursor(self) -> _PooledCursor:
        if self.pool is None or self.connection is not None:  # held for the block
            return _PooledCursor(_cursor_of(self.connection), self.errors, None)
        with self.errors:  # the pool's timeout is Django's OperationalError, as its checkout's
            raw = self.pool.getconn()
        self.connection = raw
        try:
            return _PooledCursor(_cursor_of(raw), self.errors, self._release)
        except BaseException:
            self._release()
            raise

    def _release(self) -> None:
        raw, self.connection = self.connection, None
        self.pool.putconn(raw)


def _db() -> Any:
    """The connection this thread's hot statements run on (see ``_Pooled``)."""
    return getattr(_held, "db", None) or connection


@contextlib.contextmanager
def pooled(raw: Any = None, *, pool: Any = None) -> Iterator[None]:
    """Run this thread's hot statements inside the block on connections of ``pool``, each
    borrowed for one statement (the slim handler's, ADR 0050) — or all on ``raw``, held by the
    caller for the whole block."""
    if (raw is None) == (pool is None):
        raise TypeError("pooled() takes a connection or a pool")
    db = getattr(_held, "pooled", None)
    if db is None:
        db = _held.pooled = _Pooled()
    db.connection, db.pool = raw, pool
    db.combine = bool(settings.KATTOO_COMBINE)  # read once a block, not once a statement
    _held.db = db
    try:
        yield
    finally:
        _held.db = db.connection = db.pool = None


# Stable plans at the opening (issue 15, ADR 0015 §0). Production prepares each statement on
# the server and keeps ONE generic plan per connection (``plan_cache_mode =
# force_generic_plan``, config/settings/production.py): no planning per request and no
# re-planning as the tables fill. A plan built while the hot tables are physically empty — as
# they are at 10:00 — would scan them sequentially (the cheapest way through nothing) and keep
# doing so as they grow to 170k rows. So the executions of a hot statement on a connection up
# to the one that prepares it (psycopg's ``prepare_threshold``) run with sequential scans
# disabled for that moment only: the cached generic plan walks the indexes. A later re-plan
# (after an ANALYZE) sees tables that are no longer empty.
_PLANNED: weakref.WeakKeyDictionary[Any, dict[str, int]] = weakref.WeakKeyDictionary()


def _index_plan(cursor: Any, statement: str) -> contextlib.AbstractContextManager[None]:
    """Run ``statement`` (a name) with ``enable_seqscan = off`` while its plan may be being
    built and cached on this connection; then as is (two extra round trips, twice per
    statement per connection). Past that, nothing: a shared no-op, no generator a statement."""
    db = _db()
    raw = db.connection
    threshold = getattr(raw, "prepare_threshold", None)
    server_side = db.settings_dict.get("OPTIONS", {}).get("server_side_binding")
    if raw is None or threshold is None or not server_side:
        return _AS_IS  # nothing is prepared: every execution is planned afresh
    counts = _PLANNED.setdefault(raw, {})
    done = counts.get(statement, 0)
    counts[statement] = done + 1
    return _AS_IS if done > threshold else _without_seqscan(cursor)


_AS_IS = contextlib.nullcontext()


@contextlib.contextmanager
def _without_seqscan(cursor: Any) -> Iterator[None]:
    cursor.execute("SET enable_seqscan = off")
    try:
        yield
    finally:
        cursor.execute("RESET enable_seqscan")


def draft_facts(*, user: User, child_id: int, key: str | None = None) -> DraftFacts | None:
    """The SQL loader: one read of everything the rules and the statement need."""
    with _db().cursor() as cursor, _index_plan(cursor, "facts"):
        cursor.execute(
            _FACTS,
            bigints(
                {"user_id": user.pk, "person_id": user.person_id, "child_id": child_id, "key": key}
            ),
        )
        row = cursor.fetchone()
    return None if row is None else _draft_facts_of(row, child_id)


def token_draft_facts(
    *, digest: str, child_id: int, key: str | None = None
) -> tuple[User | None, DraftFacts | None]:
    """The holder of a valid token (an unsaved shell of id, role, person id and language —
    what the submit reads; never to be saved) and ``draft_facts`` for them: in one read when
    the draft is vouched for by its writers and the applicant is a parent (the short row, ADR
    0046), else in two. ``(None, None)`` when no valid token has this digest; ``(holder,
    None)`` for a holder without a person."""
    item = (digest, child_id)
    row = _READS(item) if _combining() else _token_rows([item])[0]
    if row is None:
        return None, None
    user = shell(User, id=row[0], role=row[1], person_id=row[2], language=row[3], is_active=True)
    if user.person_id is None:
        return user, None
    facts = row[4:]
    if not facts[_FRESH] or facts[_RELATION] == Relation.REPRESENTATIVE:
        # The short row holds only for a vouched-for draft of a parent (ADR 0046): no draft,
        # or any other, is read in full.
        return user, draft_facts(user=user, child_id=child_id, key=key)
    return user, _draft_facts_of(facts, child_id)


def _token_rows(items: Sequence[tuple[str, int]]) -> list[Any]:
    """``_TOKEN_FACTS``' row (or None) for each (digest, child) — one request alone, or a
    batch of them in one statement (``_TOKEN_FACTS_BATCH``, ADR 0048)."""
    now = clock.now()
    with _db().cursor() as cursor:
        if len(items) == 1:
            ((digest, child_id),) = items
            with _index_plan(cursor, "token_facts"):
                cursor.execute(
                    _TOKEN_FACTS, bigints({"digest": digest, "now": now, "child_id": child_id})
                )
                return [cursor.fetchone()]
        with _index_plan(cursor, "token_facts_batch"):
            cursor.execute(
                _TOKEN_FACTS_BATCH,
                {"batch": json.dumps(items), "now": now},  # [[digest, child], …]
            )
            rows = cursor.fetchall()
    found = {row[0]: row[1:] for row in rows}
    return [found.get(n) for n in range(1, len(items) + 1)]


# Sent alone: a batch of one, or a batch a constraint failed (each request learns its answer).
_ALONE: Any = object()


def _submit_rows(items: Sequence[dict[str, Any]]) -> list[Any]:
    """For each request's parameters (``_SUBMIT``'s), its row ``(position,)``, ``None``
    without a seat, or ``_ALONE``: it sends ``_SUBMIT`` itself (ADR 0048). One request alone
    is sent ``_SUBMIT`` here, while the requests arriving meanwhile queue for the next batch
    (its ``IntegrityError`` raised in its own thread)."""
    if len(items) == 1:
        return [_submit_alone(items[0])]
    params = {
        **_batch_params(items, _SUBMIT_BATCH_COLUMNS, _SUBMIT_BATCH_ARRAYS),
        "mark": items[0]["mark"],
        "no_secret": items[0]["no_secret"],
    }
    locks = {  # as bigint[] whatever the ids' size: one prepared statement (``bigints``)
        "drafts": [Int8(item["draft_id"]) for item in items],
        "pools": [Int8(pool) for pool in {item["pool_id"] for item in items}],
    }
    try:
        with _db().cursor() as cursor, _index_plan(cursor, "submit_batch"):
            with cursor.together():  # one transaction, one round trip (ADR 0063)
                cursor.execute(_BATCH_LOCKS, locks)
                cursor.execute(_SUBMIT_BATCH, params)
            rows = cursor.fetchall()
    except IntegrityError:
        return [_ALONE] * len(items)
    positions = dict(rows)  # the requests that took a seat; the others have none
    return [None if positions.get(n) is None else (positions[n],) for n in range(1, len(items) + 1)]


def _json_value(value: Any) -> Any:
    """A parameter of ``_SUBMIT`` as ``_SUBMIT_BATCH`` reads it from JSON, for the values JSON
    has no form for (the encoder's ``default``): ids and times as their text (PostgreSQL's
    own input forms, microseconds and offset kept), bytes as hex."""
    if isinstance(value, (uuid.UUID, dt.datetime)):
        return str(value)
    if isinstance(value, (bytes, memoryview)):
        return bytes(value).hex()
    raise TypeError(f"a batch's value of type {type(value).__name__} has no JSON form")


def _submitted(params: dict[str, Any]) -> Any:
    """The submit statement's row for these parameters: ``(position,)``, or ``None`` when a
    batch found no seat for it; ``_SUBMIT`` alone raises ``IntegrityError`` instead."""
    outcome = _SUBMITS(params) if _combining() else _ALONE
    return _submit_alone(params) if outcome is _ALONE else outcome


def _submit_alone(params: dict[str, Any]) -> Any:
    with _db().cursor() as cursor, _index_plan(cursor, "submit"):
        cursor.execute(_SUBMIT, bigints(params))
        return cursor.fetchone()


# One batch at a time per statement and process; at most as many requests as a process serves
# at once (its pool, admission control) are ever waiting.
_BATCH_LIMIT = 64
_READS: Combiner[tuple[str, int], Any] = Combiner(
    _token_rows, limit=_BATCH_LIMIT, observe=batch_observer("read")
)
_SUBMITS: Combiner[dict[str, Any], Any] = Combiner(
    _submit_rows, limit=_BATCH_LIMIT, observe=batch_observer("submit")
)


def _combining() -> bool:
    """Whether this thread's statements go with other threads' (ADR 0048): on a connection of
    the pool held by the slim handler (``pooled``), unless ``KATTOO_COMBINE`` turns it off."""
    db = getattr(_held, "db", None)
    return db is not None and db.combine


# Positions in the facts row (``_draft_facts_of``'s order).
_RELATION, _FRESH = 8, 30


def _draft_facts_of(row: Any, child_id: int) -> DraftFacts:
    (c_id, birth_from, birth_to, stage1, stage2, ends, cancel_limit, ward_limit, relation,
     surname, name, birth_date, certificate, passport, phone, draft_id, school_id, language,
     name_ky, name_ru, name_uz, name_en, participates, pool_id, quota_seats, free_seats,
     registered, act_on_file, act_accepted, wards, fresh, stored, teacher, twin, in_md, cancelled,
     key_used) = row  # fmt: skip
    has_phone = None
    if fresh:  # ADR 0029: decided when the draft was saved, and nothing touched them since
        # ``_STORED_FLAGS``; the phone's NULL when the facts were stored before it was kept
        child_certificate, applicant_passport, teacher, in_md, has_phone = stored
    else:
        child_certificate = bool(_decrypted(Person, "birth_certificate_number", certificate))
        applicant_passport = bool(_decrypted(Person, "passport_number", passport))
    campaign = _campaign_shell(
        c_id, birth_from, birth_to, stage1, stage2, ends, cancel_limit, ward_limit
    )
    child = shell(Person, id=child_id, surname=surname, name=name, birth_date=birth_date)
    school = (
        _school_shell(school_id, name_ky, name_ru, name_uz, name_en)
        if school_id is not None
        else None
    )
    facts = Facts(
        birth_from=birth_from,
        birth_to=birth_to,
        cancel_limit=cancel_limit,
        ward_limit=ward_limit,
        birth_date=birth_date,
        child_certificate=bool(child_certificate),
        applicant_passport=bool(applicant_passport),
        relation=relation,
        act_on_file=act_on_file,
        act_accepted=act_accepted,
        wards_registered=wards,
        registered=registered,
        cancellations=cancelled,
        school_id=school_id,
        participates=bool(participates),
        language_offered=pool_id is not None and quota_seats > 0,
        free_seats=free_seats if pool_id is not None else 0,
        teacher_parent=bool(teacher),
        twin_in_quota=bool(twin),
        in_microdistrict=bool(in_md),
    )
    return DraftFacts(
        facts=facts,
        campaign=campaign,
        child=child,
        has_phone=(
            bool(_decrypted(Person, "phone", phone)) if has_phone is None else bool(has_phone)
        ),
        draft_id=draft_id,
        school=school,
        language=language or "",
        pool_id=pool_id,
        key_used=key_used,
        stored=bool(fresh),
        phone_sealed=bytes(phone) if phone is not None else None,
    )


# The campaign and the school as the read found them, one shell for each set of values a
# process: every request of the opening reads the same campaign and one of a few thousand
# schools. Shared by the threads, so read only (the rules and the answer only read them); a
# value changed by a write is a new key, a new shell.
@functools.lru_cache(maxsize=8)
def _campaign_shell(
    c_id: int,
    birth_from: dt.date,
    birth_to: dt.date,
    stage1: dt.datetime,
    stage2: dt.datetime,
    ends: dt.datetime,
    cancel_limit: int,
    ward_limit: int,
) -> Campaign:
    return shell(
        Campaign,
        id=c_id,
        birth_from=birth_from,
        birth_to=birth_to,
        stage1_starts_at=stage1,
        stage2_starts_at=stage2,
        registration_ends_at=ends,
        cancel_limit=cancel_limit,
        guardian_child_limit=ward_limit,
    )


@functools.lru_cache(maxsize=4096)
def _school_shell(school_id: int, name_ky: str, name_ru: str, name_uz: str, name_en: str) -> School:
    return shell(
        School, id=school_id, name_ky=name_ky, name_ru=name_ru, name_uz=name_uz, name_en=name_en
    )


class _Unread(enum.Enum):
    UNREAD = 0


UNREAD: Literal[_Unread.UNREAD] = _Unread.UNREAD


class SeatRefused(RuleViolation):
    """``no_free_seats`` from the statement, its refusal's audit row (§7) already written by
    the fast path (``_REFUSED``): the channel answers it and records nothing more."""

    def __init__(self) -> None:
        super().__init__("no_free_seats")


# A full pool's refusal, recorded as ``audit.refusals.audit_refusal`` records one (§7: the
# attempt, the child as the object, the draft's school and language) — unless a racer with
# this very Idempotency-Key took the last seat for the same request: then nothing is written
# and the ordinary path replays the racer's answer. One statement after the read (a pool full
# when read) or after the submit statement (a pool filled since): its own snapshot sees a racer
# that committed meanwhile. In place of a read of the key and an ORM insert (issue 15: a
# refusal is ~40 % of the opening minute).
_REFUSED = f"""
INSERT INTO audit_auditevent
    (at, actor_id, channel, action, object_type, object_id, data, request_id)
SELECT %(now)s, %(user_id)s, %(channel)s, '{REFUSED}', 'people.person', %(child)s,
       %(data)s::jsonb, %(request_id)s
 WHERE %(key)s::text IS NULL OR NOT EXISTS (
       SELECT 1 FROM enrollment_idempotencyrecord r
        WHERE r.user_id = %(user_id)s AND r.key = %(key)s::text)
RETURNING id
"""
assert "'" not in REFUSED and "%" not in REFUSED


# The refusals of a batch (ADR 0048): ``_REFUSED`` for each, in one statement — a refusal
# is ~40 % of the opening minute, and once the pools are full nearly every request is one.
# The key's check reads the statement's snapshot, as ``_REFUSED``'s does; the rows are
# written in the requests' order, and the statement returns the requests it wrote one for.
_REFUSED_BATCH_COLUMNS = (
    ("now", "timestamptz"), ("user_id", "bigint"), ("channel", "text"), ("child", "text"),
    ("data", "jsonb"), ("request_id", "text"), ("key", "text"),
)  # fmt: skip
_REFUSED_BATCH = compact_sql(
    """
WITH b AS ("""
    + _batch_rows(_REFUSED_BATCH_COLUMNS)
    + f"""), kept AS (
    SELECT b.* FROM b
     WHERE b.key IS NULL OR NOT EXISTS (
           SELECT 1 FROM enrollment_idempotencyrecord r
            WHERE r.user_id = b.user_id AND r.key = b.key)
), audit AS (
    INSERT INTO audit_auditevent
        (at, actor_id, channel, action, object_type, object_id, data, request_id)
    SELECT now, user_id, channel, '{REFUSED}', 'people.person', child, data, request_id
      FROM kept ORDER BY ord
)
SELECT ord FROM kept
"""
)


def _refusal_recorded(*, user: User, key: str | None, actor: Actor, request: SeatRequest) -> bool:
    """Write the refusal's audit row; ``False`` when this key's record exists (nothing written)."""
    data = refusal_data(
        code="no_free_seats",
        attempt="draft_submit",
        school=request.school_id,
        language=request.language,
    )
    params = {
        "now": clock.now(),
        "user_id": user.pk,
        "channel": actor.channel,
        "child": str(request.child_id),
        "data": data,
        "request_id": actor.request_id,
        "key": key,
    }
    return _REFUSALS(params) if _combining() else _refused_rows([params])[0]


def _refused_rows(items: Sequence[dict[str, Any]]) -> list[bool]:
    """For each refusal's parameters, whether its audit row was written: ``_REFUSED`` for one
    alone, ``_REFUSED_BATCH`` for a batch (ADR 0048)."""
    with _db().cursor() as cursor:
        if len(items) == 1:
            with _index_plan(cursor, "refused"):
                cursor.execute(
                    _REFUSED, bigints({**items[0], "data": json.dumps(items[0]["data"])})
                )
                return [cursor.fetchone() is not None]
        with _index_plan(cursor, "refused_batch"):
            cursor.execute(_REFUSED_BATCH, {"batch": _batch_json(items, _REFUSED_BATCH_COLUMNS)})
            kept = {ord_ for (ord_,) in cursor.fetchall()}
    return [n in kept for n in range(1, len(items) + 1)]


_REFUSALS: Combiner[dict[str, Any], bool] = Combiner(
    _refused_rows, limit=_BATCH_LIMIT, observe=batch_observer("refusal")
)


@registration_counted(committed=True)  # one statement in autocommit, or None (below)
def draft_submit_fast(
    *,
    user: User,
    child_id: int,
    key: str | None,
    fingerprint_payload: dict[str, Any],
    actor: Actor,
    respond: Callable[[NewRegistration, Abilities], dict[str, Any]],
    draft: DraftFacts | Literal[_Unread.UNREAD] | None = UNREAD,
    encode: Callable[[dict[str, Any]], str] | None = None,
) -> Registered | None:
    """Submit the draft of ``child_id``: the response body of the new registration, a raised
    ``no_free_seats`` (``SeatRefused``), or ``None`` — decide it on the ordinary path.
    ``respond`` builds the response body from the registration about to be written and the
    parent's abilities (``api.v1.serializers.registration_out``); it is stored as the
    idempotency record by the same statement. ``draft`` is the facts when the caller read them
    already (``token_draft_facts``, with the same ``key``).
    ``encode``: the caller's JSON encoder; the body is then encoded once, for the idempotency
    record and for the answer (``Registered.encoded``)."""
    db = _db()
    if db.vendor != "postgresql" or db.in_atomic_block or user.person_id is None:
        return None
    if draft is UNREAD:
        draft = draft_facts(user=user, child_id=child_id, key=key)
    if draft is None or draft.draft_id is None or draft.key_used:
        return None
    now = clock.now()
    verdict = decide(draft.facts, campaign_stage(draft.campaign, now))
    # §21: a representative's registration locks and counts on the ordinary path; any
    # refusal is told there, with its full explanation.
    representative = draft.facts.relation == Relation.REPRESENTATIVE
    if not verdict.allowed or verdict.route is None or representative:
        return None
    facts = draft
    assert facts.school is not None and facts.pool_id is not None
    decision, above_quota = verdict.route, verdict.above_quota
    request = SeatRequest(
        campaign_id=facts.campaign.pk,
        pool_id=facts.pool_id,
        school_id=facts.school.pk,
        language=facts.language,
        child_id=child_id,
        applicant_id=user.person_id,
        user_id=user.pk,
        route=decision,
        above_quota=above_quota,
    )
    if waitlist_needed(verdict, free_seats=facts.facts.free_seats):
        # The pool had no free seat when the facts were read, and the route takes one: the
        # statement's seat UPDATE would match no row, so the refusal is told without it — the
        # read and the refusal's audit row, two round trips (issue 15: a refusal is ~40 % of
        # the opening minute). A seat freed after the read is the next request's, as it would
        # be had this one come a moment earlier; a racer with this very key is still replayed.
        if not _refusal_recorded(user=user, key=key, actor=actor, request=request):
            return None
        raise SeatRefused()
    new = NewRegistration(
        id=time_ordered_uuid(),
        child=facts.child,
        school=facts.school,
        language=request.language,
        route=decision,
        above_quota=above_quota,
        at=now,
    )
    body = respond(
        new,
        abilities_of(
            status=Status.REGISTERED,
            cancellations=facts.facts.cancellations,
            cancel_limit=facts.facts.cancel_limit,
            applicant=True,
            own=True,
            relation=facts.facts.relation,
            act_accepted=facts.facts.act_accepted,
        ),
    )
    # The JSON is built once (issue 15): with a mark where the position goes, stored by the
    # statement with the position written in, and answered with the same text (ADR 0064).
    body["position"] = _ANSWER_MARK
    writer = encode if encode is not None and _stores(encode) else response_json
    stored = writer(body)
    note_id = time_ordered_uuid()
    params: dict[str, Any] = {
        "id": new.id,
        "campaign_id": request.campaign_id,
        "pool_id": request.pool_id,
        "school_id": request.school_id,
        "language": request.language,
        "child_id": child_id,
        "applicant_id": request.applicant_id,
        "user_id": user.pk,
        "route": decision,
        "above": above_quota,
        "extra": 1 if above_quota else 0,
        "channel": actor.channel,
        "request_id": actor.request_id,
        "now": now,
        "data": json.dumps(_audit_data(request)),
        "note_id": note_id,
        # Whether there is a number to send to, not the number: the phone is encrypted at rest
        # (ADR 0022) and stays out of the statement's parameters (a slow-statement log would
        # print them).
        "has_phone": facts.has_phone and facts.phone_sealed is not None,
        # The outbox's address is encrypted at rest like the phone it copies (ADR 0022): the
        # phone's own ciphertext, which decrypts to the same number with the same keys. Never
        # NULL: ``bytea`` and NULL are two parameter types, two prepared statements
        # (``bigints``); without a phone no outbox row is written and the value is unused.
        "address": facts.phone_sealed if facts.phone_sealed is not None else b"",
        "no_secret": _sealed_empty(tuple(settings.FERNET_KEYS)),
        "user_language": user.language,
        "note_body": _sms_body(user, facts, request.language),
        "mark": _POSITION_MARK,
        "draft_id": facts.draft_id,
        "key": key,
        "fingerprint": request_fingerprint(fingerprint_payload),
        "response": stored,
    }
    try:
        row = _submitted(params)
    except IntegrityError as exc:
        if not _no_seat(exc):
            return None  # a race on the child or the key: the ordinary path tells which
        row = None
    if row is None:
        # The pool filled since the read (nothing was written) — unless a racer with this key
        # took the last seat for this very request: then the ordinary path replays the racer's
        # answer (a new snapshot sees it).
        if not _refusal_recorded(user=user, key=key, actor=actor, request=request):
            return None
        raise SeatRefused()
    # The SMS is in the outbox, durable with the registration: the outbox drain
    # (``manage.py notifications_drain``) sends it; no task row, one commit (issue 15).
    registered = Registered(body, position=int(row[0]))
    if encode is not None:
        registered.encoded = (
            _with_position(stored, registered, encode) if writer is encode else encode(registered)
        )
    return registered


@dataclass(frozen=True, slots=True)
class NewRegistration:
    """The registration ``draft_submit_fast``'s statement is about to write, as its answer
    shows it (``respond``): a new ``registered`` application of ``child`` at ``school``, its
    position the statement's, created at ``at`` with its first transition (``'' →
    registered``) at the same moment. No model instance: the answer is all it is built for."""

    id: uuid.UUID
    child: Person
    school: School
    language: str
    route: str
    above_quota: bool
    at: dt.datetime


class Registered(dict[str, Any]):
    """The new registration's response body (a dict, as ``respond`` built it, with its
    position); ``encoded``: the same body as the caller's encoder wrote it, when it gave one."""

    encoded: str | None = None


def _with_position(
    encoded: str, registered: Registered, encode: Callable[[dict[str, Any]], str]
) -> str:
    """``encoded`` with the position written where its mark is: the mark's member, as the
    same encoder writes it, replaced by the position's. Inside a string value its quotes would
    be escaped, so only the member itself matches; should it not match exactly once, the body
    is encoded again — the registration is committed, its answer must not fail."""
    mark, key = _position_members(encode)
    position = registered["position"]
    if encoded.count(mark) != 1:
        return encode(registered)
    member = (
        key + str(position)
        if key is not None and type(position) is int
        else encode({"position": position})[1:-1]
    )
    return encoded.replace(mark, member)


def _stores(encode: Callable[[dict[str, Any]], str]) -> bool:
    """Whether the statement can write the position into what ``encode`` writes: its mark's
    member and the key before a number are the statement's (``_ANSWER_MEMBER``,
    ``_ANSWER_KEY``)."""
    return _position_members(encode) == (_ANSWER_MEMBER, _ANSWER_KEY)


@functools.lru_cache(maxsize=8)
def _position_members(encode: Callable[[dict[str, Any]], str]) -> tuple[str, str | None]:
    """The mark's member as ``encode`` writes it, and what it writes before a whole number
    (``"position": ``), derived once per encoder: a JSON number is its decimal digits. ``None``
    when the encoder writes a number some other way (then the member is encoded each time)."""
    mark = encode({"position": _ANSWER_MARK})[1:-1]
    zero, seven = encode({"position": 0})[1:-1], encode({"position": 70})[1:-1]
    key = zero[:-1] if zero.endswith("0") and seven == zero[:-1] + "70" else None
    return mark, key


def _sms_body(user: User, facts: DraftFacts, language: str) -> str:
    """``services.notify_application``'s text, with a mark where the position goes: the same
    message, school name and class language (``language``, the class's) in the parent's
    language (``render``)."""
    template, class_language = _sms_words(user.language, language)
    return template % {
        "child": f"{facts.child.name} {facts.child.surname}",
        "school": localized_name(facts.school, language=user.language),
        "language": class_language,
        "position": _POSITION_MARK,
    }


@functools.lru_cache(maxsize=64)
def _sms_words(language: str, class_language: str) -> tuple[str, str]:
    """The registration's SMS template and the class language's name in ``language``, once
    per process (the catalogs are loaded at start): two translation activations per
    registration fewer."""
    with translation.override(language):
        return (
            str(MESSAGES["application_registered"]),
            str(Language(class_language).label),
        )
