"""Seat allocation that cannot overbook.

On PostgreSQL a registration is ONE statement: a conditional ``UPDATE … WHERE taken <
capacity`` on the pool feeds the INSERT of the application, its first history row and its
audit row (data-modifying CTEs). Either all of it happens or none: a full pool returns no
row, a second active registration of the same child violates the partial unique index and
rolls the whole statement back — including the seat. The row lock the UPDATE takes on the
pool serialises racers for that one pool only. The CHECK constraint ``taken <= capacity``
stands behind it all.

SQLite (the embedded default) has no data-modifying CTEs; there the same steps run as
separate statements inside one IMMEDIATE transaction, which SQLite serialises as a whole.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import F

from kattoo.audit.models import AuditEvent
from kattoo.core.actors import Actor
from kattoo.core.errors import RuleViolation
from kattoo.core.ids import time_ordered_uuid
from kattoo.core.sql import bigints

from .models import Application, ApplicationTransition, SeatPool, Status

ONE_ACTIVE_CONSTRAINT = "one_active_application_per_child"


@dataclass(frozen=True, slots=True)
class SeatRequest:
    campaign_id: int
    pool_id: int
    school_id: int
    language: str
    child_id: int
    applicant_id: int
    user_id: int
    route: str
    # §24, §25, §9: an above-quota seat raises the pool's capacity by exactly one.
    above_quota: bool


@dataclass(frozen=True, slots=True)
class SeatGranted:
    application_id: uuid.UUID
    position: int
    created_at: dt.datetime


# The statement's parts, shared by the ordinary path's ``_PG_REGISTER`` and the opening
# minute's ``fastpath._SUBMIT``, which orders them differently (ADR 0032), and — the rows'
# INSERTs, their values as a batch's columns (``column``) — by ``fastpath._SUBMIT_BATCH``
# (ADR 0048): one source of the seat's, the application's, the history's and the audit's SQL.


def seat_cte(*, after: tuple[str, ...] = ()) -> str:
    """The seat: the pool's conditional UPDATE, whose row lock is held until the commit.
    ``after`` names earlier CTEs (each with ``RETURNING``) that must have run before the lock
    is taken: each is counted in the UPDATE's condition, an uncorrelated subquery — an
    InitPlan that PostgreSQL runs, to completion, before the pool's row is fetched."""
    first = "".join(f"       AND (SELECT count(*) FROM {name}) >= 0\n" for name in after)
    return (
        """seat AS (
    UPDATE enrollment_seatpool
       SET taken = taken + 1,
           extra_seats = extra_seats + %(extra)s,
           capacity = capacity + %(extra)s,
           accepted_count = accepted_count + 1
     WHERE id = %(pool_id)s AND (%(extra)s = 1 OR taken + held < capacity)  -- waitlist: held seats
"""
        + first
        + """ RETURNING accepted_count
)"""
    )


# ``value`` (``param`` or ``column``) writes the statement's own values: one text of each row's
# INSERT for a registration alone and for a batch of them.
def param(name: str, cast: str = "") -> str:
    """A value of the statement's parameters: ``%(name)s``, with its cast when it needs one."""
    return f"%({name})s::{cast}" if cast else f"%({name})s"


def column(name: str, cast: str = "") -> str:
    """The same value as a column of a batch's rows (``fastpath._SUBMIT_BATCH``, ADR 0048),
    whose type the batch gave it when it read it."""
    return name


def application_cte(
    *,
    position: str,
    source: str,
    value: Callable[..., str] = param,
    returning: str = "\n RETURNING id, position",
) -> str:
    """The application, at ``position`` (an expression over ``source``, its FROM clause)."""
    v = value
    return (
        f"""app AS (
    INSERT INTO enrollment_application
        (id, campaign_id, child_id, applicant_id, user_id, school_id, language, pool_id,
         status, route, above_quota, position, channel, created_at, status_changed_at)
    SELECT {v("id")}, {v("campaign_id")}, {v("child_id")}, {v("applicant_id")}, {v("user_id")}, \
{v("school_id")},
           {v("language")}, {v("pool_id")}, 'registered', {v("route")}, {v("above")}, """
        + position
        + f""",
           {v("channel")}, {v("now")}, {v("now")}"""
        + source
        + returning
        + """
)"""
    )


def history_cte(
    *, application: str, source: str = "", returning: str = "", value: Callable[..., str] = param
) -> str:
    """The application's first history row: its id is ``application`` (over ``source``)."""
    return (
        """history AS (
    INSERT INTO enrollment_applicationtransition
        (application_id, from_status, to_status, at, actor_id, reason, reason_code)
    SELECT """
        + application
        + f""", '', 'registered', {value("now")}, {value("user_id")}, '', ''"""
        + source
        + returning
        + """
)"""
    )


def audit_cte(*, row: str = "app.", source: str = "app", value: Callable[..., str] = param) -> str:
    """The registration's audit event, with its position in its data: of the application
    ``row`` (``app.``, the CTE's, or a batch's columns), read ``FROM source``."""
    v = value
    return f"""audit AS (
    INSERT INTO audit_auditevent
        (at, actor_id, channel, action, object_type, object_id, data, request_id)
    SELECT {v("now")}, {v("user_id")}, {v("channel")}, 'application.register', \
'enrollment.application',
           {row}id::text, jsonb_set({v("data")}::jsonb, '{{position}}', to_jsonb({row}position)),
           {v("request_id")}
      FROM {source}
)"""


_PG_REGISTER = (
    "\nWITH "
    + seat_cte()
    + ", "
    + application_cte(position="seat.accepted_count", source="\n      FROM seat")
    + ", "
    + history_cte(application="id", source=" FROM app")
    + ", "
    + audit_cte()
    + "\nSELECT position FROM app\n"
)


def _audit_data(request: SeatRequest) -> dict[str, object]:
    return {
        "child": request.child_id,
        "school": request.school_id,
        "language": request.language,
        "route": request.route,
        "above_quota": request.above_quota,
    }


def seat_take(request: SeatRequest, *, actor: Actor, now: dt.datetime) -> SeatGranted:
    """Take a seat and create the registration, or raise ``no_free_seats`` /
    ``already_registered``. Must run inside a transaction (the caller's service)."""
    # No savepoint of its own: a failure here fails the caller's transaction as a whole,
    # which is what must happen, and saves two round trips on the hot path.
    if not connection.in_atomic_block:
        raise transaction.TransactionManagementError("seat_take runs inside a transaction")
    application_id = time_ordered_uuid()
    try:
        if connection.vendor == "postgresql":
            position = _take_postgresql(request, application_id, actor=actor, now=now)
        else:
            position = _take_portable(request, application_id, actor=actor, now=now)
    except IntegrityError as exc:
        if ONE_ACTIVE_CONSTRAINT in str(exc):
            raise RuleViolation("already_registered") from exc
        raise
    if position is None:
        raise RuleViolation("no_free_seats")
    return SeatGranted(application_id=application_id, position=position, created_at=now)


def seat_take_by_decision(request: SeatRequest, *, actor: Actor, now: dt.datetime) -> SeatGranted:
    """A placement by a commission decision (§9, §26): a quota seat when one is free, else a
    seat above the quota — the decision places the child either way."""
    try:
        with transaction.atomic():  # a savepoint: the refused attempt leaves nothing behind
            return seat_take(request, actor=actor, now=now)
    except RuleViolation as exc:
        if exc.code != "no_free_seats":
            raise
    return seat_take(replace(request, above_quota=True), actor=actor, now=now)


def _take_postgresql(
    request: SeatRequest, application_id: uuid.UUID, *, actor: Actor, now: dt.datetime
) -> int | None:
    params: dict[str, Any] = {
        "id": application_id,
        "campaign_id": request.campaign_id,
        "pool_id": request.pool_id,
        "school_id": request.school_id,
        "language": request.language,
        "child_id": request.child_id,
        "applicant_id": request.applicant_id,
        "user_id": request.user_id,
        "route": request.route,
        "above": request.above_quota,
        "extra": 1 if request.above_quota else 0,
        "channel": actor.channel,
        "request_id": actor.request_id,
        "now": now,
        "data": json.dumps(_audit_data(request)),
    }
    with connection.cursor() as cursor:
        cursor.execute(_PG_REGISTER, bigints(params))
        row = cursor.fetchone()
    return None if row is None else int(row[0])


def _take_portable(
    request: SeatRequest, application_id: uuid.UUID, *, actor: Actor, now: dt.datetime
) -> int | None:
    extra = 1 if request.above_quota else 0
    pools = SeatPool.objects.filter(pk=request.pool_id)
    if not request.above_quota:
        pools = pools.filter(taken__lt=F("capacity") - F("held"))  # waitlist: held seats
    updated = pools.update(
        taken=F("taken") + 1,
        extra_seats=F("extra_seats") + extra,
        capacity=F("capacity") + extra,
        accepted_count=F("accepted_count") + 1,
    )
    if not updated:
        return None
    position = SeatPool.objects.values_list("accepted_count", flat=True).get(pk=request.pool_id)
    Application.objects.create(
        id=application_id,
        campaign_id=request.campaign_id,
        child_id=request.child_id,
        applicant_id=request.applicant_id,
        user_id=request.user_id,
        school_id=request.school_id,
        language=request.language,
        pool_id=request.pool_id,
        status=Status.REGISTERED,
        route=request.route,
        above_quota=request.above_quota,
        position=position,
        channel=actor.channel,
        created_at=now,
        status_changed_at=now,
    )
    ApplicationTransition.objects.create(
        application_id=application_id,
        from_status="",
        to_status=Status.REGISTERED,
        at=now,
        actor_id=request.user_id,
    )
    AuditEvent.objects.create(
        at=now,
        actor_id=request.user_id,
        channel=actor.channel,
        action="application.register",
        object_type="enrollment.application",
        object_id=str(application_id),
        data={**_audit_data(request), "position": position},
        request_id=actor.request_id,
    )
    return position


def seat_release(application: Application) -> None:
    """Give the seat back (cancel, refusal). An above-quota seat disappears with its child:
    the capacity it raised falls by one again."""
    extra = 1 if application.above_quota else 0
    SeatPool.objects.filter(pk=application.pool_id).update(
        taken=F("taken") - 1,
        extra_seats=F("extra_seats") - extra,
        capacity=F("capacity") - extra,
    )


def seat_retake(application: Application) -> bool:
    """Take the seat of a refused registration again (the district reinstates it on appeal,
    §17, §22). The same conditional UPDATE as a registration: an ordinary seat only while one
    is free (held waitlist offers count as taken); an above-quota seat (§24, §25, §9) raises
    the capacity by one again, as it did the first time. ``accepted_count`` is not touched:
    the registration keeps its position."""
    pools = SeatPool.objects.filter(pk=application.pool_id)
    extra = 1 if application.above_quota else 0
    if not application.above_quota:
        pools = pools.filter(taken__lt=F("capacity") - F("held"))
    return bool(
        pools.update(
            taken=F("taken") + 1,
            extra_seats=F("extra_seats") + extra,
            capacity=F("capacity") + extra,
        )
    )
