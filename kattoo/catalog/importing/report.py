"""What an import says back: the counts of each kind, and the problems that refused a file."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from kattoo.core.errors import FieldError

from .file_format import FORMAT, KIND_LABELS, KINDS

_ROW = re.compile(r"(\w+)\[([0-9]+)\]")


@dataclass(slots=True)
class KindCount:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0


@dataclass(frozen=True, slots=True)
class ImportProblem:
    """One bad field: ``field`` is a path into the file ("schools[3].district"); ``line`` is
    the CSV line the row came from, when it came from a CSV file."""

    field: str
    code: str
    message: str
    line: int | None = None

    def describe(self) -> str:
        if self.line is None:
            return f"{self.field}: {self.message}"
        return _("line %(line)d, %(field)s: %(message)s") % {
            "line": self.line,
            "field": self.field,
            "message": self.message,
        }


class CatalogImportError(FieldError):
    """The file was refused; nothing was written. Names the first problem, holds them all."""

    def __init__(self, problems: Sequence[ImportProblem]) -> None:
        if not problems:
            raise ValueError("CatalogImportError needs at least one problem")
        first = problems[0]
        super().__init__(first.field, first.code, first.message)
        self.problems = list(problems)
        self.line = first.line


# What became of a teacher row (§24): joined the roster, was on it already, waits for the
# district (the roster is frozen since the quota lock), or refused by the registry check.
TEACHER_OUTCOMES = ("added", "on_roster", "pending", "refused")


@dataclass(frozen=True, slots=True)
class TeacherOutcome:
    """A teacher row that did not simply join the roster or was not on it already: ``code``
    says why ("addition_pending", "person_not_found", "teacher_not_adult", "not_checked"),
    ``message`` in the uploader's language. No PIN: the row's path and line name it."""

    field: str
    line: int | None
    school: str
    outcome: str
    code: str
    message: str

    def describe(self) -> str:
        where = self.field if self.line is None else f"{self.line}: {self.field}"
        return f"{where} ({self.school}): {self.message}"


@dataclass(slots=True)
class ImportReport:
    counts: dict[str, KindCount] = field(default_factory=lambda: {k: KindCount() for k in KINDS})
    campaign: str = ""
    errors: list[ImportProblem] = field(default_factory=list)
    dry_run: bool = False
    # The codes of the schools whose data the file carries (its school and class-set rows):
    # their quotas are computed or recomputed after the import (kattoo.quotas.automatic).
    school_codes: list[str] = field(default_factory=list)
    # §24: how many teacher rows had each outcome, and the rows that were not simply added.
    teacher_counts: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys(TEACHER_OUTCOMES, 0)
    )
    teachers: list[TeacherOutcome] = field(default_factory=list)

    def teacher_counted(self, outcome: str) -> None:
        self.teacher_counts[outcome] += 1

    def teacher_outcome(self, row: dict[str, Any], outcome: str, code: str, message: str) -> None:
        self.teacher_counted(outcome)
        self.teachers.append(
            TeacherOutcome(row["_path"], row["_line"], row["school"], outcome, code, message)
        )

    def teachers_as_dict(self) -> dict[str, Any]:
        return {
            "counts": dict(self.teacher_counts),
            "rows": [asdict(t) for t in self.teachers],
        }

    def refused(self) -> dict[str, int]:
        """How many rows of each kind have a problem (a refused file is refused whole), and
        how many teacher rows the registry check refused (§24: the rest is imported)."""
        rows: dict[str, set[str]] = {}
        for problem in self.errors:
            match = _ROW.match(problem.field)
            if match is not None and match.group(1) in self.counts:
                rows.setdefault(match.group(1), set()).add(match.group(2))
        for outcome in self.teachers:
            match = _ROW.match(outcome.field)
            if outcome.outcome == "refused" and match is not None:
                rows.setdefault("teachers", set()).add(match.group(2))
        return {kind: len(rows.get(kind, ())) for kind in self.counts}

    def as_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "campaign": self.campaign,
            "dry_run": self.dry_run,
            "counts": {kind: asdict(c) for kind, c in self.counts.items()},
            "errors": [
                {"field": e.field, "code": e.code, "message": e.message, "line": e.line}
                for e in self.errors
            ],
            "teachers": self.teachers_as_dict(),
        }

    def lines(self) -> list[str]:
        """The report as translated sentences, one per kind present in the file."""
        out: list[str] = []
        for kind, c in self.counts.items():
            if not (c.created or c.updated or c.unchanged or c.deleted):
                continue
            out.append(
                _(
                    "%(kind)s: %(created)d created, %(updated)d updated, "
                    "%(unchanged)d unchanged, %(deleted)d deleted"
                )
                % {"kind": KIND_LABELS[kind], **asdict(c)}
            )
        if self.campaign:
            out.append(_("class-sets are for campaign %(year)s") % {"year": self.campaign})
        if any(self.teacher_counts.values()):
            out.append(
                _(
                    "teacher roster: %(added)d added, %(on_roster)d already on it, %(pending)d "
                    "waiting for the district office, %(refused)d refused by the registry check"
                )
                % self.teacher_counts
            )
        return out
