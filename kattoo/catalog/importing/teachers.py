"""The teacher rows of a catalog file (§24) go through the roster's own service, as a teacher
added one by one does: each new PIN checked with the registry (an adult person the registry
knows), and from the quota lock on an addition waits for the district's approval instead of
joining the frozen roster. The file's own ``full_name`` is not trusted: the name is the
registry's.

The registry is asked before the import's transaction (``teachers_precheck``), once per PIN
not yet on the roster of the school the row names; an outage refuses the whole file, so no
teacher ever joins unchecked. Each row's outcome is reported (``TeacherOutcome``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext as _

from kattoo.campaigns.models import Campaign
from kattoo.catalog.models import AdditionStatus, RosterChangeKind, Teacher, TeacherAddition
from kattoo.catalog.services import (
    TeacherCheck,
    teacher_roster_add,
    teacher_roster_campaign,
    teachers_check,
)
from kattoo.core.actors import Actor
from kattoo.core.errors import ERRORS, RuleViolation
from kattoo.integrations.registry.pin import pin_is_valid

from .batches import chunks
from .checking import Row
from .report import CatalogImportError, ImportProblem, ImportReport

TeacherChecks = Mapping[str, TeacherCheck]


def _text(value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)  # a spreadsheet turned the code into a number
    return value.strip() if isinstance(value, str) else ""


def _on_roster(pairs: set[tuple[str, str]]) -> set[tuple[str, str]]:
    """The (school code, PIN) pairs already on a roster or waiting for the district."""
    pins = sorted({pin for _school, pin in pairs})
    known: set[tuple[str, str]] = set()
    for chunk in chunks(pins):
        known.update(Teacher.objects.filter(pin__in=chunk).values_list("school__code", "pin"))
        known.update(
            TeacherAddition.objects.filter(
                pin__in=chunk, status=AdditionStatus.PENDING, kind=RosterChangeKind.ADD
            ).values_list("school__code", "pin")
        )
    return known & pairs


def teachers_precheck(data: Any, *, actor: Actor) -> dict[str, TeacherCheck]:
    """The registry's verdict on each PIN of the file's teacher rows that is not on the named
    school's roster yet. Call it before the import's transaction. Rows too broken to name a
    PIN are left to the file check, which refuses them. A registry outage raises
    ``CatalogImportError`` (field "teachers"): the file is refused whole, nothing changes."""
    rows = data.get("teachers") if isinstance(data, dict) else None
    if not isinstance(rows, list):
        return {}
    pairs = {
        (_text(raw.get("school")), _text(raw.get("pin")))
        for raw in rows
        if isinstance(raw, dict) and pin_is_valid(_text(raw.get("pin")))
    }
    new = pairs - _on_roster(pairs)
    if not new:
        return {}
    try:
        return teachers_check(pins=sorted({pin for _school, pin in new}), actor=actor)
    except RuleViolation as exc:
        message = (
            _(
                "The state registry (Tunduk) did not answer, so the teachers could not be "
                "checked. The file was not imported; nothing was changed. Please try again "
                "later."
            )
            if exc.code == "registry_unavailable"
            else _(
                "The state registry (Tunduk) refused to check the teachers' PINs. The file "
                "was not imported; nothing was changed."
            )
        )
        raise CatalogImportError([ImportProblem("teachers", exc.code, message)]) from exc


def teachers_write(
    rows: list[Row],
    school_ids: Mapping[str, int],
    checks: TeacherChecks,
    report: ImportReport,
    *,
    actor: Actor,
) -> set[int]:
    """Each teacher row through ``teacher_roster_add`` (inside the import's transaction), its
    outcome counted and, unless it simply joined or was already there, reported. Returns the
    schools a teacher joined (their drafts' stored facts are stale: the caller touches them
    once, not once per teacher)."""
    campaign: Campaign | None = teacher_roster_campaign()
    count = report.counts["teachers"]
    wanted = {(school_ids[row["school"]], row["pin"]) for row in rows}
    ids = sorted({school_id for school_id, _pin in wanted})
    on_roster: set[tuple[int, str]] = set()
    pending: set[tuple[int, str]] = set()
    joined: set[int] = set()
    for chunk in chunks(ids):
        on_roster.update(
            Teacher.objects.filter(school_id__in=chunk).values_list("school_id", "pin")
        )
        pending.update(
            TeacherAddition.objects.filter(
                school_id__in=chunk, status=AdditionStatus.PENDING, kind=RosterChangeKind.ADD
            ).values_list("school_id", "pin")
        )
    for row in rows:
        school_id, pin = school_ids[row["school"]], row["pin"]
        if (school_id, pin) in on_roster:
            count.unchanged += 1
            report.teacher_counted("on_roster")
            continue
        if (school_id, pin) in pending:
            report.teacher_outcome(row, "pending", "addition_pending", _pending_message())
            continue
        check = checks.get(pin)
        if check is None:
            # Not on the roster when the registry was asked, gone since: not checked.
            report.teacher_outcome(
                row,
                "refused",
                "not_checked",
                _("This teacher could not be checked with the registry; upload the file again."),
            )
            continue
        if check.refusal:
            report.teacher_outcome(row, "refused", check.refusal, str(ERRORS[check.refusal][1]))
            continue
        added = teacher_roster_add(
            school_id=school_id,
            check=check,
            campaign=campaign,
            actor=actor,
            source="import",
            touch=False,
        )
        if isinstance(added, Teacher):
            count.created += 1
            joined.add(school_id)
            report.teacher_counted("added")
        else:
            report.teacher_outcome(row, "pending", "addition_pending", _pending_message())
    return joined


def _pending_message() -> str:
    return _(
        "The roster is frozen since the quota lock: the addition waits for the district "
        "office's approval."
    )
